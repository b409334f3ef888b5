"""ECR repositories and EKS clusters, each misconfigured one with a hardened twin.

Lambda functions are not planted as pairs here: moto does not implement
ListFunctionUrlConfigs, which posture.localapi.aws_extras answers for an in-process moto
server only; the one function of the estate is the secret-rotation function of
``estate_edge``.
"""

from __future__ import annotations

from posture.demo.common import COMPANY, PlantContext, policy_json, tags
from posture.demo.manifest import Planted

REPOSITORY, CLUSTER = "aws.ecr.repository", "aws.eks.cluster"
#: No CIS AWS Foundations v7.0 control covers ECR or EKS; the verdicts hold for their policies.
NO_CIS_CONTROL: tuple[str, ...] = ()
EKS_ROLE = "arn:aws:iam::{account}:role/acme-jp-eks-cluster"
ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
LIFECYCLE = (
    '{"rules":[{"rulePriority":1,"description":"expire untagged images after 14 days",'
    '"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",'
    '"countNumber":14},"action":{"type":"expire"}}]}'
)
GAPS = (
    "Lambda: no misconfigured/hardened function pair is planted; the only function is the "
    "secret-rotation function (moto lacks ListFunctionUrlConfigs; the demo's in-process "
    "stand-in answers it).",
    "EKS access entries: moto drops accessConfig from DescribeCluster, so the hardened "
    "cluster fails aws.eks.cluster_access_entries_enabled too.",
)


def plant_repositories(ctx: PlantContext) -> Planted:
    """In the home region: a legacy repository open to "*", and a hardened twin.

    The registry's basic scan-on-push rule covers ``COMPANY-prod-*`` only, so the legacy
    repository is not scanned while the twin is.
    """
    region = ctx.primary
    ecr, planted = ctx.client("ecr", region), Planted(gaps=list(GAPS))
    bad, good = f"{COMPANY}/legacy-batch", f"{COMPANY}-prod-api"
    ecr.create_repository(repositoryName=bad, tags=tags(System="batch"))
    ecr.set_repository_policy(
        repositoryName=bad,
        policyText=policy_json(
            {
                "Sid": "anyone-pull",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ),
    )
    ecr.create_repository(
        repositoryName=good,
        imageTagMutability="IMMUTABLE",
        encryptionConfiguration={"encryptionType": "KMS"},
        tags=tags(System="orders"),
    )
    ecr.set_repository_policy(
        repositoryName=good,
        policyText=policy_json(
            {
                "Sid": "org-pull",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            }
        ),
    )
    ecr.put_lifecycle_policy(repositoryName=good, lifecyclePolicyText=LIFECYCLE)
    ecr.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": f"{COMPANY}-prod-*", "filterType": "WILDCARD"}],
            }
        ],
    )
    planted.add(
        REPOSITORY,
        bad,
        "bad",
        NO_CIS_CONTROL,
        "policy open to *, mutable tags, not scanned, AES256, no lifecycle policy",
        region=region,
    )
    planted.add(
        REPOSITORY,
        good,
        "good",
        NO_CIS_CONTROL,
        "organisation-only policy, immutable tags, scan on push, KMS, lifecycle policy",
        region=region,
    )
    return planted


def plant_clusters(ctx: PlantContext) -> Planted:
    """In the home region: a legacy cluster on EKS defaults and Kubernetes 1.28, and a twin
    with a private endpoint only, all control plane logs and envelope-encrypted secrets."""
    region = ctx.primary
    eks, planted = ctx.client("eks", region), Planted(gaps=list(GAPS))
    role = EKS_ROLE.format(account=ctx.account_id)
    bad, good = f"{COMPANY}-legacy-eks", f"{COMPANY}-prod-eks"
    eks.create_cluster(
        name=bad, version="1.28", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1"]}
    )
    eks.create_cluster(
        name=good,
        version="1.35",
        roleArn=role,
        resourcesVpcConfig={
            "subnetIds": ["subnet-1"],
            "endpointPublicAccess": False,
            "endpointPrivateAccess": True,
        },
        logging={"clusterLogging": [{"types": ALL_LOG_TYPES, "enabled": True}]},
        encryptionConfig=[
            {
                "resources": ["secrets"],
                "provider": {"keyArn": f"arn:aws:kms:{region}:{ctx.account_id}:alias/eks"},
            }
        ],
        accessConfig={"authenticationMode": "API"},
        tags={"System": "orders"},
    )
    note = "public endpoint open to 0.0.0.0/0, no logs, no secrets encryption, Kubernetes 1.28"
    planted.add(CLUSTER, bad, "bad", NO_CIS_CONTROL, note, region=region)
    note = "private endpoint only, all five log types, secrets encrypted, Kubernetes 1.35"
    planted.add(CLUSTER, good, "good", NO_CIS_CONTROL, note, region=region)
    return planted
