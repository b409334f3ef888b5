"""A process stopped at any step boundary leaves a run that resume finishes from live state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from posture.operations import fixes
from posture.operations.fixes import (
    CRASH_ENV,
    CRASH_EXIT,
    INTERRUPTED,
    apply_fix,
    resume_fix_runs,
    rollback_fix,
    show_fix_run,
)

from .conftest import Repair

POLICY = "aws.s3.bucket_block_public_access"
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class Killed(BaseException):
    """Stands in for the process dying at the crash point."""


@pytest.fixture
def crash(monkeypatch: pytest.MonkeyPatch) -> Any:
    def die() -> None:
        raise Killed

    monkeypatch.setattr(fixes, "_die", die)

    def at(point: str) -> None:
        monkeypatch.setenv(CRASH_ENV, point)

    return at


def _live(repair: Repair) -> Any:
    s3 = repair.client("s3")
    try:
        return s3.get_public_access_block(Bucket="acme-open")["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        return None


def _approved(repair: Repair) -> fixes.FixRunInfo:
    repair.setup([POLICY])
    repair.client("s3").create_bucket(Bucket="acme-open")
    repair.scan([POLICY])
    run = repair.plan(POLICY, ":::acme-open")
    return repair.approve(run)


def _killed_apply(repair: Repair, crash: Any, point: str) -> fixes.FixRunInfo:
    run = _approved(repair)
    crash(point)
    with pytest.raises(Killed):
        apply_fix(repair.ops, run.id, execute=True)
    os.environ.pop(CRASH_ENV)
    return run


def test_stopped_before_the_change_fails_saying_nothing_changed(repair: Repair, crash: Any) -> None:
    run = _killed_apply(repair, crash, "applying")
    assert show_fix_run(repair.ops, run.id).state == "applying"
    (resumed,) = resume_fix_runs(repair.ops)
    assert resumed.state == "failed" and resumed.reason == INTERRUPTED
    assert _live(repair) is None
    assert repair.finding(POLICY, ":::acme-open").state == "open"


def test_stopped_after_the_change_but_before_recording_it_is_verified(
    repair: Repair, crash: Any
) -> None:
    run = _killed_apply(repair, crash, "changed")
    assert show_fix_run(repair.ops, run.id).state == "applying"
    (resumed,) = resume_fix_runs(repair.ops)
    assert resumed.state == "verified"
    assert [s["state"] for s in resumed.steps][-3:] == ["applying", "applied", "verified"]
    assert repair.finding(POLICY, ":::acme-open").state == "resolved"


def test_stopped_after_applied_is_verified(repair: Repair, crash: Any) -> None:
    run = _killed_apply(repair, crash, "applied")
    assert show_fix_run(repair.ops, run.id).state == "applied"
    (resumed,) = resume_fix_runs(repair.ops)
    assert resumed.state == "verified"
    assert _live(repair) == ALL_ON


def test_a_half_state_is_rolled_back(repair: Repair, crash: Any) -> None:
    _killed_apply(repair, crash, "applying")
    half = {**ALL_ON, "RestrictPublicBuckets": False}  # neither before nor after
    repair.client("s3").put_public_access_block(
        Bucket="acme-open", PublicAccessBlockConfiguration=half
    )
    (resumed,) = resume_fix_runs(repair.ops)
    assert resumed.state == "rolled_back"
    assert _live(repair) is None


@pytest.mark.parametrize("point", ["rolling_back", "restored"])
def test_a_stopped_rollback_is_finished(repair: Repair, crash: Any, point: str) -> None:
    run = _approved(repair)
    assert apply_fix(repair.ops, run.id, execute=True).run.state == "verified"
    crash(point)
    with pytest.raises(Killed):
        rollback_fix(repair.ops, run.id, execute=True)
    os.environ.pop(CRASH_ENV)
    assert show_fix_run(repair.ops, run.id).state == "rolling_back"
    (resumed,) = resume_fix_runs(repair.ops)
    assert resumed.state == "rolled_back"
    assert _live(repair) is None


def test_every_fix_command_resumes_first(repair: Repair, crash: Any) -> None:
    run = _killed_apply(repair, crash, "applied")
    repair.client("s3").create_bucket(Bucket="acme-other")
    repair.scan([POLICY])
    repair.plan(POLICY, ":::acme-other")  # any fix command takes up the stopped run
    assert show_fix_run(repair.ops, run.id).state == "verified"
    assert repair.audit("fix.resume")[0]["state"] == "applied"


def test_a_killed_cli_process_is_resumed_by_the_next_one(repair: Repair, tmp_path: Path) -> None:
    if repair.store.engine.dialect.name != "sqlite":
        pytest.skip("the subprocess reads the SQLite file of this test")
    run = _approved(repair)
    env = {
        **os.environ,
        "POSTURE_DATABASE_URL": str(repair.store.engine.url),
        "PYTHONPATH": "src",
        CRASH_ENV: "changed",
    }
    command = [sys.executable, "-m", "posture", "fix", "apply", run.id, "--execute"]
    killed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == CRASH_EXIT, killed.stderr
    assert show_fix_run(repair.ops, run.id).state == "applying"
    assert _live(repair) == ALL_ON
    env.pop(CRASH_ENV)
    resumed = subprocess.run(
        [sys.executable, "-m", "posture", "fix", "resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"fix run {run.id}: verified" in resumed.stdout
    assert show_fix_run(repair.ops, run.id).state == "verified"


def test_a_run_already_taken_up_is_not_resumed_twice(repair: Repair, crash: Any) -> None:
    run = _killed_apply(repair, crash, "applied")
    stale = fixes._live(repair.ops, run.id)  # what a second process read before the first
    (resumed,) = resume_fix_runs(repair.ops)
    assert resumed.state == "verified"
    assert fixes._resume_one_from(repair.ops, stale).state == "verified"
    states = [s["state"] for s in show_fix_run(repair.ops, run.id).steps]
    assert states.count("verified") == 1


def test_two_applies_of_one_run_change_it_once(repair: Repair) -> None:
    from posture.errors import UsageError

    run = _approved(repair)
    stale = fixes._live(repair.ops, run.id)
    assert apply_fix(repair.ops, run.id, execute=True).run.state == "verified"
    with pytest.raises(UsageError, match="another process acted on it first"):
        fixes._step(repair.ops, stale.run.id, "applying", "fix.apply", expect=("approved",))
