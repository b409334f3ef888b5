"""Shared by the demo tests: the planted estate handle and moto server helpers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.organization import is_organization_type
from posture.demo import (
    EstateManifest,
    backdate_iam,
    plant_estate,
    register_local_s3control_hook,
    settle_config_recorders,
)
from posture.demo.clients import moto_control
from posture.localapi.aws_extras import install as install_aws_extras

REGIONS = ("ap-northeast-1", "us-east-1")
HOME, OTHER = REGIONS


def account_specs(catalog: Catalog) -> list[ResourceSpec]:
    """Every type a single account reads (organisation-level types need an organisation)."""
    return [s for s in catalog.specs.values() if not is_organization_type(s)]


@dataclass
class PlantedEstate:
    endpoint_url: str
    manifest: EstateManifest
    backdated: list[str]
    settled: list[str]
    session: boto3.session.Session

    def client(self, service: str, region: str = HOME) -> Any:
        return self.session.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def credential_report(self) -> dict[str, dict[str, str]]:
        iam = self.client("iam")
        iam.generate_credential_report()
        content = iam.get_credential_report()["Content"].decode("utf-8")
        return {row["user"]: row for row in csv.DictReader(io.StringIO(content))}


def reset_moto(endpoint_url: str) -> None:
    """Drop every moto backend: the server shares them with anything else in this process."""
    moto_control(endpoint_url, "reset")


@contextmanager
def planted_estate() -> Iterator[PlantedEstate]:
    """An in-process moto server with the demo estate planted, dropped afterwards.

    In-process moto servers share their backends, so the estate is planted after a reset;
    callers hold it at package scope so that no other package's reset runs in between.
    """
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
