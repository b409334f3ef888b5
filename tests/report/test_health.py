"""Connection health and collection issues read as sentences of the report's language."""

from __future__ import annotations

import pytest

from posture.report.health import connection_message, issue_view
from posture.report.i18n import load_messages
from posture.report.model import CollectionIssue, ConnectionHealth

DENIED = CollectionIssue(
    "aws-prod",
    "aws.s3.bucket",
    "ap-northeast-1",
    "s3:GetBucketPolicy in ap-northeast-1 failed: AccessDenied: Access Denied",
    code="AccessDenied",
    permission="s3:GetBucketPolicy",
)


@pytest.mark.parametrize(
    ("issue", "en", "ja"),
    [
        (
            DENIED,
            "Access denied: grant the permission s3:GetBucketPolicy.",
            "アクセスが拒否されました。s3:GetBucketPolicy の権限を付与してください。",
        ),
        (
            CollectionIssue("c", "aws.s3.bucket", "us-east-1", "x", "Throttling", "s3:ListBuckets"),
            "The call s3:ListBuckets failed (Throttling).",
            "s3:ListBuckets の呼び出しに失敗しました（Throttling）。",
        ),
        (
            CollectionIssue("c", "aws.s3.bucket", "us-east-1", "x", "InternalError"),
            "An internal error stopped the collection of this resource type.",
            "内部エラーのため、このリソース種別の収集を完了できませんでした。",
        ),
        (
            CollectionIssue("c", "aws.s3.bucket", "us-east-1", "x", "SpecError"),
            "The collection spec of this resource type is invalid.",
            "このリソース種別の収集定義に誤りがあります。",
        ),
        (
            CollectionIssue("c", "aws.iam.summary", "global", "depends on aws.iam.user"),
            "This resource type could not be collected.",
            "このリソース種別を収集できませんでした。",
        ),
    ],
)
def test_issue_sentence_in_both_languages(issue: CollectionIssue, en: str, ja: str) -> None:
    assert issue_view(issue, load_messages("en")).message == en
    assert issue_view(issue, load_messages("ja")).message == ja


def test_issue_keeps_the_recorded_error_as_detail() -> None:
    view = issue_view(DENIED, load_messages("ja"))
    assert (view.connection, view.resource_type, view.region) == (
        "aws-prod",
        "aws.s3.bucket",
        "ap-northeast-1",
    )
    assert view.detail == DENIED.message


def test_failed_connection_covers_every_type_and_region() -> None:
    issue = CollectionIssue("aws-prod", "*", "*", "AWS credentials were rejected")
    view = issue_view(issue, load_messages("ja"))
    assert (view.resource_type, view.region) == ("すべて", "すべて")
    assert view.message.startswith("接続をスキャンできなかったため")
    assert view.detail == "AWS credentials were rejected"


def _health(status: str, message: str) -> ConnectionHealth:
    return ConnectionHealth("aws-prod", "aws", "123456789012", status, message, None)


@pytest.mark.parametrize(
    ("status", "recorded", "ja", "detail"),
    [
        ("ok", "account 123456789012, 17 region(s)", "", ""),
        ("never", "", "", ""),
        (
            "partial",
            "2 resource type(s) could not be collected",
            "一部のリソース種別を収集できませんでした。収集エラーを参照してください。",
            "",
        ),
        (
            "failed",
            "connection 'aws-prod': AWS credentials were rejected or are missing",
            "サインインまたは収集に失敗しました。",
            "connection 'aws-prod': AWS credentials were rejected or are missing",
        ),
    ],
)
def test_connection_message_replaces_recorded_english(
    status: str, recorded: str, ja: str, detail: str
) -> None:
    assert connection_message(_health(status, recorded), load_messages("ja")) == (ja, detail)


def test_unknown_connection_status_keeps_what_was_recorded() -> None:
    assert connection_message(_health("paused", "paused by an operator"), load_messages("ja")) == (
        "",
        "paused by an operator",
    )
