"""Web front ends, messaging and data services: one resource done wrong, one done right.

Planted in the home region (CloudFront is global): Application and Classic Load Balancers,
CloudFront distributions, API Gateway REST and HTTP APIs, SNS topics, SQS queues, Secrets
Manager secrets, DynamoDB tables and AWS Backup plans. Only the access-log settings map to a
CIS AWS v7.0 control (4.10); the other kinds are listed with no control, so the manifest
names them while ``tests/demo`` judges them policy by policy.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from posture.demo.common import COMPANY, PlantContext, policy_json
from posture.demo.estate_network import RegionNetwork
from posture.demo.manifest import Planted, Verdict

ALB, CLB = "aws.elbv2.load_balancer", "aws.elb.load_balancer"
DISTRIBUTION, REST_API, HTTP_API = (
    "aws.cloudfront.distribution",
    "aws.apigateway.rest_api",
    "aws.apigatewayv2.api",
)
TOPIC, QUEUE, SECRET = "aws.sns.topic", "aws.sqs.queue", "aws.secretsmanager.secret"
TABLE, BACKUP_PLAN = "aws.dynamodb.table", "aws.backup.plan"
ACCESS_LOGS = ("4.10",)
TWINS: tuple[tuple[str, bool], ...] = (("legacy", False), ("prod", True))
GAPS = (
    "AWS Backup vaults are not planted: moto answers GetBackupVaultAccessPolicy with "
    "'Not yet implemented', which would fail the vault scope; vault lock and vault policy "
    "are covered by the collection tests.",
    "CloudFront on moto reports the default certificate and drops S3 origin access settings, "
    "so the viewer TLS minimum and S3 origin access policies are not exercised by the demo.",
)


def _verdict(right: bool) -> Verdict:
    return "good" if right else "bad"


def _trust(service: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def plant_edge(ctx: PlantContext, net: RegionNetwork) -> Planted:
    """Every kind of this module in ``net.region`` (the home region)."""
    planted = Planted(gaps=list(GAPS))
    for plant in (_load_balancers, _apis, _messaging, _data):
        planted.merge(plant(ctx, net))
    planted.merge(_cloudfront(ctx))
    return planted


def _load_balancers(ctx: PlantContext, net: RegionNetwork) -> Planted:
    region, planted = net.region, Planted()
    ec2, elbv2 = ctx.client("ec2", region), ctx.client("elbv2", region)
    taken = ec2.describe_subnets(SubnetIds=[net.good_subnet])["Subnets"][0]["AvailabilityZone"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    other = next(zone for zone in zones if zone != taken)  # an ALB spans two zones
    second = ec2.create_subnet(
        VpcId=net.good_vpc, CidrBlock="10.20.200.0/24", AvailabilityZone=other
    )["Subnet"]["SubnetId"]
    subnets = [net.good_subnet, second]
    cert = ctx.client("acm", region).request_certificate(DomainName=f"shop.{COMPANY}.example")[
        "CertificateArn"
    ]
    for stage, right in TWINS:
        name = f"{COMPANY}-{stage}-web-alb"
        lb = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application")[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        group = elbv2.create_target_group(
            Name=f"{COMPANY}-{stage}-web", Protocol="HTTP", Port=80, VpcId=net.good_vpc
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
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
            if right
            else "ELBSecurityPolicy-2016-08",
            DefaultActions=forward,
        )
        if right:
            attributes = {
                "access_logs.s3.enabled": "true",
                "access_logs.s3.bucket": f"{COMPANY}-elb-logs",
                "deletion_protection.enabled": "true",
                "routing.http.drop_invalid_header_fields.enabled": "true",
            }
            elbv2.modify_load_balancer_attributes(
                LoadBalancerArn=lb,
                Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()],
            )
        note = (
            "HTTPS on TLS 1.2+, HTTP redirected, access logs, deletion protection"
            if right
            else "TLS 1.0 policy, HTTP served, no access logs, no deletion protection"
        )
        planted.add(ALB, name, _verdict(right), ACCESS_LOGS, note, region=region)
        planted.merge(_classic(ctx, region, stage, right, cert))
    return planted


def _classic(ctx: PlantContext, region: str, stage: str, right: bool, cert: str) -> Planted:
    elb, planted = ctx.client("elb", region), Planted()
    name = f"{COMPANY}-{stage}-clb"
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
    zone = f"{region}a"
    elb.create_load_balancer(
        LoadBalancerName=name,
        Listeners=[https] if right else [plain, https],
        AvailabilityZones=[zone],
    )
    reference = "ELBSecurityPolicy-TLS-1-2-2017-01" if right else "ELBSecurityPolicy-2016-08"
    elb.create_load_balancer_policy(
        LoadBalancerName=name,
        PolicyName=f"{stage}-tls",
        PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[
            {"AttributeName": "Reference-Security-Policy", "AttributeValue": reference}
        ],
    )
    elb.set_load_balancer_policies_of_listener(
        LoadBalancerName=name, LoadBalancerPort=443, PolicyNames=[f"{stage}-tls"]
    )
    if right:
        elb.modify_load_balancer_attributes(
            LoadBalancerName=name,
            LoadBalancerAttributes={
                "CrossZoneLoadBalancing": {"Enabled": True},
                "AccessLog": {
                    "Enabled": True,
                    "S3BucketName": f"{COMPANY}-elb-logs",
                    "EmitInterval": 60,
                },
            },
        )
    note = (
        "HTTPS only on a TLS 1.2 policy, access logs, cross-zone"
        if right
        else "HTTP listener, TLS 1.0 policy, no access logs, no cross-zone"
    )
    planted.add(CLB, name, _verdict(right), ACCESS_LOGS, note, region=region)
    return planted


def _cloudfront(ctx: PlantContext) -> Planted:
    cloudfront, planted = ctx.client("cloudfront", "us-east-1"), Planted()
    for stage, right in TWINS:
        comment = f"{COMPANY}-{stage}-site"
        origin = {
            "Id": "web",
            "DomainName": f"origin.{stage}.{COMPANY}.example",
            "CustomOriginConfig": {
                "HTTPPort": 80,
                "HTTPSPort": 443,
                "OriginProtocolPolicy": "https-only" if right else "http-only",
                "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            },
        }
        config: dict[str, Any] = {
            "CallerReference": comment,
            "Comment": comment,
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "web",
                "ViewerProtocolPolicy": "redirect-to-https" if right else "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
        if right:
            config["Logging"] = {
                "Enabled": True,
                "IncludeCookies": False,
                "Prefix": "cf/",
                "Bucket": f"{COMPANY}-cf-logs.s3.amazonaws.com",
            }
            config["WebACLId"] = (
                f"arn:aws:wafv2:us-east-1:{ctx.account_id}:global/webacl/{COMPANY}/0a1b2c3d"
            )
        distribution = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
        note = (
            "HTTPS to viewers and origin, WAF, standard logging"
            if right
            else "HTTP allowed, HTTP-only origin, no WAF, no logging"
        )
        planted.add(
            DISTRIBUTION, distribution["Id"], _verdict(right), ACCESS_LOGS, note, name=comment
        )
    return planted


def _apis(ctx: PlantContext, net: RegionNetwork) -> Planted:
    region, planted = net.region, Planted()
    rest, v2 = ctx.client("apigateway", region), ctx.client("apigatewayv2", region)
    logs = f"arn:aws:logs:{region}:{ctx.account_id}:log-group:{COMPANY}-api-access"
    for stage, right in TWINS:
        name = f"{COMPANY}-{stage}-orders-api"
        api = rest.create_rest_api(name=name)["id"]
        root = rest.get_resources(restApiId=api)["items"][0]["id"]
        rest.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        rest.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        deployment = rest.create_deployment(restApiId=api)["id"]
        rest.create_stage(restApiId=api, stageName="v1", deploymentId=deployment)
        if right:
            rest.update_stage(
                restApiId=api,
                stageName="v1",
                patchOperations=[
                    {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": logs},
                    {
                        "op": "replace",
                        "path": "/accessLogSettings/format",
                        "value": "$context.requestId",
                    },
                    {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
                ],
            )
        note = "access and execution logs" if right else "no access or execution logs"
        planted.add(REST_API, name, _verdict(right), ACCESS_LOGS, note, region=region)
        http_name = f"{COMPANY}-{stage}-orders-http"
        http = v2.create_api(Name=http_name, ProtocolType="HTTP")["ApiId"]
        if right:
            authorizer = v2.create_authorizer(
                ApiId=http,
                AuthorizerType="JWT",
                IdentitySource=["$request.header.Authorization"],
                Name="jwt",
                JwtConfiguration={
                    "Audience": ["orders"],
                    "Issuer": f"https://id.{COMPANY}.example",
                },
            )["AuthorizerId"]
            v2.create_route(
                ApiId=http, RouteKey="GET /orders", AuthorizationType="JWT", AuthorizerId=authorizer
            )
            v2.create_stage(
                ApiId=http,
                StageName="$default",
                AccessLogSettings={"DestinationArn": logs, "Format": "$context.requestId"},
            )
        else:
            v2.create_route(ApiId=http, RouteKey="GET /orders")
            v2.create_stage(ApiId=http, StageName="$default")
        note = "JWT on every route, access logs" if right else "open route, no access logs"
        planted.add(HTTP_API, http_name, _verdict(right), ACCESS_LOGS, note, region=region)
    return planted


def _messaging(ctx: PlantContext, net: RegionNetwork) -> Planted:
    region, planted = net.region, Planted()
    sns, sqs = ctx.client("sns", region), ctx.client("sqs", region)
    key = ctx.client("kms", region).create_key(Description="メッセージ用キー")["KeyMetadata"]["Arn"]
    for stage, right in TWINS:
        name = f"{COMPANY}-{stage}-order-events"
        topic = sns.create_topic(Name=name, Attributes={"KmsMasterKeyId": key} if right else {})[
            "TopicArn"
        ]
        if right:
            sns.subscribe(
                TopicArn=topic, Protocol="https", Endpoint=f"https://hooks.{COMPANY}.example/orders"
            )
        else:
            open_to_all = {
                "Sid": "Open",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "SNS:Publish",
                "Resource": topic,
            }
            sns.set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=policy_json(open_to_all)
            )
            sns.subscribe(
                TopicArn=topic, Protocol="http", Endpoint=f"http://hooks.{COMPANY}.example/orders"
            )
        note = "encrypted, HTTPS subscriber" if right else "unencrypted, public, HTTP subscriber"
        planted.add(TOPIC, name, _verdict(right), (), note, region=region)
        queue_name = f"{COMPANY}-{stage}-order-jobs"
        attributes = {"KmsMasterKeyId": key} if right else {"SqsManagedSseEnabled": "false"}
        url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        if not right:
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            open_to_all = {
                "Sid": "Open",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy_json(open_to_all)})
        note = "SSE-KMS, no policy" if right else "SSE-SQS turned off, public policy"
        planted.add(QUEUE, queue_name, _verdict(right), (), note, region=region)
    planted.merge(_secrets(ctx, region, key))
    return planted


def _secrets(ctx: PlantContext, region: str, key: str) -> Planted:
    secrets, planted = ctx.client("secretsmanager", region), Planted()
    role = ctx.client("iam", region).create_role(
        RoleName=f"{COMPANY}-secret-rotation",
        AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    function = ctx.client("lambda", region).create_function(
        FunctionName=f"{COMPANY}-rotate-db-password",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    for stage, right in TWINS:
        name = f"{COMPANY}/{stage}/db-password"
        extra = {"KmsKeyId": key} if right else {}
        arn = secrets.create_secret(Name=name, SecretString="demo-only-not-a-secret", **extra)[
            "ARN"
        ]
        if right:
            secrets.rotate_secret(
                SecretId=arn,
                RotationLambdaARN=function,
                RotationRules={"AutomaticallyAfterDays": 30},
                RotateImmediately=False,
            )
        note = (
            "rotated every 30 days, customer managed key"
            if right
            else "no rotation, AWS managed key"
        )
        planted.add(SECRET, name, _verdict(right), (), note, region=region)
    return planted


def _data(ctx: PlantContext, net: RegionNetwork) -> Planted:
    region, planted = net.region, Planted()
    dynamodb, backup = ctx.client("dynamodb", region), ctx.client("backup", region)
    key = ctx.client("kms", region).create_key(Description="注文テーブル用キー")["KeyMetadata"][
        "Arn"
    ]
    schema: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for stage, right in TWINS:
        name = f"{COMPANY}-{stage}-orders"
        extra: dict[str, Any] = (
            {
                "DeletionProtectionEnabled": True,
                "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
            }
            if right
            else {}
        )
        dynamodb.create_table(TableName=name, **schema, **extra)
        if right:
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        note = (
            "point-in-time recovery, deletion protection, customer managed key"
            if right
            else "no point-in-time recovery, no deletion protection, AWS owned key"
        )
        planted.add(TABLE, name, _verdict(right), (), note, region=region)
        plan = f"{COMPANY}-{stage}-daily"
        rule: dict[str, Any] = {
            "RuleName": "daily",
            "TargetBackupVaultName": "Default",
            "ScheduleExpression": "cron(0 18 * * ? *)",
        }
        if right:
            rule["Lifecycle"] = {"DeleteAfterDays": 35}
        backup.create_backup_plan(BackupPlan={"BackupPlanName": plan, "Rules": [rule]})
        note = "35-day retention" if right else "no retention: recovery points kept forever"
        planted.add(BACKUP_PLAN, plan, _verdict(right), (), note, region=region)
    return planted
