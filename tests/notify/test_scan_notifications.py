"""After a scan, new and reopened findings reach real receivers once: SMTP and webhooks.

The estate is planted in moto_server; the scan runs through the operations layer, as the
CLI and the scheduler run it. Stores: SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from sqlmodel import select

from posture.catalog import Catalog, load_catalog
from posture.content import builtin_dir
from posture.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from posture.operations import Operations
from posture.operations.notifications import (
    add_channel,
    deliver_queued,
    list_deliveries,
    notify_scan,
    send_digests,
)
from posture.operations.scans import scan_tenant
from posture.operations.tenants import add_tenant
from posture.scan import ScanOutcome
from posture.store import Notification, Store
from posture.store.types import utcnow

from ..integration.helpers import open_ssh_group
from .receivers import Endpoint, Mailbox, http_receiver, smtp_server

SECRET = "s3cr3t-signing-key"
POLICIES = {
    "bucket_blocks_public_acls": """
        id: aws.notify.bucket_blocks_public_acls
        resource: aws.s3.bucket
        severity: high
        title: {en: Bucket allows public ACLs, ja: バケットがパブリック ACL を許可しています}
        rationale: {en: Public ACLs expose data., ja: パブリック ACL はデータを公開します。}
        recommendation: {en: Enable block public access., ja: パブリックアクセスのブロックを有効にしてください。}
        statement: {en: "Bucket {{ Name }} allows public ACLs", ja: "バケット {{ Name }} はパブリック ACL を許可しています"}
        condition: {path: public_access_block.BlockPublicAcls, eq: true}
        tests:
          - {name: blocked, expect: pass, resource: {public_access_block: {BlockPublicAcls: true}}}
          - name: open
            expect: fail
            statement: {en: "Bucket logs allows public ACLs", ja: "バケット logs はパブリック ACL を許可しています"}
            resource: {Name: logs, public_access_block: null}
        """,
    "sg_no_ssh_from_internet": """
        id: aws.notify.sg_no_ssh_from_internet
        resource: aws.ec2.security_group
        severity: critical
        title: {en: SSH open to the internet, ja: SSH がインターネットに公開されています}
        rationale: {en: Exposed SSH is attacked., ja: 公開された SSH は攻撃されます。}
        recommendation: {en: Restrict the source., ja: 送信元を制限してください。}
        statement: {en: "Group {{ GroupId }} allows SSH from anywhere", ja: "グループ {{ GroupId }} はどこからでも SSH を許可しています"}
        condition:
          path: IpPermissions
          no_item:
            all:
              - {path: FromPort, le: 22}
              - {path: ToPort, ge: 22}
              - {path: IpRanges, any_item: {path: CidrIp, eq: 0.0.0.0/0}}
        tests:
          - {name: closed, expect: pass, resource: {IpPermissions: []}}
          - name: open
            expect: fail
            statement: {en: "Group sg-1 allows SSH from anywhere", ja: "グループ sg-1 はどこからでも SSH を許可しています"}
            resource: {GroupId: sg-1, IpPermissions: [{FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 0.0.0.0/0}]}]}
        """,
}
SELECTED = ["aws.notify"]
BPA = {
    k: True
    for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
}


@pytest.fixture(scope="module")
def notify_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("policies") / "aws" / "notify"
    folder.mkdir(parents=True)
    for name, text in POLICIES.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_catalog([builtin_dir("scanners")], [folder.parent.parent], builtin=False)


@pytest.fixture
def ops(store: Store, notify_catalog: Catalog) -> Operations:
    return Operations.using(store, notify_catalog)


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    monkeypatch.setenv("ACME_HOOK_SECRET", SECRET)
    with http_receiver() as endpoint:
        yield endpoint


def estate(ops: Operations, endpoint: str, locale: str = "ja") -> dict[str, str]:
    """A tenant with one AWS connection: an open bucket (high) and SSH open to all (critical)."""
    from posture.operations.connections import add_connection

    add_tenant(ops, "acme", name="Acme Japan", locale=locale)
    add_connection(
        ops, "acme", "prod", "aws", {"endpoint_url": endpoint, "regions": ["ap-northeast-1"]}
    )
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    s3.create_bucket(Bucket="acme-open")
    ec2 = boto3.client("ec2", region_name="ap-northeast-1", endpoint_url=endpoint)
    return {"sg": open_ssh_group(ec2, "bastion")}


def webhook(ops: Operations, receiver: Endpoint, name: str = "hook", **kw: Any) -> None:
    add_channel(
        ops,
        "acme",
        name,
        "webhook",
        settings={"url": f"{receiver.url}/{name}", "secret_env": "ACME_HOOK_SECRET"},
        **kw,
    )


def email_channel(ops: Operations, port: int, **kw: Any) -> None:
    add_channel(
        ops,
        "acme",
        "soc-mail",
        "email",
        settings={
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "posture@msp.example",
            "recipients": ["soc@acme.example", "it@acme.example"],
        },
        **kw,
    )


def scan(ops: Operations) -> ScanOutcome:
    outcome = scan_tenant(ops, "acme", policies=SELECTED)
    assert outcome.status == "succeeded", outcome
    return outcome


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    """The SMTP server stores a message just after it answers; give it a moment."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_one_mail_and_one_signed_webhook_per_new_critical_finding(
    ops: Operations, moto_url: str, mail: tuple[Mailbox, int], receiver: Endpoint
) -> None:
    mailbox, port = mail
    ids = estate(ops, moto_url)
    email_channel(ops, port, min_severity="critical")
    webhook(ops, receiver, min_severity="critical")

    outcome = scan(ops)
    wait_for(lambda: len(mailbox.messages) >= 1)
    assert len(mailbox.messages) == 1  # the high bucket finding is below the threshold
    assert len(receiver.requests) == 1
    again = notify_scan(ops, outcome)  # the hook running twice for one scan sends nothing
    assert (again.queued, again.sent) == (0, 0)

    message = mailbox.messages[0]
    assert mailbox.envelopes[0] == ("posture@msp.example", ["soc@acme.example", "it@acme.example"])
    assert (
        message["Subject"] == "[posture] 緊急: SSH がインターネットに公開されています (Acme Japan)"
    )
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain, markup = text.get_content(), html.get_content()
    for part in (plain, markup):
        assert f"グループ {ids['sg']} はどこからでも SSH を許可しています" in part
        assert "送信元を制限してください。" in part
        assert "aws.notify.sg_no_ssh_from_internet" in part
    assert "新しい検出事項" in plain and '<html lang="ja">' in markup

    request = receiver.requests[0]
    stamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    assert signature.startswith("sha256=")
    assert verify(SECRET, stamp, request.body, signature)
    assert not verify("another secret", stamp, request.body, signature)
    assert not verify(SECRET, stamp, request.body + b" ", signature)
    payload = json.loads(request.body)
    assert payload["type"] == "posture.findings" and payload["tenant"]["slug"] == "acme"
    (finding,) = payload["findings"]
    assert finding["event"] == "opened" and finding["severity"] == "critical"
    assert finding["resource"]["uid"].endswith(ids["sg"])
    assert request.headers["X-Posture-Delivery"]

    deliveries = list_deliveries(ops, "acme")
    assert {(d.channel, d.state, d.attempts) for d in deliveries} == {
        ("soc-mail", "sent", 1),
        ("hook", "sent", 1),
    }
    assert all(d.sent_at is not None and not d.last_error for d in deliveries)

    scan(ops)  # nothing changed: nothing more is sent
    time.sleep(0.2)
    assert len(mailbox.messages) == 1 and len(receiver.requests) == 1
    assert len(list_deliveries(ops, "acme")) == 2


