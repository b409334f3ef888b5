"""Every policy's own pass/fail cases, one pytest item per case."""

from __future__ import annotations

import pytest

from posture.catalog import load_catalog
from posture.engine import run_policy_tests

CATALOG = load_catalog()
CASES = [
    pytest.param(policy, index, id=f"{policy.id}::{case.name}")
    for policy in sorted(CATALOG.policies.values(), key=lambda p: p.id)
    for index, case in enumerate(policy.tests)
]


@pytest.mark.parametrize(("policy", "index"), CASES)
def test_policy_case(policy, index):  # type: ignore[no-untyped-def]
    outcome = run_policy_tests(policy)[index]
    assert outcome.ok, f"{policy.source}: case '{outcome.case}':\n{outcome.explain()}"


def test_every_policy_has_pass_and_fail_cases() -> None:
    for policy in CATALOG.policies.values():
        kinds = {case.expect for case in policy.tests}
        assert {"pass", "fail"} <= kinds, policy.id


def test_every_policy_is_bilingual_and_mapped() -> None:
    for policy in CATALOG.policies.values():
        for text in (policy.title, policy.rationale, policy.recommendation):
            assert text.en.strip() and text.ja.strip(), policy.id
            assert any(ord(ch) > 0x3000 for ch in text.ja), f"{policy.id}: ja text has no Japanese"
