"""AWS connector: one generic collector executing the specs in ``scanners/aws``."""

from posture.connectors.aws.collector import AwsCollector, collect_aws
from posture.connectors.aws.session import AwsSettings, AwsTarget, open_target

__all__ = ["AwsCollector", "AwsSettings", "AwsTarget", "collect_aws", "open_target"]
