"""The Google Cloud connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from posture.catalog.spec import ResourceSpec
from posture.connectors.gcp.settings import GcpSettings
from posture.connectors.inventory import Inventory
from posture.connectors.settings import parse_settings as validate_settings
from posture.errors import ConnectionFailure, ConnectionReason


def parse_settings(connection: str, settings: dict[str, Any]) -> GcpSettings:
    return validate_settings(GcpSettings, connection, settings)


def collect(
    connection: str,
    settings: dict[str, Any],
    specs: Sequence[ResourceSpec],
    *,
    progress: Callable[[str, str, int], None] | None = None,
) -> Inventory:
    parse_settings(connection, settings)
    raise ConnectionFailure(
        f"connection '{connection}': collecting Google Cloud is not available in this build",
        reason=ConnectionReason.INTERNAL_ERROR,
        connection=connection,
    )


def check(connection: str, settings: dict[str, Any]) -> dict[str, Any]:
    parse_settings(connection, settings)
    raise ConnectionFailure(
        f"connection '{connection}': checking Google Cloud is not available in this build",
        reason=ConnectionReason.INTERNAL_ERROR,
        connection=connection,
    )