def test_a_reopened_finding_notifies_again(
    ops: Operations, moto_url: str, receiver: Endpoint
) -> None:
    estate(ops, moto_url, locale="en")
    webhook(ops, receiver)  # default threshold: high
    scan(ops)
    assert sorted(json.loads(r.body)["findings"][0]["severity"] for r in receiver.requests) == [
        "critical",
        "high",
    ]
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_url)
    s3.put_public_access_block(Bucket="acme-open", PublicAccessBlockConfiguration=BPA)
    scan(ops)  # the bucket is fixed: a resolution is not notified
    assert len(receiver.requests) == 2
    s3.delete_public_access_block(Bucket="acme-open")
    scan(ops)
    assert len(receiver.requests) == 3
    payload = json.loads(receiver.requests[-1].body)
    (finding,) = payload["findings"]
    assert finding["event"] == "reopened" and finding["resource"]["name"] == "acme-open"
    assert payload["subject"] == "[posture] High: Bucket allows public ACLs (Acme Japan)"
    scan(ops)
    assert len(receiver.requests) == 3


def test_a_finding_waived_as_it_opens_is_not_announced(
    ops: Operations, moto_url: str, receiver: Endpoint
) -> None:
    from posture.operations.waivers import add_waiver

    estate(ops, moto_url, locale="en")
    webhook(ops, receiver)
    add_waiver(
        ops,
        "acme",
        reason="bastion is reachable by design during the migration",
        requested_by="ops@acme.example",
        approved_by="ciso@acme.example",
        expires=(utcnow() + timedelta(days=20)).date(),
        policy="aws.notify.sg_no_ssh_from_internet",
    )
    scan(ops)
    (request,) = receiver.requests
    (finding,) = json.loads(request.body)["findings"]
    assert finding["severity"] == "high"  # the bucket; the waived SSH group is not announced


def test_a_failing_receiver_is_retried_then_recorded_failed(
    ops: Operations, moto_url: str, receiver: Endpoint
) -> None:
    estate(ops, moto_url)
    webhook(ops, receiver, min_severity="critical", retries=2, backoff_seconds=0.01)
    receiver.status = 500
    scan(ops)
    assert len(receiver.requests) == 3  # the first attempt and two retries
    (delivery,) = list_deliveries(ops, "acme")
    assert delivery.state == "failed" and delivery.attempts == 3
    assert "HTTP 500" in delivery.last_error and "receiver is down" in delivery.last_error
    assert delivery.sent_at is None
    receiver.status = 200
    scan(ops)  # the same state change is not queued again by a later scan
    assert len(receiver.requests) == 3


