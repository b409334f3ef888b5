"""Crosswalks: a framework control that ``maps`` controls of another framework is answered
by every policy mapped to them, and a broken crosswalk names its file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from posture.catalog import load_catalog
from posture.errors import ContentError
from posture.operations import Operations
from posture.operations.frameworks import framework_controls, framework_coverage
from posture.store import Store

CROSSWALK = """
    id: test-catalogue
    name: {en: Test catalogue, ja: テスト用カタログ}
    provider: any
    version: "1"
    controls:
      - id: AC-1
        title: {en: Least privilege, ja: 最小権限}
        maps: {cis-aws-7.0: ["2.14"]}
      - id: AU-1
        title: {en: Audit records, ja: 監査記録}
        maps: {test-middle: ["M-1"]}
      - id: PE-1
        title: {en: Physical access, ja: 物理的なアクセス}
        automation: manual
        reason: {en: Facilities are not an API., ja: 施設は API では確認できません。}
      - id: XX-1
        title: {en: Not mapped, ja: 未対応}
"""
MIDDLE = """
    id: test-middle
    name: {en: Middle, ja: 中間}
    provider: aws
    version: "1"
    controls:
      - id: M-1
        title: {en: Trails, ja: 証跡}
        maps: {cis-aws-7.0: ["4.1"]}
"""


def policies_dir(tmp_path: Path, **frameworks: str) -> Path:
    root = tmp_path / "policies"
    (root / "frameworks").mkdir(parents=True)
    for name, text in frameworks.items():
        (root / "frameworks" / f"{name}.yaml").write_text(textwrap.dedent(text), "utf-8")
    return root


def test_a_crosswalk_follows_the_benchmark_policies(tmp_path: Path) -> None:
    catalog = load_catalog([], [policies_dir(tmp_path, catalogue=CROSSWALK, middle=MIDDLE)])
    cis_214 = {
        p.id for p in catalog.policies.values() if "2.14" in p.frameworks.get("cis-aws-7.0", [])
    }
    cis_41 = {
        p.id for p in catalog.policies.values() if "4.1" in p.frameworks.get("cis-aws-7.0", [])
    }
    assert cis_214 and cis_41
    for pid in cis_214:
        assert "AC-1" in catalog.policies[pid].frameworks["test-catalogue"]
        assert "2.14" in catalog.policies[pid].frameworks["cis-aws-7.0"]  # its own mapping kept
    for pid in cis_41:  # through the middle framework
        assert catalog.policies[pid].frameworks["test-middle"] == ["M-1"]
        assert "AU-1" in catalog.policies[pid].frameworks["test-catalogue"]
    ops = Operations.using(Store(f"sqlite:///{tmp_path / 'p.db'}"), catalog)
    (row,) = framework_coverage(ops, "test-catalogue")
    assert (row.total, row.automated, row.manual, row.uncovered) == (4, 2, 1, 1)
    status = {c.id: (c.status, set(c.policies)) for c in framework_controls(ops, "test-catalogue")}
    assert status["AC-1"] == ("automated", cis_214)
    assert status["XX-1"] == ("uncovered", set())


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ('{cis-aws-9.9: ["2.14"]}', "maps to unknown framework 'cis-aws-9.9'"),
        ('{cis-aws-7.0: ["99.1"]}', "maps to '99.1', which is not a control of 'cis-aws-7.0'"),
    ],
)
def test_a_broken_crosswalk_names_file_line_and_field(
    tmp_path: Path, broken: str, message: str
) -> None:
    text = CROSSWALK.replace('{cis-aws-7.0: ["2.14"]}', broken)
    folder = policies_dir(tmp_path, catalogue=text)
    with pytest.raises(ContentError) as caught:
        load_catalog([], [folder])
    error = caught.value
    assert message in error.message
    assert error.path is not None and Path(error.path).name == "catalogue.yaml"
    assert error.line == 9 and error.field == "controls[0].maps." + broken[1:].split(":")[0]
