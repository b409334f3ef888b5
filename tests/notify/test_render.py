"""Messages in both languages, and hostile strings neutralised for every medium."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from posture.errors import ConfigurationError
from posture.notify import Item, Message, parse_settings, sign, verify
from posture.notify.render import email, slack, teams, webhook

HOSTILE = '<img src=x onerror=alert(1)> *bold* _it_ `tick` <!channel> <https://evil.example|click> [x](https://evil.example) & "q"'


def item(**kw: Any) -> Item:
    base: dict[str, Any] = {
        "finding_id": "f1",
        "event": "opened",
        "severity": "critical",
        "policy_id": "aws.ec2.sg_no_ssh",
        "title": {"en": "SSH open to the internet", "ja": "SSH がインターネットに公開されています"},
        "statement": {
            "en": f"Group {HOSTILE} allows SSH",
            "ja": f"グループ {HOSTILE} は SSH を許可",
        },
        "recommendation": {"en": "Restrict the source.", "ja": "送信元を制限してください。"},
        "resource_uid": "arn:aws:ec2:ap-northeast-1:123456789012:security-group/sg-1",
        "resource_name": HOSTILE,
        "resource_type": "aws.ec2.security_group",
        "region": "ap-northeast-1",
        "connection": "prod",
        "scan_id": "s1",
    }
    base.update(kw)
    return Item(**base)


def message(locale: str = "ja", items: list[Item] | None = None, **kw: Any) -> Message:
    return Message(
        tenant_slug="acme",
        tenant_name="Acme <Japan>",
        locale=locale,
        channel="soc",
        threshold="high",
        items=items if items is not None else [item()],
        **kw,
    )


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize(
    ("locale", "subject", "event"),
    [
        (
            "ja",
            "[posture] 緊急: SSH がインターネットに公開されています (Acme <Japan>)",
            "新しい検出事項",
        ),
        ("en", "[posture] Critical: SSH open to the internet (Acme <Japan>)", "New finding"),
    ],
)
def test_email_is_text_and_html_in_the_tenant_language(
    locale: str, subject: str, event: str
) -> None:
    mail = email(message(locale), "posture@msp.example", ["soc@acme.example"])
    assert mail["Subject"] == subject
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    assert event in plain.get_content()
    parser = Collect()
    parser.feed(html.get_content())
    assert "img" not in parser.tags  # the resource name is text, not markup
    assert any(HOSTILE in t for t in parser.text)
    assert "&lt;img src=x" in html.get_content()


def test_slack_cannot_be_made_to_mention_or_link() -> None:
    payload = slack(message("en"))
    dumped = json.dumps(payload, ensure_ascii=False)
    assert "<!channel>" not in dumped and "<https://evil" not in dumped and "<img" not in dumped
    assert "&lt;!channel&gt;" in dumped
    section = payload["blocks"][3]["text"]["text"]
    resource_line = next(line for line in section.splitlines() if line.startswith("Resource"))
    # the name is one code span: nothing inside it can start formatting
    assert resource_line.count("`") == 2 and "'tick'" in resource_line
    assert payload["text"] == "[posture] Critical: SSH open to the internet (Acme &lt;Japan&gt;)"


def test_teams_puts_customer_strings_only_in_text_runs() -> None:
    payload = teams(message("ja"))
    card = payload["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["lang"] == "ja"

    def elements(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            return [node, *(e for v in node.values() for e in elements(v))]
        if isinstance(node, list):
            return [e for v in node for e in elements(v)]
        return []

    holders = [e for e in elements(card) if isinstance(e.get("text"), str) and HOSTILE in e["text"]]
    assert holders and all(e["type"] == "TextRun" for e in holders)  # TextRun renders no Markdown
    assert not [e for e in elements(card) if e.get("type") in ("TextBlock", "FactSet")]


def test_a_digest_lists_the_most_severe_first_and_chat_messages_stay_short() -> None:
    many = [item(finding_id=f"f{i}", severity="medium", policy_id=f"p{i:02}") for i in range(25)]
    many.append(item(finding_id="top", severity="critical", policy_id="z"))
    msg = message("en", many, digest=True)
    body = webhook(msg)
    assert body["findings"][0]["id"] == "top" and len(body["findings"]) == 26
    assert body["subject"] == "[posture] 26 new or reopened findings (Acme <Japan>)"
    blocks = slack(msg)["blocks"]
    assert len(blocks) <= 50 and blocks[-2]["elements"][0]["text"] == "+6"


def test_signatures_cover_timestamp_and_body_and_expire() -> None:
    body = b'{"a":1}'
    signature = sign("k", "1700000000", body)
    assert verify("k", "1700000000", body, signature, now=1700000010)
    assert not verify("k", "1700000001", body, signature, now=1700000010)  # another timestamp
    assert not verify("k", "1700000000", body, signature, now=1700000000 + 301)  # a replay
    assert not verify("k", "not-a-time", body, signature)


@pytest.mark.parametrize(
    ("kind", "settings", "problem"),
    [
        ("email", {"host": "smtp", "sender": "nobody", "recipients": ["a@b.c"]}, "sender"),
        ("email", {"host": "smtp", "sender": "a@b.c", "recipients": []}, "recipients"),
        (
            "email",
            {"host": "smtp", "sender": "a@b.c", "recipients": ["a@b.c"], "password": "x"},
            "password",
        ),
        ("slack", {"url_env": "https://hooks.slack.com/services/T/B/X"}, "url_env"),
        ("teams", {"url": "https://example.com"}, "url"),
        ("webhook", {"url": "ftp://x", "secret_env": "K"}, "url"),
        ("pager", {}, "unknown channel kind"),
    ],
)
def test_bad_settings_name_the_field(kind: str, settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        parse_settings(kind, settings, "soc")
