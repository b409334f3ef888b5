"""One in-process moto server with the demo estate planted once for this package.

In-process moto servers share their backends, so the estate is planted after a reset and
the package scope keeps other packages' resets from running in between.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from posture.demo import (
    backdate_iam,
    plant_estate,
    register_local_s3control_hook,
    settle_config_recorders,
)
from posture.localapi.aws_extras import install as install_aws_extras
from tests.demo.demo_support import REGIONS, PlantedEstate, reset_moto


@pytest.fixture(scope="package")
def estate() -> Iterator[PlantedEstate]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # so AWSSupportAccess exists
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        install_aws_extras(server)  # Access Analyzer and contact information, which moto lacks
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        try:
            reset_moto(endpoint_url)
            manifest = plant_estate(endpoint_url, regions=list(REGIONS), scale=1)
            backdated = backdate_iam(manifest.account_id)
            settled = settle_config_recorders(manifest.account_id, manifest.regions)
            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            register_local_s3control_hook(session, endpoint_url)
            yield PlantedEstate(endpoint_url, manifest, backdated, settled, session)
        finally:
            reset_moto(endpoint_url)
            server.stop()
