"""Tenants and connections through the operations layer: input checks, defaults, scope."""

from __future__ import annotations

import pytest

from posture.errors import ConfigurationError, UsageError
from posture.operations import Operations
from posture.operations.connections import (
    add_aws_connection,
    add_connection,
    check_connections,
    list_connections,
    permission_policy,
    required_permissions,
)
from posture.operations.tenants import (
    add_tenant,
    default_tenant,
    list_tenants,
    show_tenant,
)


def test_add_list_and_show_tenants(ops: Operations) -> None:
    added = add_tenant(ops, "acme", name=" Acme Japan ", locale="en", contacts=["soc@acme.example"])
    assert added.name == "Acme Japan" and added.locale == "en"
    add_tenant(ops, "globex", name="Globex", options={"auto_remediation": False})
    assert [t.slug for t in list_tenants(ops)] == ["acme", "globex"]
    shown = show_tenant(ops, "globex")
    assert shown.options == {"auto_remediation": False} and shown.timezone == "Asia/Tokyo"
    with pytest.raises(ConfigurationError, match="already exists"):
        add_tenant(ops, "acme", name="Again")


@pytest.mark.parametrize(
    ("slug", "kwargs", "message"),
    [
        ("Not A Slug", {}, "invalid tenant slug"),
        ("acme", {"locale": "fr"}, "invalid locale 'fr'"),
        ("acme", {"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ("acme", {"name": "  "}, "display name"),
    ],
)
def test_tenant_input_is_checked(
    ops: Operations, slug: str, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        add_tenant(ops, slug, **{"name": "Acme", **kwargs})
    assert list_tenants(ops) == []


def test_the_only_tenant_is_the_default(ops: Operations) -> None:
    with pytest.raises(ConfigurationError, match="no tenants yet"):
        default_tenant(ops, None)
    add_tenant(ops, "acme", name="Acme")
    assert default_tenant(ops, None) == "acme"
    add_tenant(ops, "globex", name="Globex")
    with pytest.raises(UsageError, match="several tenants exist, name one of: acme, globex"):
        default_tenant(ops, None)
    assert default_tenant(ops, "globex") == "globex"
    with pytest.raises(ConfigurationError, match="unknown tenant 'nobody'; known tenants: acme"):
        default_tenant(ops, "nobody")


def test_connections_are_added_per_tenant_and_listed(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme")
    add_tenant(ops, "globex", name="Globex")
    info = add_aws_connection(
        ops, "acme", "prod", role_arn="arn:aws:iam::123456789012:role/Audit", regions=["us-east-1"]
    )
    assert info.tenant == "acme" and info.health == "never"
    assert info.settings == {
        "role_arn": "arn:aws:iam::123456789012:role/Audit",
        "regions": ["us-east-1"],
    }
    add_aws_connection(ops, "globex", "prod")
    with pytest.raises(ConfigurationError, match="tenant 'acme' already has a connection named"):
        add_aws_connection(ops, "acme", "prod")
    assert [(c.tenant, c.name) for c in list_connections(ops)] == [
        ("acme", "prod"),
        ("globex", "prod"),
    ]
    assert [c.tenant for c in list_connections(ops, "globex")] == ["globex"]
    with pytest.raises(UsageError, match="unknown provider 'azure'"):
        add_connection(ops, "acme", "x", "azure", {})
    with pytest.raises(UsageError, match="connection name"):
        add_connection(ops, "acme", " ", "aws", {})


def test_check_records_health_of_each_connection(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme")
    add_aws_connection(ops, None, "broken", profile="does-not-exist")
    seen = []
    checks = check_connections(ops, None, on_checked=seen.append)
    assert seen == checks
    (check,) = checks
    assert not check.ok and "broken" in check.message
    (listed,) = list_connections(ops, "acme")
    assert listed.health == "failed" and listed.checked_at is not None
    with pytest.raises(ConfigurationError, match="no connection named 'other'"):
        check_connections(ops, "acme", "other")


def test_permissions_call_through_to_the_specs(ops: Operations) -> None:
    actions = required_permissions(ops)
    assert "s3:GetBucketPolicy" in actions
    assert permission_policy(ops)["Statement"][0]["Action"] == actions
    assert "compute.instances.list" in required_permissions(ops, "gcp")
    with pytest.raises(UsageError, match="no permission list for provider 'azure'"):
        required_permissions(ops, "azure")