def test_a_rejected_request_and_a_missing_secret_fail_without_retrying(
    ops: Operations, moto_url: str, receiver: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate(ops, moto_url)
    webhook(ops, receiver, min_severity="critical", retries=3, backoff_seconds=0.01)
    add_channel(
        ops,
        "acme",
        "slack",
        "slack",
        settings={"url_env": "ACME_SLACK_URL"},
        min_severity="critical",
    )
    receiver.status = 404
    scan(ops)
    assert len(receiver.requests) == 1
    rows = {d.channel: d for d in list_deliveries(ops, "acme")}
    assert rows["hook"].state == "failed" and rows["hook"].attempts == 1
    assert "HTTP 404" in rows["hook"].last_error
    assert rows["slack"].state == "failed"
    assert "ACME_SLACK_URL" in rows["slack"].last_error and "not set" in rows["slack"].last_error


def test_slack_and_teams_receive_their_payloads(
    ops: Operations, moto_url: str, receiver: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_SLACK_URL", f"{receiver.url}/slack/T000/B000/XXXX")
    monkeypatch.setenv("ACME_TEAMS_URL", f"{receiver.url}/teams/workflows/abc")
    estate(ops, moto_url)
    for kind in ("slack", "teams"):
        add_channel(
            ops,
            "acme",
            kind,
            kind,
            settings={
                "url_env": f"ACME_{kind.upper()}_URL",
                "link_base": "https://console.msp.example/",
            },
            min_severity="critical",
        )
    scan(ops)
    (slack,) = receiver.at("/slack/T000/B000/XXXX")
    (teams,) = receiver.at("/teams/workflows/abc")
    blocks = json.loads(slack.body)["blocks"]
    assert blocks[0]["text"]["text"] == "Acme Japan の新しい検出事項"
    assert any("https://console.msp.example/findings/" in json.dumps(b) for b in blocks)
    card = json.loads(teams.body)
    attachment = card["attachments"][0]
    assert card["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["actions"][0]["url"].startswith(
        "https://console.msp.example/findings/"
    )
    assert all(d.state == "sent" for d in list_deliveries(ops, "acme"))


def test_digest_channels_wait_for_the_daily_digest(
    ops: Operations, moto_url: str, mail: tuple[Mailbox, int], receiver: Endpoint
) -> None:
    mailbox, port = mail
    estate(ops, moto_url, locale="en")
    email_channel(ops, port, mode="digest")
    webhook(ops, receiver, mode="digest")
    scan(ops)
    time.sleep(0.2)
    assert mailbox.messages == [] and receiver.requests == []
    assert {d.state for d in list_deliveries(ops, "acme")} == {"queued"}

    assert send_digests(ops, utcnow() - timedelta(hours=1)).sent == 0  # queued later than that
    summary = send_digests(ops, utcnow())
    assert (summary.sent, summary.failed) == (4, 0)
    wait_for(lambda: len(mailbox.messages) >= 1)
    assert len(mailbox.messages) == 1 and len(receiver.requests) == 1
    assert mailbox.messages[0]["Subject"] == "[posture] 2 new or reopened findings (Acme Japan)"
    plain = mailbox.messages[0].get_body(("plain",))
    assert plain is not None
    content = plain.get_content()
    assert content.index("SSH open to the internet") < content.index("Bucket allows public ACLs")
    payload = json.loads(receiver.requests[0].body)
    assert payload["digest"] is True
    assert [f["severity"] for f in payload["findings"]] == ["critical", "high"]
    assert verify(
        SECRET,
        receiver.requests[0].headers[TIMESTAMP_HEADER],
        receiver.requests[0].body,
        receiver.requests[0].headers[SIGNATURE_HEADER],
    )
    assert send_digests(ops, utcnow()).sent == 0  # each is sent once
    assert {d.state for d in list_deliveries(ops, "acme")} == {"sent"}


def test_a_delivery_abandoned_while_sending_is_sent_later(
    ops: Operations, store: Store, moto_url: str, receiver: Endpoint
) -> None:
    estate(ops, moto_url)
    webhook(ops, receiver)
    outcome = scan_tenant(ops, "acme", policies=SELECTED, notify=False)
    assert receiver.requests == [] and list_deliveries(ops, "acme") == []
    assert notify_scan(ops, outcome, deliver_now=False).queued == 2
    with store.session() as session:
        rows = sorted(session.exec(select(Notification)), key=lambda n: n.severity)
        for row, hours in zip(rows, (2, 0), strict=True):  # critical: long ago; high: just now
            row.state, row.claimed_at = "sending", utcnow() - timedelta(hours=hours)
            session.add(row)
    summary = deliver_queued(ops, "acme")
    assert (summary.sent, summary.failed) == (1, 0)
    (request,) = receiver.requests
    assert json.loads(request.body)["findings"][0]["severity"] == "critical"
    states = {d.severity: d.state for d in list_deliveries(ops, "acme")}
    assert states == {"critical": "sent", "high": "sending"}  # another process may still send it
