"""Connection health and collection issues in the reader's language.

The store keeps what a scan or a connection check wrote: a status and the error text of
the provider or of posture, in English. A report states the situation with a sentence
from the message catalog and keeps the original text only as a technical detail, so a
Japanese reader never sees an English-only status.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.report.i18n import Messages
from posture.report.model import CollectionIssue, ConnectionHealth

# A connection-level failure is recorded with "*" for the resource type and the region.
WHOLE_CONNECTION = "*"
_DENIED = ("AccessDenied", "Unauthorized")
_CODE_KEYS = {"InternalError": "internal", "SpecError": "spec"}


@dataclass(frozen=True)
class IssueView:
    connection: str
    resource_type: str
    region: str
    message: str  # catalog sentence
    detail: str  # the recorded error text, verbatim


def connection_message(connection: ConnectionHealth, messages: Messages) -> tuple[str, str]:
    """(sentence, detail): the detail is kept only where it explains a failure."""
    sentence = messages.get(f"connection_message.{connection.status}", "")
    if connection.status == "failed" and connection.reason_code:
        sentence = messages.get(f"connection_reason.{connection.reason_code}", sentence)
    known = connection.status in ("ok", "partial", "never", "no_scan")
    return sentence, "" if known else connection.message


def issue_view(issue: CollectionIssue, messages: Messages) -> IssueView:
    everything = messages("collection.all")
    whole = issue.resource_type == WHOLE_CONNECTION
    return IssueView(
        connection=issue.connection,
        resource_type=everything if whole else issue.resource_type,
        region=everything if issue.region == WHOLE_CONNECTION else issue.region,
        message=_issue_sentence(issue, whole, messages),
        detail=issue.message,
    )


def _issue_sentence(issue: CollectionIssue, whole: bool, messages: Messages) -> str:
    if whole:
        return messages("collection_error.connection")
    if issue.code in _CODE_KEYS:
        return messages(f"collection_error.{_CODE_KEYS[issue.code]}")
    if issue.permission and any(word in issue.code for word in _DENIED):
        return messages("collection_error.denied", permission=issue.permission)
    if issue.permission and issue.code:
        return messages("collection_error.failed", permission=issue.permission, code=issue.code)
    return messages("collection_error.other")
