"""Examples in the documentation are valid content and behave as they say."""

from __future__ import annotations

import re
from pathlib import Path

from posture.catalog.policy import Policy
from posture.content import builtin_dir
from posture.engine import run_policy_tests
from posture.yamlload import load_yaml


def test_policy_readme_example_is_a_valid_policy(tmp_path: Path) -> None:
    text = (builtin_dir("policies") / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block
    doc = load_yaml(tmp_path / "example.yaml", block.group(1))
    policy = Policy.model_validate(doc.data)
    outcomes = run_policy_tests(policy)
    assert {o.expected for o in outcomes} == {"pass", "fail", "not_applicable"}
    assert all(o.ok for o in outcomes)


def test_scanner_readme_example_is_a_valid_spec(tmp_path: Path) -> None:
    from posture.catalog.spec import ResourceSpec
    from posture.connectors.aws.validate import check_specs

    text = (builtin_dir("scanners") / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block
    doc = load_yaml(tmp_path / "example.yaml", block.group(1))
    ((type_name, body),) = doc.data.items()
    spec = ResourceSpec.model_validate({**body, "type": type_name})
    assert check_specs([spec]) == []
