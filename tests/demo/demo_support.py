"""Shared by the demo tests: the planted estate handle and moto server helpers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import boto3

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.organization import is_organization_type
from posture.demo import EstateManifest
from posture.demo.clients import moto_control

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
