"""AWS connector: one generic collector executing the specs in ``scanners/aws``."""

from posture.connectors.aws import threats as _threats  # noqa: F401  (registers its transforms)
from posture.connectors.aws.collector import AwsCollector
from posture.connectors.aws.entry import check, collect
from posture.connectors.aws.session import AwsSettings, AwsTarget, open_target

__all__ = ["AwsCollector", "AwsSettings", "AwsTarget", "check", "collect", "open_target"]
