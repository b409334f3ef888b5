"""Unknown and per-detail error outcomes: validation of ``unknown_when``, the read paths of
a policy, and the engine's verdicts on resources with failed details."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import load_catalog
from posture.catalog.policy import Policy
from posture.catalog.spec import DetailSpec
from posture.content import builtin_dir
from posture.engine import evaluate, run_policy_tests
from posture.engine.conditions import read_keys
from posture.errors import ContentError
from posture.models import DetailFailure, Resource, Status

TRAIL_POLICY = """\
id: custom.cloudtrail.bucket_logs
resource: aws.cloudtrail.trail
severity: low
title: {en: Trail bucket does not log, ja: 証跡のバケットでログが記録されていません}
rationale: {en: Logs show access., ja: ログでアクセスが分かります。}
recommendation: {en: Turn logging on., ja: ログ記録を有効にしてください。}
statement: {en: "Bucket {{ S3BucketName }} does not log", ja: "バケット {{ S3BucketName }} でログが記録されていません"}
unknown_when: {path: _unknown.bucket_logging, exists: true}
unknown_reason: {en: "Bucket {{ S3BucketName }} is in another account", ja: "バケット {{ S3BucketName }} は別のアカウントにあります"}
condition: {path: bucket_logging.TargetBucket, exists: true}
tests:
  - {name: logs, expect: pass, resource: {bucket_logging: {TargetBucket: logs}}}
  - name: off
    expect: fail
    statement: {en: "Bucket b does not log", ja: "バケット b でログが記録されていません"}
    resource: {S3BucketName: b, bucket_logging: null}
  - name: elsewhere
    expect: unknown
    statement: {en: "Bucket b is in another account", ja: "バケット b は別のアカウントにあります"}
    resource: {S3BucketName: b, bucket_logging: null, _unknown: {bucket_logging: AccessDenied}}
