"""Demo and benchmark estates: plant known-bad and known-good cloud resources into moto."""

from posture.demo.clients import EstateClients, register_local_s3control_hook
from posture.demo.estate import backdate_iam, plant_estate, settle_config_recorders
from posture.demo.manifest import EstateManifest, Expectation, PlantedResource

__all__ = [
    "EstateClients",
    "EstateManifest",
    "Expectation",
    "PlantedResource",
    "backdate_iam",
    "plant_estate",
    "register_local_s3control_hook",
    "settle_config_recorders",
]
