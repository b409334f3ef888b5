"""Edge, messaging and data-service resources planted in moto through boto3, one done wrong
and one done right per kind, for the collection tests of those specs."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"


def _client(service: str, endpoint: str | None) -> Any:
    kw = {"endpoint_url": endpoint} if endpoint else {}
    return boto3.client(service, region_name=REGION, **kw)


def public_policy(arn: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Open",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": action,
                    "Resource": arn,
                }
            ],
        }
    )


def plant_load_balancers(endpoint: str | None = None) -> dict[str, str]:
    ec2 = _client("ec2", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elbv2 = _client("elbv2", endpoint)
    acm = _client("acm", endpoint)
    cert = acm.request_certificate(DomainName="shop.example.jp")["CertificateArn"]
    arns: dict[str, str] = {}
    for name, right in (("legacy-alb", False), ("shop-alb", True)):
        lb = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application")[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        arns[name] = lb
        group = elbv2.create_target_group(
            Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        forward = [{"Type": "forward", "TargetGroupArn": group}]
        redirect = [
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ]
        elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=redirect if right else forward,
        )
        elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTPS",
            Port=443,
            Certificates=[{"CertificateArn": cert}],
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06"
            if right
            else "ELBSecurityPolicy-2016-08",
            DefaultActions=forward,
        )
        if right:
            elbv2.modify_load_balancer_attributes(
                LoadBalancerArn=lb,
                Attributes=[
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": "shop-elb-logs"},
                    {"Key": "deletion_protection.enabled", "Value": "true"},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                ],
            )
    elb = _client("elb", endpoint)
    https = {
        "Protocol": "HTTPS",
        "LoadBalancerPort": 443,
        "InstanceProtocol": "HTTP",
        "InstancePort": 80,
        "SSLCertificateId": cert,
    }
    plain = {
        "Protocol": "HTTP",
        "LoadBalancerPort": 80,
        "InstanceProtocol": "HTTP",
        "InstancePort": 80,
    }
    for name, right in (("legacy-clb", False), ("shop-clb", True)):
        elb.create_load_balancer(
            LoadBalancerName=name,
            Listeners=[https] if right else [plain, https],
            AvailabilityZones=[f"{REGION}a"],
        )
        if right:
            elb.modify_load_balancer_attributes(
                LoadBalancerName=name,
                LoadBalancerAttributes={
                    "CrossZoneLoadBalancing": {"Enabled": True},
                    "AccessLog": {
                        "Enabled": True,
                        "S3BucketName": "shop-elb-logs",
                        "EmitInterval": 60,
                    },
                },
            )
        policy = "tls12-only" if right else "old-tls"
        elb.create_load_balancer_policy(
            LoadBalancerName=name,
            PolicyName=policy,
            PolicyTypeName="SSLNegotiationPolicyType",
            PolicyAttributes=[
                {
                    "AttributeName": "Reference-Security-Policy",
                    "AttributeValue": "ELBSecurityPolicy-TLS-1-2-2017-01"
                    if right
                    else "ELBSecurityPolicy-2016-08",
                }
            ],
        )
        elb.set_load_balancer_policies_of_listener(
            LoadBalancerName=name, LoadBalancerPort=443, PolicyNames=[policy]
        )
    return arns


def plant_cloudfront(endpoint: str | None = None) -> dict[str, str]:
    cloudfront = _client("cloudfront", endpoint)
    out: dict[str, str] = {}
    for name, right in (("legacy-site", False), ("shop-site", True)):
        origin: dict[str, Any] = {
            "Id": "assets",
            "DomainName": f"{name}-assets.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        if right:
            oac = cloudfront.create_origin_access_control(
                OriginAccessControlConfig={
                    "Name": f"{name}-oac",
                    "SigningProtocol": "sigv4",
                    "SigningBehavior": "always",
                    "OriginAccessControlOriginType": "s3",
                }
            )["OriginAccessControl"]["Id"]
            origin["OriginAccessControlId"] = oac
        api_origin = {
            "Id": "api",
            "DomainName": f"api.{name}.example.jp",
            "CustomOriginConfig": {
                "HTTPPort": 80,
                "HTTPSPort": 443,
                "OriginProtocolPolicy": "https-only" if right else "http-only",
                "OriginSslProtocols": {
                    "Quantity": 1,
                    "Items": ["TLSv1.2"] if right else ["TLSv1"],
                },
            },
        }
        origins = [origin, api_origin]
        if not right:  # HTTPS to the origin, but TLSv1 still allowed
            origins.append(
                {
                    "Id": "partner",
                    "DomainName": "partner.example.jp",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                        "OriginSslProtocols": {"Quantity": 2, "Items": ["TLSv1", "TLSv1.2"]},
                    },
                }
            )
        config: dict[str, Any] = {
            "CallerReference": name,
            "Comment": name,
            "Enabled": True,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": {
                "TargetOriginId": "assets",
                "ViewerProtocolPolicy": "redirect-to-https" if right else "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
            "ViewerCertificate": {
                "ACMCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{name}",
                "SSLSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021" if right else "TLSv1_2016",
            },
        }
        if right:
            config["Logging"] = {
                "Enabled": True,
                "IncludeCookies": False,
                "Bucket": "shop-cf-logs.s3.amazonaws.com",
                "Prefix": "cf/",
            }
            config["WebACLId"] = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/shop/0000-1111"
        out[name] = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    return out


def plant_api_gateway(endpoint: str | None = None) -> dict[str, str]:
    apigw = _client("apigateway", endpoint)
    logs_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:api-access"
    out: dict[str, str] = {}
    for name, right in (("legacy-api", False), ("orders-api", True)):
        api = apigw.create_rest_api(name=name)["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        deployment = apigw.create_deployment(restApiId=api)["id"]
        apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment)
        if right:
            apigw.update_stage(
                restApiId=api,
                stageName="prod",
                patchOperations=[
                    {
                        "op": "replace",
                        "path": "/accessLogSettings/destinationArn",
                        "value": logs_arn,
                    },
                    {
                        "op": "replace",
                        "path": "/accessLogSettings/format",
                        "value": "$context.requestId",
                    },
                    {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
                    {"op": "replace", "path": "/clientCertificateId", "value": "abc123"},
                ],
            )
        out[name] = api
        apigw.create_domain_name(
            domainName=f"{name}.example.jp",
            regionalCertificateArn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{name}",
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2" if right else "TLS_1_0",
        )
    v2 = _client("apigatewayv2", endpoint)
    for name, right in (("legacy-ws", False), ("chat-ws", True)):
        api = v2.create_api(
            Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
        )["ApiId"]
        out[name] = api
        if right:
            authorizer = v2.create_authorizer(
                ApiId=api,
                AuthorizerType="REQUEST",
                IdentitySource=["route.request.header.Auth"],
                Name="connect",
                AuthorizerUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:authorize/invocations",
            )["AuthorizerId"]
            v2.create_route(
                ApiId=api, RouteKey="$connect", AuthorizationType="CUSTOM", AuthorizerId=authorizer
            )
        else:
            v2.create_route(ApiId=api, RouteKey="$connect")
        v2.create_stage(
            ApiId=api,
            StageName="prod",
            DefaultRouteSettings={"LoggingLevel": "ERROR" if right else "OFF"},
            AccessLogSettings={"DestinationArn": logs_arn, "Format": "$context.requestId"},
        )
    for name, right in (("legacy-http", False), ("orders-http", True)):
        api = v2.create_api(Name=name, ProtocolType="HTTP")["ApiId"]
        out[name] = api
        if right:
            authorizer = v2.create_authorizer(
                ApiId=api,
                AuthorizerType="JWT",
                IdentitySource=["$request.header.Authorization"],
                Name="jwt",
                JwtConfiguration={"Audience": ["orders"], "Issuer": "https://id.example.jp"},
            )["AuthorizerId"]
            v2.create_route(
                ApiId=api, RouteKey="GET /orders", AuthorizationType="JWT", AuthorizerId=authorizer
            )
            v2.create_stage(
                ApiId=api,
                StageName="$default",
                AccessLogSettings={"DestinationArn": logs_arn, "Format": "$context.requestId"},
            )
        else:
            v2.create_route(ApiId=api, RouteKey="GET /orders")
            v2.create_stage(ApiId=api, StageName="$default")
        v2.create_domain_name(
            DomainName=f"{name}.example.jp",
            DomainNameConfigurations=[
                {
                    "CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{name}",
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2" if right else "TLS_1_0",
                }
            ],
        )
    return out


def plant_messaging(endpoint: str | None = None) -> dict[str, str]:
    sns = _client("sns", endpoint)
    sqs = _client("sqs", endpoint)
    secrets = _client("secretsmanager", endpoint)
    kms = _client("kms", endpoint)
    key = kms.create_key(Description="messaging")["KeyMetadata"]["Arn"]
    out: dict[str, str] = {"key": key}
    legacy = sns.create_topic(Name="legacy-alerts")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=legacy, AttributeName="Policy", AttributeValue=public_policy(legacy, "SNS:Publish")
    )
    sns.subscribe(TopicArn=legacy, Protocol="http", Endpoint="http://hooks.example.jp/alerts")
    orders = sns.create_topic(Name="order-events", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    sns.subscribe(TopicArn=orders, Protocol="https", Endpoint="https://hooks.example.jp/orders")
    out.update(legacy_topic=legacy, orders_topic=orders)
    legacy_q = sqs.create_queue(
        QueueName="legacy-jobs", Attributes={"SqsManagedSseEnabled": "false"}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=legacy_q, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=legacy_q, Attributes={"Policy": public_policy(arn, "sqs:SendMessage")}
    )
    orders_q = sqs.create_queue(QueueName="order-jobs", Attributes={"KmsMasterKeyId": key})[
        "QueueUrl"
    ]
    out.update(legacy_queue=legacy_q, orders_queue=orders_q)
    secrets.create_secret(Name="legacy/db-password", SecretString="not-a-secret")
    rotated = secrets.create_secret(
        Name="orders/db-password", SecretString="not-a-secret", KmsKeyId=key
    )["ARN"]
    lambda_arn = _rotation_function(endpoint)
    secrets.rotate_secret(
        SecretId=rotated,
        RotationLambdaARN=lambda_arn,
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    return out


def _rotation_function(endpoint: str | None) -> str:
    """moto checks that the rotation function exists; it is never invoked here."""
    iam = _client("iam", endpoint)
    role = iam.create_role(
        RoleName="secrets-rotation",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    function = _client("lambda", endpoint).create_function(
        FunctionName="rotate-db-password",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return str(function["FunctionArn"])


def plant_data(endpoint: str | None = None) -> dict[str, str]:
    dynamodb = _client("dynamodb", endpoint)
    kms = _client("kms", endpoint)
    key = kms.create_key(Description="tables")["KeyMetadata"]["Arn"]
    table = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    dynamodb.create_table(TableName="legacy-sessions", **table)
    dynamodb.create_table(
        TableName="orders",
        DeletionProtectionEnabled=True,
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        **table,
    )
    dynamodb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    backup = _client("backup", endpoint)
    backup.create_backup_vault(BackupVaultName="legacy-vault")
    backup.create_backup_vault(BackupVaultName="orders-vault")
    backup.put_backup_vault_lock_configuration(BackupVaultName="orders-vault", MinRetentionDays=7)
    for name, right in (("legacy-plan", False), ("orders-plan", True)):
        rule: dict[str, Any] = {
            "RuleName": "daily",
            "TargetBackupVaultName": "orders-vault",
            "ScheduleExpression": "cron(0 3 * * ? *)",
        }
        if right:
            rule["Lifecycle"] = {"DeleteAfterDays": 35}
        backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [rule]})
    dax = _client("dax", endpoint)
    role = _client("iam", endpoint).create_role(
        RoleName="dax-access",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "dax.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    for name, right in (("legacy-cache", False), ("orders-cache", True)):
        dax.create_cluster(
            ClusterName=name,
            NodeType="dax.t3.small",
            ReplicationFactor=1,
            IamRoleArn=role,
            SSESpecification={"Enabled": right},
            ClusterEndpointEncryptionType="TLS" if right else "NONE",
        )
    return {"key": key}
