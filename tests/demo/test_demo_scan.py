"""The demo estate through the real collector and policies: bad resources fail, twins pass."""

from __future__ import annotations

from collections import defaultdict

import pytest

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.engine import evaluate
from posture.models import Resource, Status
from tests.demo.demo_support import REGIONS, PlantedEstate, account_specs


@pytest.fixture(scope="module")
def scanned(
    estate: PlantedEstate, catalog: Catalog
) -> tuple[list[Resource], dict[tuple[str, str], set[str]]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        target = open_target(
            "demo", AwsSettings(endpoint_url=estate.endpoint_url, regions=list(REGIONS))
        )
        inventory = AwsCollector(target, account_specs(catalog)).collect()
    assert inventory.failures == [], inventory.failures
    failing: dict[tuple[str, str], set[str]] = defaultdict(set)
    for result in evaluate(catalog.policies.values(), inventory.resources):
        if result.status is Status.FAIL:
            failing[(result.resource_type, result.resource_uid)].add(result.policy_id)
    return inventory.resources, failing


def _resource(
    resources: list[Resource], rtype: str, identifier: str, region: str | None
) -> Resource:
    candidates = [
        r
        for r in resources
        if r.type == rtype
        and (
            r.name == identifier
            or r.uid.endswith(identifier)
            or f"/{identifier}" in r.uid
            or f":{identifier}:" in r.uid
        )
        and (region is None or r.region in (region, "global"))
    ]
    assert candidates, f"{rtype} {identifier} ({region}) was not collected"
    return candidates[0]


def test_bad_resources_fail_and_twins_pass(
    estate: PlantedEstate, catalog: Catalog, scanned
) -> None:  # type: ignore[no-untyped-def]
    resources, failing = scanned
    by_control: dict[tuple[str, str], list[str]] = defaultdict(list)
    for policy in catalog.policies.values():
        for control in policy.frameworks.get("cis-aws-7.0", []):
            by_control[(policy.resource, control)].append(policy.id)
    steps = ("backdate_iam", "settle_config_recorders")
    wrong = []
    checked = 0
    for exp in estate.manifest.expectations(steps=steps):
        policies = by_control.get((exp.resource_type, exp.control))
        if not policies:
            continue
        resource = _resource(resources, exp.resource_type, exp.identifier, exp.region)
        failed = failing[(resource.type, resource.uid)] & set(policies)
        checked += 1
        if exp.expected == "good" and failed:
            wrong.append(f"twin {exp.identifier} flagged by {sorted(failed)} ({exp.control})")
        if exp.expected == "bad" and not failed:
            wrong.append(
                f"misconfigured {exp.identifier} not flagged for {exp.control} by {policies}"
            )
    assert checked >= 60
    assert wrong == []


CLUSTER_POLICIES = {
    f"aws.rds.db_cluster_{name}"
    for name in (
        "storage_encrypted",
        "multi_az_enabled",
        "deletion_protection_enabled",
        "backup_retention_7_days",
        "iam_authentication_enabled",
        "copy_tags_to_snapshot_enabled",
    )
}


def test_aurora_cluster_settings_outside_cis(scanned) -> None:  # type: ignore[no-untyped-def]
    """Every cluster setting planted wrong fails and the twin passes, CIS-mapped or not."""
    resources, failing = scanned
    legacy = _resource(resources, "aws.rds.db_cluster", "acme-jp-orders-aurora-legacy", REGIONS[0])
    twin = _resource(resources, "aws.rds.db_cluster", "acme-jp-orders-aurora", REGIONS[0])
    assert legacy.uid != twin.uid
    assert failing[(twin.type, twin.uid)] == set()
    assert failing[(legacy.type, legacy.uid)] == CLUSTER_POLICIES
    assert not [r for r in resources if r.type == "aws.rds.db_cluster" and r.region != REGIONS[0]]


def test_at_least_25_distinct_policies_fail(scanned) -> None:  # type: ignore[no-untyped-def]
    _, failing = scanned
    distinct = set().union(*failing.values())
    assert len(distinct) >= 25, sorted(distinct)


def test_inline_admin_grants_fail_and_scoped_twins_pass(scanned) -> None:  # type: ignore[no-untyped-def]
    """Inline administrator grants on a user, a group and a role (NotAction form) are found."""
    resources, failing = scanned
    policy = "aws.iam.inline_policy_full_admin"
    verdicts = {
        "sato.yuki/emergency-full-access": True,
        "acme-jp-ops-admins/ops-full-access": True,
        "acme-jp-deploy-pipeline/deploy-everything": True,
        "batch-etl-svc/etl-inline": False,
        "acme-jp-developers/developers-read-logs": False,
        "acme-jp-app-server/app-server-assets": False,
    }
    inline = {r.name: r for r in resources if r.type == "aws.iam.inline_policy"}
    assert set(verdicts) <= set(inline)
    assert {inline[n].data["PrincipalType"] for n in verdicts} == {"user", "group", "role"}
    for name, bad in verdicts.items():
        resource = inline[name]
        assert (policy in failing[(resource.type, resource.uid)]) is bad, name


def test_access_key_created_at_console_user_setup(scanned) -> None:  # type: ignore[no-untyped-def]
    """The unused key made with a console user is found; the twin's key, in use, is not."""
    resources, failing = scanned
    policy = "aws.iam.user_access_key_created_at_setup"
    rows = {r.name: r for r in resources if r.type == "aws.iam.credential_report"}
    planted, twin = rows["kobayashi.mei"], rows["yamada.taro"]
    assert planted.data["access_key_1_minutes_after_user_creation"] is not None
    assert planted.data["access_key_1_last_used_date"] is None
    assert twin.data["access_key_1_last_used_date"] is not None
    assert policy in failing[(planted.type, planted.uid)]
    assert policy not in failing[(twin.type, twin.uid)]
    flagged = {n for n, r in rows.items() if policy in failing[(r.type, r.uid)]}
    assert flagged == {"kobayashi.mei"}


def test_trail_bucket_access_logging_fails_and_its_twin_passes(catalog: Catalog, scanned) -> None:  # type: ignore[no-untyped-def]
    """CIS AWS 4.4 on the demo's trails: the legacy trail's bucket has no server access
    logging (fail), the audit trail's bucket logs to the access-log bucket (pass)."""
    resources, _ = scanned
    policy = catalog.policies["aws.cloudtrail.s3_bucket_access_logging"]
    trails = [r for r in resources if r.type == "aws.cloudtrail.trail"]
    names = {r.uid: r.name for r in trails}
    by_name = {names[r.resource_uid]: r for r in evaluate([policy], trails)}
    legacy = next(n for n in by_name if "legacy" in n)
    audit = next(n for n in by_name if "audit" in n)
    assert by_name[legacy].status is Status.FAIL
    assert by_name[legacy].statement is not None
    assert (
        "Server access logging is not enabled on the S3 bucket" in by_name[legacy].statement["en"]
    )
    assert "サーバーアクセスログ記録が有効になっていません" in by_name[legacy].statement["ja"]
    assert by_name[audit].status is Status.PASS
    assert all(r.status is not Status.UNKNOWN for r in by_name.values())  # our own buckets
