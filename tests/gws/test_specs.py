"""The built-in Google Workspace specs against the discovery documents shipped with the client."""

from __future__ import annotations

from posture.catalog import Catalog
from posture.catalog.spec import ResourceSpec
from posture.connectors.gws.validate import check_specs


def test_builtin_specs_match_discovery(catalog: Catalog) -> None:
    assert check_specs(catalog.specs.values()) == []


def test_problems_are_named() -> None:
    spec = ResourceSpec.model_validate(
        {
            "type": "gws.directory.thing",
            "service": "admin.directory_v1",
            "scope": "global",
            "list": {"call": "things.list", "items": "items"},
            "uid": "{id}",
        }
    )
    denied = spec.model_copy(
        update={
            "listing": spec.listing.model_copy(update={"call": "tokens.list"}),  # type: ignore[union-attr]
            "permissions": ["https://www.googleapis.com/auth/admin.directory.user.readonly"],
        }
    )
    problems = check_specs([spec, denied])
    assert "gws.directory.thing: declares no OAuth scope under 'permissions'" in problems
    assert "gws.directory.thing: admin.directory_v1 has no method 'things.list'" in problems
    assert any("no declared scope authorises admin.directory_v1 tokens.list" in p for p in problems)


def test_unknown_parameters_are_named() -> None:
    spec = ResourceSpec.model_validate(
        {
            "type": "gws.reports.thing",
            "service": "admin.reports_v1",
            "scope": "global",
            "list": {
                "call": "activities.list",
                "args": {"userKey": "all", "applicationName": "login", "eventNames": ["a", "b"]},
                "items": "items",
            },
            "uid": "{id}",
            "permissions": ["https://www.googleapis.com/auth/admin.reports.audit.readonly"],
        }
    )
    assert check_specs([spec]) == [
        "gws.reports.thing: admin.reports_v1 activities.list has no parameter 'eventNames'"
    ]
