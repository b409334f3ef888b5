"""Framework coverage through the operations layer, on a small framework and policy folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from posture.catalog import load_catalog
from posture.errors import ContentError, UsageError
from posture.operations import Operations
from posture.operations.frameworks import (
    framework_controls,
    framework_coverage,
    list_frameworks,
)
from posture.operations.policies import list_policies
from tests.unit.test_catalog import GOOD, write_policy

# five controls: c1 mapped, c2 manual but mapped, c3 manual, c4 and c5 neither
FRAMEWORK = """\
id: test-fw-1.0
name: {en: Test framework, ja: テスト用フレームワーク}
provider: aws
version: "1.0"
controls:
- {id: "1.1", title: {en: One, ja: 一つ目を確認する}}
- id: "1.2"
  title: {en: Two, ja: 二つ目を確認する}
  automation: manual
  reason: {en: Needs a person, ja: 担当者による確認が必要です}
- id: "1.3"
  title: {en: Three, ja: 三つ目を確認する}
  automation: manual
  reason: {en: Needs a person, ja: 担当者による確認が必要です}
- {id: "1.4", title: {en: Four, ja: 四つ目を確認する}}
- {id: "1.5", title: {en: Five, ja: 五つ目を確認する}}
"""

MAPPED = GOOD.replace(
    'frameworks: {cis-aws-7.0: ["3.1.2"]}', 'frameworks: {test-fw-1.0: ["1.1", "1.2"]}'
)


def content(folder: Path, framework: str = FRAMEWORK) -> Path:
    (folder / "frameworks").mkdir(parents=True, exist_ok=True)
    (folder / "frameworks" / "test-fw.yaml").write_text(
        textwrap.dedent(framework), encoding="utf-8"
    )
    write_policy(folder, MAPPED)
    return folder


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Operations:
    """Built-in content plus the small folder, loaded once for the module."""
    ops = Operations(policy_dirs=[content(tmp_path_factory.mktemp("content"))])
    ops.catalog()
    return ops


def test_coverage_counts_automated_manual_and_uncovered(ops: Operations) -> None:
    (row,) = framework_coverage(ops, "test-fw-1.0")
    assert row.as_dict() == {
        "id": "test-fw-1.0",
        "total": 5,
        "automated": 2,
        "manual": 1,
        "uncovered": 2,
    }
    assert row.name.ja == "テスト用フレームワーク"


def test_controls_say_which_policy_checks_them_or_why_not(ops: Operations) -> None:
    rows = framework_controls(ops, "test-fw-1.0")
    assert [(r.id, r.status, r.policies) for r in rows] == [
        ("1.1", "automated", ("custom.s3.versioning_on",)),
        ("1.2", "automated", ("custom.s3.versioning_on",)),
        ("1.3", "manual", ()),
        ("1.4", "uncovered", ()),
        ("1.5", "uncovered", ()),
    ]
    assert rows[2].reason.ja == "担当者による確認が必要です"
    assert rows[1].reason.en == "" and rows[3].reason.en == ""
    with pytest.raises(UsageError, match="unknown framework 'nope'"):
        framework_controls(ops, "nope")


def test_every_framework_adds_up(ops: Operations) -> None:
    rows = framework_coverage(ops)
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert {"cis-aws-7.0", "test-fw-1.0", "cis-m365-7.0"} <= {r.id for r in rows}
    for row in rows:
        assert row.automated + row.manual + row.uncovered == row.total


def test_list_frameworks_names_provider_and_size(ops: Operations) -> None:
    rows = {r.id: r for r in list_frameworks(ops)}
    assert (rows["test-fw-1.0"].provider, rows["test-fw-1.0"].total) == ("aws", 5)
    assert rows["cis-m365-7.0"].provider == "m365"


def test_unknown_framework_is_a_usage_error(ops: Operations) -> None:
    with pytest.raises(UsageError, match=r"unknown framework 'nope'.*cis-aws-7\.0"):
        framework_coverage(ops, "nope")
    with pytest.raises(UsageError, match="unknown framework 'nope'"):
        list_policies(ops, framework="nope")


def test_list_policies_filters_by_provider_and_framework(ops: Operations) -> None:
    (row,) = list_policies(ops, framework="test-fw-1.0")
    assert (row.id, row.provider, row.resource, row.severity) == (
        "custom.s3.versioning_on",
        "custom",
        "aws.s3.bucket",
        "low",
    )
    assert row.frameworks == {"test-fw-1.0": ["1.1", "1.2"]}
    assert all(r.provider == "aws" for r in list_policies(ops, provider="aws"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '  reason: {en: Needs a person, ja: 担当者による確認が必要です}\n- id: "1.3"',
            '- id: "1.3"',
            "control '1.2' is marked 'automation: manual' but has no 'reason",
        ),
        (
            '- {id: "1.4", title: {en: Four, ja: 四つ目を確認する}}',
            '- {id: "1.4", title: {en: Four, ja: 四つ目を確認する}, reason: {en: x, ja: 理由}}',
            "control '1.4' has a 'reason' but is not marked 'automation: manual'",
        ),
        ("automation: manual", "automation: later", "Input should be 'manual'"),
        ('{id: "1.5"', '{id: "1.4"', "control '1.4' is listed twice"),
        ("ja: 担当者による確認が必要です", "ja: 担当者による 確認が必要です", "Japanese text"),
    ],
)
def test_broken_manual_markings_name_the_file(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in FRAMEWORK
    content(tmp_path, FRAMEWORK.replace(old, new, 1))
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path], builtin=False)
    assert message in str(info.value)
    assert str(tmp_path / "frameworks" / "test-fw.yaml") in str(info.value)
