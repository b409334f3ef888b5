"""aws.s3.block_public_access on moto: plan diff, apply resolves, rollback restores, drift aborts."""

from __future__ import annotations

from .conftest import Repair

POLICY = "aws.s3.bucket_block_public_access"
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
PARTIAL = {**ALL_ON, "RestrictPublicBuckets": False, "BlockPublicPolicy": False}


def _bucket(repair: Repair, name: str, config: dict[str, bool] | None) -> None:
    s3 = repair.client("s3")
    s3.create_bucket(Bucket=name)
    if config is not None:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=config)


def _live(repair: Repair, name: str) -> dict[str, bool] | None:
    s3 = repair.client("s3")
    try:
        answer = s3.get_public_access_block(Bucket=name)
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
        return None
    config: dict[str, bool] = answer["PublicAccessBlockConfiguration"]
    return config


def test_plan_shows_before_and_after_and_changes_nothing(repair: Repair) -> None:
    repair.setup([POLICY])
    _bucket(repair, "acme-partial", PARTIAL)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-partial")
    assert run.state == "planned"
    assert run.before == PARTIAL and run.after == ALL_ON
    assert _live(repair, "acme-partial") == PARTIAL
    assert repair.audit("fix.plan")[0]["before"] == PARTIAL


def test_apply_resolves_the_finding_and_rollback_restores_exactly(repair: Repair) -> None:
    repair.setup([POLICY])
    _bucket(repair, "acme-open", None)
    outcome = repair.fix(POLICY, ":::acme-open")
    assert outcome.executed and outcome.run.state == "verified", outcome.run.reason
    assert _live(repair, "acme-open") == ALL_ON
    finding = repair.finding(POLICY, ":::acme-open")
    assert finding.state == "resolved"
    assert repair.events(finding.id)[-1] == ("resolved", "fixed")

    back = repair.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _live(repair, "acme-open") is None  # it had no configuration: deleted again
    assert repair.finding(POLICY, ":::acme-open").state == "open"


def test_rollback_puts_back_a_partial_configuration(repair: Repair) -> None:
    repair.setup([POLICY])
    _bucket(repair, "acme-partial", PARTIAL)
    outcome = repair.fix(POLICY, ":::acme-partial")
    assert outcome.run.state == "verified"
    assert repair.rollback(outcome.run).run.state == "rolled_back"
    assert _live(repair, "acme-partial") == PARTIAL


def test_a_resource_changed_after_the_plan_is_not_touched(repair: Repair) -> None:
    repair.setup([POLICY])
    _bucket(repair, "acme-open", None)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    repair.approve(run)
    someone_else = {**ALL_ON, "IgnorePublicAcls": False}
    repair.client("s3").put_public_access_block(
        Bucket="acme-open", PublicAccessBlockConfiguration=someone_else
    )
    outcome = repair.apply(run)
    assert outcome.run.state == "aborted"
    assert "changed since the plan" in outcome.run.reason
    assert _live(repair, "acme-open") == someone_else
    assert repair.audit("fix.abort")[0]["reason"] == outcome.run.reason


def test_dry_run_apply_only_rechecks(repair: Repair) -> None:
    from posture.operations.fixes import apply_fix

    repair.setup([POLICY])
    _bucket(repair, "acme-open", None)
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    repair.approve(run)
    outcome = apply_fix(repair.ops, run.id)
    assert not outcome.executed and outcome.would_abort == ""
    assert outcome.run.state == "approved"
    assert _live(repair, "acme-open") is None
