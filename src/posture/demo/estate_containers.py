"""ECR repositories (public policy, mutable tags, no scanning, no lifecycle) with a twin.

Lambda functions are not planted: moto does not implement ListFunctionUrlConfigs (HTTP 404
"Not yet implemented"), which the aws.lambda.function collection calls for every function,
so a planted function would fail that type's collection against a moto server. EKS clusters
are not planted either: moto drops ``accessConfig`` from DescribeCluster, so no cluster could
pass the access-entries check.
"""

from __future__ import annotations

from posture.demo.common import COMPANY, PlantContext, policy_json, tags
from posture.demo.manifest import Planted

REPOSITORY = "aws.ecr.repository"
#: No CIS AWS Foundations v7.0 control covers ECR; the verdict holds for the ECR policies.
NO_ECR_CONTROL: tuple[str, ...] = ()
LIFECYCLE = (
    '{"rules":[{"rulePriority":1,"description":"expire untagged images after 14 days",'
    '"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",'
    '"countNumber":14},"action":{"type":"expire"}}]}'
)
GAPS = (
    "Lambda functions are not planted: moto does not implement ListFunctionUrlConfigs, so "
    "collecting aws.lambda.function fails as soon as one function exists.",
    "EKS clusters are not planted: moto drops accessConfig from DescribeCluster, so every "
    "cluster would read as authentication mode CONFIG_MAP.",
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
        NO_ECR_CONTROL,
        "policy open to *, mutable tags, not scanned, AES256, no lifecycle policy",
        region=region,
    )
    planted.add(
        REPOSITORY,
        good,
        "good",
        NO_ECR_CONTROL,
        "organisation-only policy, immutable tags, scan on push, KMS, lifecycle policy",
        region=region,
    )
    return planted