"""


def load(tmp_path: Path, text: str) -> Any:
    folder = tmp_path / "custom" / "cloudtrail"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bucket_logs.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    # only this policy, with the built-in collection specs (fast)
    return load_catalog([builtin_dir("scanners")], [tmp_path], builtin=False)


def test_a_good_unknown_policy_loads_and_its_cases_run(tmp_path: Path) -> None:
    policy = load(tmp_path, TRAIL_POLICY).policies["custom.cloudtrail.bucket_logs"]
    outcomes = run_policy_tests(policy)
    assert [o.actual for o in outcomes] == ["pass", "fail", "unknown"]
    assert all(o.ok for o in outcomes), [o.explain() for o in outcomes]
    assert {"_unknown", "bucket_logging", "S3BucketName"} <= policy.reads


def test_an_unknown_case_must_render_its_reason(tmp_path: Path) -> None:
    text = TRAIL_POLICY.replace('"Bucket b is in another account"', '"Bucket b is somewhere else"')
    policy = load(tmp_path, text).policies["custom.cloudtrail.bucket_logs"]
    bad = [o for o in run_policy_tests(policy) if not o.ok]
    assert [o.case for o in bad] == ["elsewhere"]
    assert "statement [en] expected: Bucket b is somewhere else" in bad[0].explain()


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            'unknown_reason: {en: "Bucket {{ S3BucketName }} is in another account", ja: "バケット {{ S3BucketName }} は別のアカウントにあります"}\n',
            "",
            "unknown_when",
            "'unknown_when' needs an 'unknown_reason'",
        ),
        (
            "unknown_when: {path: _unknown.bucket_logging, exists: true}\n",
            "",
            "unknown_reason",
            "without an 'unknown_when'",
        ),
        (
            "unknown_when: {path: _unknown.bucket_logging, exists: true}",
            "unknown_when: {path: _unknown.bucket_logging, present: true}",
            "unknown_when.present",
            "unknown operator 'present'",
        ),
        (
            "unknown_when: {path: _unknown.bucket_logging, exists: true}",
            "unknown_when: {path: _unknown.bucket_logs, exists: true}",
            "unknown_when",
            "did you mean 'bucket_logging'?",
        ),
        (
            "Bucket {{ S3BucketName }} is in another account",
            "Bucket {{ S3BucketName | nosuchfilter }} is in another account",
            "unknown_reason.en",
            "unknown filter 'nosuchfilter'",
        ),
        (
            "Bucket {{ S3BucketName }} is in another account",
            "Bucket {{ BucketOwner }} is in another account",
            "statement",
            "reads 'BucketOwner'",
        ),
        (
            "  - name: elsewhere\n    expect: unknown\n",
            "  - name: elsewhere\n    expect: not_applicable\n",
            "tests[2]",
            "does not fail, so it renders no statement",
        ),
    ],
)
def test_bad_unknown_clauses_are_refused_naming_the_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    assert old in TRAIL_POLICY
    with pytest.raises(ContentError) as info:
        load(tmp_path, TRAIL_POLICY.replace(old, new))
    assert message in str(info.value)
    assert info.value.field is not None and info.value.field.startswith(field)


def test_unknown_marker_of_a_type_without_unknown_on_is_refused(tmp_path: Path) -> None:
    text = TRAIL_POLICY.replace("resource: aws.cloudtrail.trail", "resource: aws.s3.bucket")
    text = text.replace("S3BucketName", "Name").replace("bucket_logging", "logging")
    with pytest.raises(ContentError, match="it has no detail with 'unknown_on'"):
        load(tmp_path, text)


def test_expect_unknown_needs_unknown_when(tmp_path: Path) -> None:
    text = TRAIL_POLICY.replace(
        "unknown_when: {path: _unknown.bucket_logging, exists: true}\n", ""
    ).replace(
        'unknown_reason: {en: "Bucket {{ S3BucketName }} is in another account", ja: "バケット {{ S3BucketName }} は別のアカウントにあります"}\n',
        "",
    )
    with pytest.raises(ContentError, match="'expect: unknown' needs an 'unknown_when'"):
        load(tmp_path, text)


def test_unknown_when_needs_an_unknown_case(tmp_path: Path) -> None:
    text = TRAIL_POLICY[: TRAIL_POLICY.index("  - name: elsewhere")]
    with pytest.raises(ContentError, match="at least one case with 'expect: unknown'"):
        load(tmp_path, text)


def test_spec_refuses_unknown_if_without_codes_and_unknown_on_a_join() -> None:
    with pytest.raises(ValueError, match="'unknown_if' needs the 'unknown_on' codes"):
        DetailSpec.model_validate({"call": "get_bucket_logging", "unknown_if": "!own_bucket"})
    with pytest.raises(ValueError, match="not to a 'join'"):
        DetailSpec.model_validate(
            {
                "join": {"call": "list_buckets", "items": "Buckets", "key": "Name", "match": "x"},
                "unknown_on": ["AccessDenied"],
            }
        )


def test_read_keys_follow_the_document_root() -> None:
    clause = {
        "all": [
            {"path": "policy.Statement", "any_item": {"path": "Effect", "eq": "Allow"}},
            {
                "path": "trails",
                "count": {"where": {"path": "Name", "ne": {"field": "owner"}}, "ge": 1},
            },
            {"not": {"path": "tags[0].Key", "eq": "x"}},
            {"path": "@", "exists": True},
        ]
    }
    assert read_keys(clause) == {"policy", "trails", "owner", "tags", "*"}


def _policy(**extra: Any) -> Policy:
    base: dict[str, Any] = {
        "id": "custom.s3.encrypted",
        "resource": "aws.s3.bucket",
        "severity": "low",
        "title": {"en": "t", "ja": "タイトル"},
        "rationale": {"en": "r", "ja": "理由"},
        "recommendation": {"en": "r", "ja": "推奨"},
        "statement": {
            "en": "Bucket {{ Name }} is plain",
            "ja": "バケット {{ Name }} は暗号化されていません",
        },
        "condition": {"path": "encryption", "exists": True},
        "tests": [
            {"name": "on", "expect": "pass", "resource": {"encryption": {}}},
            {
                "name": "off",
                "expect": "fail",
                "statement": {"en": "Bucket b is plain", "ja": "バケット b は暗号化されていません"},
                "resource": {"Name": "b"},
            },
        ],
    }
    base.update(extra)
    return Policy.model_validate(base)


def test_a_failed_detail_errors_only_the_policies_that_read_it() -> None:
    encryption = _policy()
    versioning = _policy(
        id="custom.s3.versioned",
        condition={"path": "versioning.Status", "eq": "Enabled"},
        tests=[
            {"name": "on", "expect": "pass", "resource": {"versioning": {"Status": "Enabled"}}},
            {
                "name": "off",
                "expect": "fail",
                "statement": {"en": "Bucket b is plain", "ja": "バケット b は暗号化されていません"},
                "resource": {"Name": "b"},
            },
        ],
    )
    whole = _policy(id="custom.s3.whole", statement={"en": "{{ doc }}", "ja": "{{ doc }}"})
    gap = DetailFailure(
        "encryption", "s3:GetBucketEncryption", "AccessDenied", "denied", "s3:GetBucketEncryption"
    )
    bucket = Resource(
        "aws.s3.bucket",
        "arn:aws:s3:::b",
        "us-east-1",
        "b",
        {"Name": "b", "encryption": None, "versioning": {"Status": "Enabled"}},
        failed={"encryption": gap},
    )
    results = {r.policy_id: r for r in evaluate([encryption, versioning, whole], [bucket])}
    assert results["custom.s3.encrypted"].status is Status.ERROR
    assert results["custom.s3.encrypted"].resource_uid == "arn:aws:s3:::b"
    assert results["custom.s3.encrypted"].reason == (
        "could not read encryption: s3:GetBucketEncryption failed (AccessDenied), "
        "missing permission s3:GetBucketEncryption"
    )
    assert results["custom.s3.versioned"].status is Status.PASS
    assert results["custom.s3.whole"].status is Status.ERROR  # the statement reads `doc`
