"""Content validation through the operations layer."""

from __future__ import annotations

from pathlib import Path

from posture.operations import Operations
from posture.operations.policies import validate_content
from tests.unit.test_catalog import GOOD, write_policy


def test_validation_goes_on_past_a_broken_file(tmp_path: Path) -> None:
    write_policy(tmp_path, GOOD.replace("severity: low", "severity: urgent"))
    write_policy(
        tmp_path,
        GOOD.replace("custom.s3.versioning_on", "custom.s3.other").replace(
            "severity: low", "severity: [low"
        ),
        name="other.yaml",
    )
    check = validate_content(Operations(), [tmp_path])
    assert not check.ok
    assert sorted((Path(p.path or "").name, p.line) for p in check.problems) == [
        ("other.yaml", 3),
        ("versioning_on.yaml", 3),
    ]
    good = validate_content(Operations())
    assert good.ok and good.policies >= 40
