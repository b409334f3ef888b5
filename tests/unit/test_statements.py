"""Finding statements, commands and deciding evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from posture.catalog.policy import Policy
from posture.engine.conditions import EvalContext
from posture.engine.evaluate import judge
from posture.engine.statement import TemplateError, check_template
from posture.errors import ContentError
from posture.models import Status

NOW = datetime(2026, 12, 1, tzinfo=UTC)
IDENTITY = {"name": "web", "uid": "arn:x", "region": "ap-northeast-1", "account": "1", "type": "t"}


def _policy(**overrides: Any) -> Policy:
    body: dict[str, Any] = {
        "id": "aws.ec2.example_check",
        "resource": "aws.ec2.security_group",
        "severity": "high",
        "title": {"en": "t", "ja": "タイトル"},
        "rationale": {"en": "r", "ja": "理由"},
        "recommendation": {"en": "fix it", "ja": "修正してください"},
        "statement": {
            "en": "Group {{ GroupId }} allows {{ offending('Rules') | map('ip_permission') | join(', ') }}",
            "ja": "グループ {{ GroupId }} は {{ offending('Rules') | map('ip_permission') | join('、') }} を許可しています",
        },
        "condition": {
            "path": "Rules",
            "no_item": {"path": "Cidr", "eq": "0.0.0.0/0"},
        },
        "tests": [
            {"name": "ok", "expect": "pass", "resource": {"Rules": []}},
            {
                "name": "open",
                "expect": "fail",
                "statement": {"en": "?", "ja": "?"},
                "resource": {"GroupId": "sg-1", "Rules": []},
            },
        ],
    }
    body.update(overrides)
    return Policy.model_validate(body)


def test_statement_names_the_offending_items_in_both_languages() -> None:
    doc = {
        "GroupId": "sg-1",
        "Rules": [
            {"Cidr": "10.0.0.0/8", "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22},
            {"Cidr": "0.0.0.0/0", "IpProtocol": "-1"},
            {"Cidr": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 0, "ToPort": 1024},
        ],
    }
    verdict = judge(_policy(), doc, EvalContext(NOW), IDENTITY)
    assert verdict.status is Status.FAIL
    assert verdict.statement == {
        "en": "Group sg-1 allows all traffic, TCP 0-1024",
        "ja": "グループ sg-1 はすべてのトラフィック、TCP 0-1024 を許可しています",
    }
    summary = verdict.evidence[0]
    assert summary.path == "Rules"
    assert [o["index"] for o in summary.actual["offending"]] == [1, 2]


def test_missing_values_read_as_not_set_and_commands_are_filled() -> None:
    policy = _policy(
        statement={"en": "Group {{ GroupName }} is open", "ja": "グループ {{ GroupName }} が公開"},
        commands=[
            "aws ec2 describe-security-groups --group-ids {{ GroupId }} --region {{ resource.region }}"
        ],
    )
    verdict = judge(
        policy, {"GroupId": "sg-9", "Rules": [{"Cidr": "0.0.0.0/0"}]}, EvalContext(NOW), IDENTITY
    )
    assert verdict.statement == {"en": "Group not set is open", "ja": "グループ未設定が公開"}
    assert verdict.commands == (
        "aws ec2 describe-security-groups --group-ids sg-9 --region ap-northeast-1",
    )


def test_age_filters_use_the_evaluation_clock() -> None:
    policy = _policy(
        statement={
            "en": "Key 1 was last used on {{ used | date }}, {{ used | days_ago }} days ago",
            "ja": "キー 1 は {{ used | date }} 以降 {{ used | days_ago }} 日間使われていません",
        },
        condition={"path": "used", "within_days": 45},
        tests=[
            {"name": "ok", "expect": "pass", "resource": {"used": "2026-11-30T00:00:00Z"}},
            {
                "name": "old",
                "expect": "fail",
                "statement": {"en": "?", "ja": "?"},
                "resource": {"used": "x"},
            },
        ],
    )
    verdict = judge(policy, {"used": "2026-08-23T10:00:00+00:00"}, EvalContext(NOW), IDENTITY)
    assert verdict.statement == {
        "en": "Key 1 was last used on 2026-08-23, 99 days ago",
        "ja": "キー 1 は 2026-08-23 以降 99 日間使われていません",
    }


def test_failed_alternatives_on_one_field_give_one_evidence_line() -> None:
    policy = _policy(
        condition={
            "any": [
                {"path": "used", "exists": False},
                {"path": "used", "within_days": 45},
                {"path": "active", "ne": True},
            ]
        }
    )
    verdict = judge(
        policy, {"used": "2020-01-01T00:00:00Z", "active": True}, EvalContext(NOW), IDENTITY
    )
    paths = [e.path for e in verdict.evidence]
    assert paths == ["used", "active"]


def test_not_applicable_carries_its_reason() -> None:
    policy = _policy(applies_when={"path": "active", "eq": True})
    verdict = judge(policy, {"active": False}, EvalContext(NOW), IDENTITY)
    assert verdict.status is Status.NOT_APPLICABLE
    assert "active is False" in verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "aws ec2 revoke-security-group-ingress --group-id sg-0123456789abcdef0",
        "aws iam delete-login-profile --user-name <user-name>",
        "aws iam delete-login-profile --user-name <ユーザー名>",
        "aws cloudtrail update-trail --name TRAIL",
    ],
)
def test_placeholders_in_recommendations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        _policy(recommendation={"en": text, "ja": "修正してください"})


def test_a_failing_case_without_its_statement_is_refused() -> None:
    tests = [
        {"name": "ok", "expect": "pass", "resource": {"Rules": []}},
        {"name": "open", "expect": "fail", "resource": {"Rules": []}},
    ]
    with pytest.raises(ValueError, match="give the 'statement'"):
        _policy(tests=tests)


def test_template_checks() -> None:
    assert check_template("{{ GroupId }} in {{ resource.region }} {{ offending('Rules') }}") == {
        "GroupId",
        "Rules",
    }
    with pytest.raises(TemplateError, match="unknown filter"):
        check_template("{{ GroupId | shout }}")
    with pytest.raises(TemplateError, match="syntax"):
        check_template("{{ GroupId ")


def test_loader_refuses_a_statement_field_the_resource_lacks(tmp_path: Path) -> None:
    from posture.catalog import load_catalog

    folder = tmp_path / "aws" / "ec2"
    folder.mkdir(parents=True)
    (folder / "typo_check.yaml").write_text(
        """id: aws.ec2.typo_check
