"""Every Google Workspace spec collected by the real google-api-python-client over HTTPS."""

from __future__ import annotations

from typing import Any

import pytest

from posture.catalog.spec import ResourceSpec
from posture.connectors.gws.client import open_target
from posture.connectors.gws.collector import GwsCollector
from posture.connectors.gws.entry import collect, parse_settings, required_scopes
from posture.connectors.inventory import Inventory
from posture.localapi.google import POLICY_RO, USER_SECURITY, RunningGoogle


def by_type(inventory: Inventory) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for resource in inventory.resources:
        out.setdefault(resource.type, []).append(resource)
    return out


def test_every_spec_is_collected(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    inventory = collect("acme-gws", settings, gws_specs)
    assert inventory.failures == []
    found = by_type(inventory)
    assert set(found) == {s.type for s in gws_specs}
    assert len(found["gws.directory.user"]) == 6
    assert {r.name for r in found["gws.directory.org_unit"]} == {
        "/",
        "/Engineering",
        "/Sales",
        "/Sales/EMEA",
    }
    assignment = next(
        r for r in found["gws.directory.role_assignment"] if r.uid == "91705169967842"
    )
    assert assignment.data["role"]["roleName"] == "_SEED_ADMIN_ROLE"
    assert assignment.data["assignee"]["primaryEmail"] == "bob@example.jp"
    tokens = {r.uid: r.data for r in found["gws.directory.token"]}
    assert (
        tokens["102/5678.apps.googleusercontent.com"]["user"]["primaryEmail"] == "carol@example.jp"
    )
    groups = {r.name: r.data["settings"] for r in found["gws.groupssettings.group"]}
    assert groups["sales@example.jp"]["allowExternalMembers"] == "true"
    assert found["gws.directory.mobile_device"][0].data["email"] == ["carol@example.jp"]
    admins = found["gws.directory.super_admins"][0].data
    assert admins["super_admins"] == ["alice@example.jp", "bob@example.jp"]
    assert {r.account for r in inventory.resources} == {"my_customer"}
    # the delegated subject is the connection's administrator
    assert set(google.fake.subjects) == {"alice@example.jp"}


def test_listings_page_and_each_call_is_made_once(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    collect("acme-gws", settings, gws_specs)
    made = google.fake.requests
    users = [r for r in made if r.startswith("GET /admin/directory/v1/users?")]
    # six users in pages of two: three pages, listed once for users, tokens, assignments and
    # security events
    assert len(users) == 3
    assert any("pageToken=4" in r for r in users)
    policies = [r for r in made if r.startswith("GET /v1/policies")]
    # thirteen policies in pages of two, listed once for org units, groups and rules
    assert len(policies) == 7
    assert len([r for r in made if "/orgunits" in r]) == 1
    assert len(made) == len(set(made))


def test_throttling_is_retried_after_the_delay_asked(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.retry_after = "7"
    google.fake.throttle_once.add("/admin/directory/v1/groups")
    waited: list[float] = []
    parsed = parse_settings("acme-gws", settings)
    target = open_target("acme-gws", parsed, required_scopes(gws_specs))
    groups = [s for s in gws_specs if s.type == "gws.directory.group"]
    inventory = GwsCollector(target, groups, sleep=waited.append).collect()
    assert waited == [7.0]
    assert inventory.failures == []
    assert len(inventory.resources) == 2
    stat = inventory.stats["gws.directory.group"]
    assert (stat.calls, stat.throttles, stat.errors) == (2, 1, 0)


def test_throttling_that_never_ends_fails_the_type(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.throttle_always.add("/admin/directory/v1/customer/")  # domains, roles, org units
    waited: list[float] = []
    parsed = parse_settings("acme-gws", {**settings, "max_attempts": 3})
    target = open_target("acme-gws", parsed, required_scopes(gws_specs))
    domains = [s for s in gws_specs if s.type == "gws.directory.domain"]
    inventory = GwsCollector(target, domains, sleep=waited.append).collect()
    assert waited == [0.0, 0.0]
    [failure] = inventory.failures
    assert failure.code == "rateLimitExceeded"
    assert "still throttled after every retry" in failure.message
    stat = inventory.stats["gws.directory.domain"]
    assert (stat.calls, stat.throttles, stat.errors) == (3, 2, 1)


def test_missing_scope_fails_only_its_type_and_names_the_scope(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.forbidden.add("/admin/directory/v1/users/")  # tokens.list only
    inventory = collect("acme-gws", settings, gws_specs)
    assert [f.resource_type for f in inventory.failures] == ["gws.directory.token"]
    failure = inventory.failures[0]
    assert failure.code == "insufficient_scope"
    assert failure.permission == USER_SECURITY  # the scope tokens.list needs, not the type's others
    assert USER_SECURITY in failure.message and "tokens.list" in failure.message
    assert inventory.stats["gws.directory.token"].errors == 1
    assert "gws.directory.user" in by_type(inventory)


def test_scope_outside_the_delegation_fails_only_its_type(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.granted.discard(POLICY_RO)
    inventory = collect("acme-gws", settings, gws_specs)
    assert {f.resource_type for f in inventory.failures} == {
        "gws.policy.org_unit_settings",
        "gws.policy.group_settings",
        "gws.policy.rules",
    }
    failure = inventory.failures[0]
    assert failure.code == "unauthorized_client"
    assert POLICY_RO in failure.message
    assert len(by_type(inventory)["gws.directory.org_unit"]) == 4


def test_disabled_api_is_a_collection_error_naming_it(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.disabled.add("/v1/policies")
    inventory = collect("acme-gws", settings, gws_specs)
    failure = next(
        f for f in inventory.failures if f.resource_type == "gws.policy.org_unit_settings"
    )
    assert failure.code == "SERVICE_DISABLED"
    assert "cloudidentity" in failure.message and "not enabled" in failure.message


def test_denied_detail_fails_only_that_item_and_its_policies(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    from posture.catalog import load_catalog
    from posture.engine import evaluate
    from posture.models import Status

    google.fake.forbidden.add("/groups/v1/groups/sales")  # one group's Groups Settings
    inventory = collect("acme-gws", settings, gws_specs)
    assert "gws.groupssettings.group" not in {f.resource_type for f in inventory.failures}
    groups = {r.name: r for r in by_type(inventory)["gws.groupssettings.group"]}
    denied = groups["sales@example.jp"]
    assert set(denied.failed) == {"settings"} and denied.data["settings"] is None
    assert denied.failed["settings"].call == "groupssettings.v1 groups.get"
    assert denied.failed["settings"].code == "insufficient_scope"
    others = [g for name, g in groups.items() if name != "sales@example.jp"]
    assert others and all(not g.failed and g.data["settings"] for g in others)
    (summary,) = inventory.detail_failures
    assert not summary.whole_scope and summary.resources == 1
    policies = load_catalog().policies_for("gws.groupssettings.group")
    assert policies
    results = evaluate(policies, inventory.resources)
    assert {r.status for r in results if r.resource_uid == denied.uid} == {Status.ERROR}
    assert all(r.status is not Status.ERROR for r in results if r.resource_uid != denied.uid)


def test_failed_users_fail_the_aggregate(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.forbidden.add("/admin/directory/v1/users")
    inventory = collect("acme-gws", settings, gws_specs)
    failed = {f.resource_type for f in inventory.failures}
    assert {"gws.directory.user", "gws.directory.super_admins", "gws.directory.token"} <= failed
    assert "gws.directory.domain" not in failed


def test_root_url_is_validated() -> None:
    from posture.errors import ConfigurationError

    bad = {"admin_email": "a@example.jp", "key_file": "k.json", "root_url": "ftp://x"}
    with pytest.raises(ConfigurationError, match="root_url"):
        parse_settings("acme-gws", bad)
