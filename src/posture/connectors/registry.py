"""Provider name -> collect function, imported lazily so a scan loads only what it needs."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from posture.catalog.spec import ResourceSpec
from posture.connectors.inventory import Inventory
from posture.errors import ConfigurationError

Progress = Callable[[str, str, int], None]


class Collect(Protocol):
    def __call__(
        self,
        connection: str,
        settings: dict[str, Any],
        specs: Sequence[ResourceSpec],
        *,
        progress: Progress | None = None,
    ) -> Inventory: ...


CONNECTORS = {
    "aws": "posture.connectors.aws.entry:collect",
    "m365": "posture.connectors.m365.entry:collect",
    "gws": "posture.connectors.gws.entry:collect",
    "gcp": "posture.connectors.gcp.entry:collect",
}
CHECKS = {
    "aws": "posture.connectors.aws.entry:check",
    "m365": "posture.connectors.m365.entry:check",
    "gws": "posture.connectors.gws.entry:check",
    "gcp": "posture.connectors.gcp.entry:check",
}


def _load(table: dict[str, str], provider: str) -> Any:
    if provider not in table:
        raise ConfigurationError(
            f"unknown provider '{provider}'; available: {', '.join(sorted(table))}"
        )
    module, _, name = table[provider].partition(":")
    return getattr(importlib.import_module(module), name)


def collector(provider: str) -> Collect:
    fn: Collect = _load(CONNECTORS, provider)
    return fn


def checker(provider: str) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    fn: Callable[[str, dict[str, Any]], dict[str, Any]] = _load(CHECKS, provider)
    return fn
