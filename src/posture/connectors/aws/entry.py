"""The AWS connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from posture.catalog.spec import ResourceSpec
from posture.connectors.aws.collector import AwsCollector
from posture.connectors.aws.session import AwsSettings, open_target
from posture.connectors.inventory import Inventory
from posture.errors import ConfigurationError


def parse_settings(connection: str, settings: dict[str, Any]) -> AwsSettings:
    try:
        return AwsSettings.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(
            f"connection '{connection}': setting '{field}': {first['msg']}"
        ) from exc


def collect(
    connection: str,
    settings: dict[str, Any],
    specs: Sequence[ResourceSpec],
    *,
    progress: Callable[[str, str, int], None] | None = None,
) -> Inventory:
    target = open_target(connection, parse_settings(connection, settings))
    return AwsCollector(target, specs, progress=progress).collect()


def check(connection: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Sign in and resolve the account and regions, without collecting anything."""
    target = open_target(connection, parse_settings(connection, settings))
    return {"account": target.account_id, "regions": target.regions, "partition": target.partition}
