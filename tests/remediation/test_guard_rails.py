"""Every guard rail refuses with a reason, and the refusal is in the audit log."""

from __future__ import annotations

import pytest

from posture.errors import FixRefused
from posture.operations.fixes import approve_fix, set_kill_switch

from .conftest import Repair

POLICY = "aws.s3.bucket_block_public_access"


def _open_bucket(
    repair: Repair, name: str = "acme-open", tags: dict[str, str] | None = None
) -> None:
    s3 = repair.client("s3")
    s3.create_bucket(Bucket=name)
    if tags:
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )


def _refused(repair: Repair, reason: str) -> dict[str, object]:
    entries = [d for d in repair.audit("fix.refused") if d["reason"] == reason]
    assert entries, repair.audit("fix.refused")
    return entries[-1]


def _live_unchanged(repair: Repair, name: str = "acme-open") -> bool:
    s3 = repair.client("s3")
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_public_access_block(Bucket=name)
    return True


def test_a_tenant_without_the_option_is_refused(repair: Repair) -> None:
    repair.setup([POLICY], enabled=False)
    _open_bucket(repair)
    repair.scan([POLICY])
    with pytest.raises(FixRefused, match="has not subscribed to setting repair") as info:
        repair.plan_all(policies=[POLICY])
    assert info.value.reason == "option_disabled"
    assert _refused(repair, "option_disabled")
    assert _live_unchanged(repair)


def test_a_policy_the_tenant_did_not_allow_is_refused(repair: Repair) -> None:
    repair.setup(["aws.ec2.*"])
    _open_bucket(repair)
    repair.scan([POLICY])
    with pytest.raises(FixRefused, match="not among the policies the tenant allows"):
        repair.plan_all(policies=[POLICY])
    assert _refused(repair, "policy_not_allowed")["policy"] == POLICY


def test_a_resource_tagged_no_fix_is_refused(repair: Repair) -> None:
    repair.setup([POLICY])
    _open_bucket(repair, "acme-keep", {"posture:no-fix": "true"})
    _open_bucket(repair, "acme-open")
    repair.scan([POLICY])
    outcome = repair.plan_all(policies=[POLICY])
    assert [r.resource_name for r in outcome.runs] == ["acme-open"]
    (refused,) = outcome.refused
    assert refused.reason == "excluded_tag" and refused.resource_uid.endswith("acme-keep")
    assert "posture:no-fix" in str(_refused(repair, "excluded_tag")["message"])


def test_a_resource_matching_an_exclusion_pattern_is_refused(repair: Repair) -> None:
    repair.setup([POLICY], exclude_resources=["arn:aws:s3:::acme-*"])
    _open_bucket(repair)
    repair.scan([POLICY])
    with pytest.raises(FixRefused, match="matches the exclusion"):
        repair.plan_all(policies=[POLICY])
    assert _refused(repair, "excluded_resource")


def test_the_kill_switch_stops_plans_and_applies_in_every_process(repair: Repair) -> None:
    repair.setup([POLICY])
    _open_bucket(repair)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    repair.approve(run)
    set_kill_switch(repair.approver, True, reason="incident 7 under investigation")
    with pytest.raises(FixRefused, match="incident 7 under investigation"):
        repair.apply(run)
    assert _refused(repair, "kill_switch")
    assert _live_unchanged(repair)
    assert repair.audit("fix.kill_switch")[0]["disabled"] is True
    set_kill_switch(repair.approver, False)
    assert repair.apply(run).run.state == "verified"


def test_the_environment_switch_stops_fixes(
    repair: Repair, monkeypatch: pytest.MonkeyPatch
) -> None:
    repair.setup([POLICY])
    _open_bucket(repair)
    repair.scan([POLICY])
    monkeypatch.setenv("POSTURE_FIXES_DISABLED", "1")
    with pytest.raises(FixRefused, match="POSTURE_FIXES_DISABLED"):
        repair.plan_all(policies=[POLICY])
    assert _refused(repair, "kill_switch")


def test_a_connection_without_write_credentials_is_refused_by_name(repair: Repair) -> None:
    repair.setup([POLICY], write=False)
    _open_bucket(repair)
    repair.scan([POLICY])
    with pytest.raises(FixRefused) as info:
        repair.plan_all(policies=[POLICY])
    assert info.value.reason == "no_write_credentials"
    assert "connection 'prod' of tenant 'acme' has no write credentials" in str(info.value)
    assert "posture connection set-write --tenant acme --name prod" in str(info.value)
    assert _refused(repair, "no_write_credentials")


def test_set_write_credentials_enables_the_fix(repair: Repair) -> None:
    from posture.operations.connections import set_write_credentials

    repair.setup([POLICY], write=False)
    _open_bucket(repair)
    repair.scan([POLICY])
    set_write_credentials(
        repair.ops, "acme", "prod", role_arn="arn:aws:iam::123456789012:role/PostureFix"
    )
    assert len(repair.plan_all(policies=[POLICY]).runs) == 1
    assert repair.audit("connection.set_write")[0]["write"]["role_arn"].endswith("PostureFix")


def test_the_hourly_rate_limit_refuses_the_next_fix(repair: Repair) -> None:
    repair.setup([POLICY], max_per_hour=1)
    _open_bucket(repair, "acme-one")
    _open_bucket(repair, "acme-two")
    repair.scan([POLICY])
    first, second = repair.plan_all(policies=[POLICY]).runs
    repair.approve(first)
    repair.approve(second)
    assert repair.apply(first).run.state == "verified"
    with pytest.raises(FixRefused, match="limit of 1 fixes per hour"):
        repair.apply(second)
    assert _refused(repair, "rate_limited")
    assert _live_unchanged(repair, second.resource_name)


def test_the_planner_cannot_approve_unless_the_tenant_allows(repair: Repair) -> None:
    repair.setup([POLICY])
    _open_bucket(repair)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    with pytest.raises(FixRefused, match="another person must approve it"):
        approve_fix(repair.ops, run.id)
    assert _refused(repair, "self_approval")
    repair.set_options(self_approval=True)
    assert approve_fix(repair.ops, run.id).approved_by == "alice"


def test_an_unapproved_run_is_not_applied(repair: Repair) -> None:
    from posture.errors import UsageError

    repair.setup([POLICY])
    _open_bucket(repair)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    with pytest.raises(UsageError, match="only an approved run can be applied"):
        repair.apply(run)
    assert _live_unchanged(repair)


def test_a_tag_added_after_the_plan_stops_the_apply(repair: Repair) -> None:
    repair.setup([POLICY])
    _open_bucket(repair)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    repair.approve(run)
    repair.client("s3").put_bucket_tagging(
        Bucket="acme-open", Tagging={"TagSet": [{"Key": "posture:no-fix", "Value": "1"}]}
    )
    repair.scan([POLICY])
    with pytest.raises(FixRefused, match="now carries the tag 'posture:no-fix'"):
        repair.apply(run)
    assert _refused(repair, "excluded_tag")
    assert _live_unchanged(repair)
