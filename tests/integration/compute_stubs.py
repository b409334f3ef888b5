"""Lambda, EKS and ECR resources planted through boto3, and a stand-in for the one Lambda call
moto does not implement.

moto 5.2 answers ``ListFunctionUrlConfigs`` (GET ``/functions/NAME/urls``) with HTTP 404 "Not
yet implemented", while ``GetFunctionUrlConfig`` works. ``stub_function_url_listing`` answers
the listing at the botocore seam from the per-function call, in the response shape of the
Lambda API reference (``FunctionUrlConfigs``, no ``NextMarker`` when complete), so the rest of
the collection runs against moto unchanged.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from urllib.parse import unquote

import boto3
import botocore.exceptions
from botocore.awsrequest import AWSResponse

from posture.connectors.aws.session import AwsTarget

SECRET_VALUE = "s3cr3t-Value-that-must-never-be-stored-9f2c"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def stub_function_url_listing(target: AwsTarget, endpoint_url: str | None = None) -> None:
    """Answer ``ListFunctionUrlConfigs`` from moto's ``GetFunctionUrlConfig``."""

    def on_call(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        name = unquote(str(params["url_path"]).rstrip("/").split("/")[-2])
        client = boto3.client(
            "lambda", region_name=context.get("client_region"), endpoint_url=endpoint_url
        )
        try:
            config = client.get_function_url_config(FunctionName=name)
            urls = [{k: v for k, v in config.items() if k != "ResponseMetadata"}]
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            urls = []
        return (
            AWSResponse("https://stub.invalid", 200, {}, None),
            {
                "FunctionUrlConfigs": urls,
                "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
            },
        )

    target.session.events.register("before-call.lambda.ListFunctionUrlConfigs", on_call)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def plant_functions(region: str, endpoint_url: str | None = None) -> dict[str, str]:
    """A misconfigured function and a hardened twin; returns their names."""
    kw: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url}
    role = boto3.client("iam", **kw).create_role(
        RoleName="compute-test-lambda", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    sqs = boto3.client("sqs", **kw)
    dlq = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName="orders-dlq")["QueueUrl"],
        AttributeNames=["QueueArn"],
    )["Attributes"]["QueueArn"]
    lam = boto3.client("lambda", **kw)
    good = "orders-api"
    lam.create_function(
        FunctionName="legacy-export",
        Runtime="python3.8",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"DB_PASSWORD": SECRET_VALUE, "LOG_LEVEL": "debug"}},
    )
    lam.add_permission(
        FunctionName="legacy-export",
        StatementId="public-invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    lam.create_function_url_config(FunctionName="legacy-export", AuthType="NONE")
    lam.create_function(
        FunctionName=good,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"DB_SECRET_ARN": "arn:aws:secretsmanager:x", "STAGE": "prod"}},
        TracingConfig={"Mode": "Active"},
        DeadLetterConfig={"TargetArn": dlq},
        VpcConfig={"SubnetIds": ["subnet-0a1b2c3d4e5f60001"], "SecurityGroupIds": ["sg-0a1b2c3d"]},
    )
    lam.add_permission(
        FunctionName=good,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::orders-uploads",
        SourceAccount="123456789012",
    )
    lam.create_function_url_config(FunctionName=good, AuthType="AWS_IAM")
    return {"bad": "legacy-export", "good": good}


def plant_clusters(region: str, endpoint_url: str | None = None) -> None:
    eks = boto3.client("eks", region_name=region, endpoint_url=endpoint_url)
    role = "arn:aws:iam::123456789012:role/eks-cluster"
    eks.create_cluster(
        name="legacy", version="1.28", roleArn=role, resourcesVpcConfig={"subnetIds": ["s-1"]}
    )
    eks.create_cluster(
        name="prod",
        version="1.33",
        roleArn=role,
        resourcesVpcConfig={
            "subnetIds": ["s-1"],
            "endpointPublicAccess": False,
            "endpointPrivateAccess": True,
        },
        logging={
            "clusterLogging": [
                {
                    "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                    "enabled": True,
                }
            ]
        },
        encryptionConfig=[
            {
                "resources": ["secrets"],
                "provider": {"keyArn": f"arn:aws:kms:{region}:123456789012:key/abcd"},
            }
        ],
    )


def plant_repositories(region: str, endpoint_url: str | None = None) -> None:
    ecr = boto3.client("ecr", region_name=region, endpoint_url=endpoint_url)
    ecr.create_repository(repositoryName="web")
    ecr.set_repository_policy(
        repositoryName="web",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "public-pull",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    }
                ],
            }
        ),
    )
    ecr.create_repository(
        repositoryName="prod-api",
        imageTagMutability="IMMUTABLE",
        encryptionConfiguration={"encryptionType": "KMS"},
    )
    ecr.set_repository_policy(
        repositoryName="prod-api",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "org-pull",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["ecr:BatchGetImage"],
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
                    }
                ],
            }
        ),
    )
    ecr.put_lifecycle_policy(
        repositoryName="prod-api",
        lifecyclePolicyText=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "sinceImagePushed",
                            "countUnit": "days",
                            "countNumber": 14,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    )
    ecr.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}],
            }
        ],
    )
