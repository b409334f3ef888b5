"""posture fix ... from the command line: dry runs by default, two people, kill switch."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from posture.cli import app
from posture.cli.runtime import run_app
from posture.operations.fixes import list_fix_runs

from .conftest import Repair

POLICY = "aws.s3.bucket_block_public_access"


@pytest.fixture
def cli(repair: Repair, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    if repair.store.engine.dialect.name != "sqlite":
        pytest.skip("one store kind is enough for the command line")
    url = str(repair.store.engine.url)

    def run(actor: str, *args: str) -> tuple[int, str]:
        code = run_app(app, ["--db", url, "--actor", actor, *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def test_plan_approve_apply_from_the_command_line(
    repair: Repair, cli: Callable[..., tuple[int, str]]
) -> None:
    repair.setup([POLICY])
    repair.client("s3").create_bucket(Bucket="acme-open")
    repair.scan([POLICY])

    code, out = cli("alice", "fix", "plan", "--tenant", "acme", "--policy", POLICY)
    assert code == 0, out
    assert '"BlockPublicAcls": true' in out and "before:   null" in out
    (run,) = list_fix_runs(repair.ops, "acme")

    code, out = cli("alice", "fix", "approve", run.id)
    assert code == 1 and "another person must approve it" in out
    code, out = cli("bob", "fix", "approve", run.id[:8])
    assert code == 0 and "approved by bob" in out

    code, out = cli("alice", "fix", "apply", run.id)
    assert code == 0 and "nothing was changed" in out
    assert list_fix_runs(repair.ops, "acme")[0].state == "approved"

    code, out = cli("carol", "fix", "kill-switch", "on", "--reason", "change freeze")
    assert code == 0 and "kill switch ON: change freeze" in out
    code, out = cli("alice", "fix", "apply", run.id, "--execute")
    assert code == 1 and "kill switch" in out
    cli("carol", "fix", "kill-switch", "off")

    code, out = cli("alice", "fix", "apply", run.id, "--yes")
    assert code == 0 and f"fix run {run.id}: verified" in out
    code, out = cli("alice", "fix", "show", run.id)
    assert code == 0 and "verified" in out and "bob" in out
    code, out = cli("alice", "fix", "rollback", run.id, "--execute")
    assert code == 0 and "rolled_back" in out