resource: aws.ec2.security_group
severity: low
title: {en: t, ja: タイトル}
rationale: {en: r, ja: 理由}
recommendation: {en: fix, ja: 修正}
statement: {en: "Group {{ GropId }}", ja: "グループ {{ GropId }}"}
condition: {path: GroupId, exists: true}
tests:
  - {name: ok, expect: pass, resource: {GroupId: sg-1}}
  - {name: bad, expect: fail, statement: {en: "Group not set", ja: "グループ未設定"}, resource: {}}
""",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="reads 'GropId'") as info:
        load_catalog(policy_dirs=[tmp_path])
    assert "typo_check.yaml:7" in str(info.value)


def test_fields_the_api_never_returns_are_reported() -> None:
    from posture.catalog import load_catalog
    from posture.connectors.aws.validate import check_policy_fields, document_fields

    catalog = load_catalog()
    groups = document_fields(catalog.specs["aws.ec2.security_group"])
    assert groups is not None and {"GroupId", "GroupName", "IpPermissions"} <= groups
    instances = document_fields(catalog.specs["aws.ec2.instance"])  # Reservations[].Instances[]
    assert instances is not None and "MetadataOptions" in instances
    assert check_policy_fields(catalog.policies.values(), catalog.specs) == []
    typo = _policy(
        statement={"en": "Group {{ GropId }}", "ja": "グループ {{ GropId }}"},
        tests=[
            {"name": "ok", "expect": "pass", "resource": {"Rules": []}},
            {
                "name": "open",
                "expect": "fail",
                "statement": {"en": "?", "ja": "?"},
                "resource": {"GropId": "sg-1", "Rules": [{"Cidr": "0.0.0.0/0"}]},
            },
        ],
    )
    problems = check_policy_fields([typo], catalog.specs)
    assert any("reads 'GropId'" in p for p in problems)
    assert any("case 'open' has field(s) GropId, Rules" in p for p in problems)
