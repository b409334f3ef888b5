"""A message in the tenant's language, for each kind of channel.

Resource names, statements and tenant names come from customers' systems. They are escaped
for the medium that carries them: HTML-escaped in e-mail (Jinja2 autoescape), ``&``, ``<``
and ``>`` replaced and names set in code spans in Slack mrkdwn (so no mention, link or
formatting can be injected), and placed only in Adaptive Card ``TextRun`` elements in
Teams, which never interpret Markdown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from posture.models import Severity
from posture.notify.content import Item, Message
from posture.report.i18n import Messages, load_messages
from posture.report.templating import environment

SLACK_MAX_ITEMS = 20  # Slack accepts 50 blocks per message; a longer digest is summarised
TEAMS_MAX_ITEMS = 30
SUBJECT_MAX = 200


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


def ordered(items: list[Item]) -> list[Item]:
    """Most severe first, then by policy and resource, so digests read the same way."""
    return sorted(items, key=lambda i: (-_rank(i.severity), i.policy_id, i.resource_uid))


@dataclass(frozen=True)
class Line:
    """One finding in words of one language."""

    event: str
    severity: str
    severity_code: str
    title: str
    policy_id: str
    resource: str
    statement: str
    recommendation: str
    link: str


@dataclass(frozen=True)
class Words:
    """Everything a renderer prints, in the tenant's language; values not yet escaped."""

    lang: str
    subject: str
    heading: str
    intro: str
    footer: str
    labels: dict[str, str]
    lines: list[Line]
    more: int  # findings left out of a chat message that would be too long
    fix_heading: str = ""
    fix_intro: str = ""
    fix_lines: tuple[str, ...] = ()  # "title: resource (state)" per automatic fix


def _pick(text: dict[str, str], lang: str) -> str:
    return text.get(lang) or text.get("en") or text.get("ja") or ""


def _resource(item: Item) -> str:
    name = item.resource_name.strip()
    if name and name != item.resource_uid:
        return f"{name} ({item.resource_uid})"
    return item.resource_uid or name


def words(message: Message, *, limit: int | None = None) -> Words:
    lang = message.locale if message.locale in ("ja", "en") else "en"
    t = load_messages(lang)
    sev = _severity_labels(t)
    items = ordered(message.items)
    shown = items if limit is None else items[:limit]
    lines = [
        Line(
            event=t(f"notify.event.{i.event}") if i.event in ("opened", "reopened") else i.event,
            severity=sev.get(i.severity, i.severity),
            severity_code=i.severity,
            title=_pick(i.title, lang) or i.policy_id,
            policy_id=i.policy_id,
            resource=_resource(i),
            statement=_pick(i.statement, lang),
            recommendation=_pick(i.recommendation, lang),
            link=i.link,
        )
        for i in shown
    ]
    tenant = message.tenant_name or message.tenant_slug
    if message.test:
        subject = t("notify.subject_test", tenant=tenant)
        heading, intro = subject, t("notify.test_body", tenant=tenant, channel=message.channel)
    elif message.digest or len(items) != 1:
        subject = t("notify.subject_digest", tenant=tenant, count=len(items))
        heading = t("notify.heading_digest", tenant=tenant, count=len(items))
        intro = t("notify.intro_digest")
    else:
        first = lines[0]
        subject = t("notify.subject_one", severity=first.severity, title=first.title, tenant=tenant)
        heading = t("notify.heading_one", event=first.event, tenant=tenant)
        intro = t("notify.intro_one", tenant=tenant)
    labels = {
        key: t(f"notify.label.{key}")
        for key in ("severity", "policy", "resource", "statement", "recommendation", "link")
    }
    footer = t(
        "notify.footer", tenant=tenant, threshold=sev.get(message.threshold, message.threshold)
    )
    fix_lines = tuple(
        f"{_pick(f.title, lang) or f.fix_id}: {f.resource} ({t(f'fix.state.{f.state}')})"
        for f in message.fixes
    )
    return Words(
        lang=lang,
        subject=" ".join(subject.split())[:SUBJECT_MAX],
        heading=heading,
        intro=intro,
        footer=footer,
        labels=labels,
        lines=lines,
        more=len(items) - len(shown),
        fix_heading=t("fix.auto_heading") if fix_lines else "",
        fix_intro=t("fix.auto_intro") if fix_lines else "",
        fix_lines=fix_lines,
    )


def _severity_labels(t: Messages) -> dict[str, str]:
    return {s.value: t.get(f"severity.{s.value}", s.value) for s in Severity}


# --- e-mail -----------------------------------------------------------------------------


def email(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    """multipart/alternative: a plain-text part and an HTML part with the same content."""
    w = words(message)
    mail = EmailMessage()
    mail["Subject"] = w.subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    if message.delivery_id:
        mail["X-Posture-Delivery"] = message.delivery_id
    mail.set_content(_email_text(w))
    html = environment().get_template("notify_email.html.j2").render(w=w)
    mail.add_alternative(html, subtype="html")
    return mail


def _email_text(w: Words) -> str:
    out = [w.heading, "", w.intro, ""]
    for line in w.lines:
        out += [
            f"■ {line.title}",
            f"  {w.labels['severity']}: {line.severity} / {line.event}",
            f"  {w.labels['policy']}: {line.policy_id}",
            f"  {w.labels['resource']}: {line.resource}",
        ]
        if line.statement:
            out.append(f"  {w.labels['statement']}: {line.statement}")
        if line.recommendation:
            out.append(f"  {w.labels['recommendation']}: {line.recommendation}")
        if line.link:
            out.append(f"  {w.labels['link']}: {line.link}")
        out.append("")
    if w.fix_lines:
        out += [w.fix_heading, w.fix_intro, *(f"  - {line}" for line in w.fix_lines), ""]
    out += ["--", w.footer, ""]
    return "\n".join(out)


# --- Slack ------------------------------------------------------------------------------


def slack_escape(value: str) -> str:
    """The three characters Slack reserves for links and mentions, as entities."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_code(value: str) -> str:
    """A value in a code span: no bold, italics or strike-through can start inside it."""
    return "`" + slack_escape(value.replace("`", "'").replace("\n", " ")) + "`"


def slack(message: Message) -> dict[str, Any]:
    """Block Kit payload of an incoming webhook, with a plain ``text`` for notifications."""
    w = words(message, limit=SLACK_MAX_ITEMS)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": w.heading[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(w.intro)}},
    ]
    for line in w.lines:
        text = [
            f"*{slack_escape(line.severity)}* · {slack_escape(line.event)} · "
            f"*{slack_escape(line.title)}*",
            f"{slack_escape(w.labels['resource'])}: {slack_code(line.resource)}",
        ]
        if line.statement:
            text.append(slack_escape(line.statement))
        if line.recommendation:
            text.append(
                f"_{slack_escape(w.labels['recommendation'])}_: {slack_escape(line.recommendation)}"
            )
        if line.link:
            text.append(f"<{slack_escape(line.link)}|{slack_escape(w.labels['link'])}>")
        blocks += [
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(text)[:3000]}},
        ]
    if w.more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"+{w.more}"}]})
    if w.fix_lines:
        fix_text = "\n".join(
            [f"*{slack_escape(w.fix_heading)}*", *(f"• {slack_escape(x)}" for x in w.fix_lines)]
        )
        blocks += [
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": fix_text[:3000]}},
        ]
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(w.footer)}]}
    )
    return {"text": slack_escape(w.subject), "blocks": blocks}


# --- Microsoft Teams --------------------------------------------------------------------


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **extra}


def teams(message: Message) -> dict[str, Any]:
    """An Adaptive Card in the message envelope the Teams Workflows webhook trigger expects."""
    w = words(message, limit=TEAMS_MAX_ITEMS)
    body: list[dict[str, Any]] = [
        _rich(_run(w.heading, weight="Bolder", size="Medium")),
        _rich(_run(w.intro), spacing="Small"),
    ]
    for line in w.lines:
        color = "Attention" if line.severity_code in ("critical", "high") else "Warning"
        body.append(
            _rich(
                _run(f"{line.severity} · {line.event} · ", weight="Bolder", color=color),
                _run(line.title, weight="Bolder"),
                separator=True,
                spacing="Medium",
            )
        )
        rows = [
            ("resource", line.resource),
            ("statement", line.statement),
            ("recommendation", line.recommendation),
            ("policy", line.policy_id),
        ]
        for key, value in rows:
            if value:
                body.append(
                    _rich(_run(f"{w.labels[key]}: ", weight="Bolder"), _run(value), spacing="None")
                )
    if w.more:
        body.append(_rich(_run(f"+{w.more}", isSubtle=True)))
    if w.fix_lines:
        body.append(_rich(_run(w.fix_heading, weight="Bolder"), separator=True))
        body += [_rich(_run(line), spacing="None") for line in w.fix_lines]
    body.append(_rich(_run(w.footer, isSubtle=True, size="Small"), separator=True))
    actions = [
        {"type": "Action.OpenUrl", "title": w.labels["link"], "url": line.link}
        for line in w.lines[:1]
        if line.link and len(w.lines) == 1
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "lang": w.lang,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


# --- generic webhook --------------------------------------------------------------------


def webhook(message: Message) -> dict[str, Any]:
    """Structured JSON for a receiver's own code: both languages, stable field names."""
    w = words(message)
    return {
        "type": "posture.test" if message.test else "posture.findings",
        "version": 1,
        "delivery": message.delivery_id,
        "tenant": {"slug": message.tenant_slug, "name": message.tenant_name},
        "locale": w.lang,
        "digest": message.digest,
        "subject": w.subject,
        "findings": [_item_json(i) for i in ordered(message.items)],
        "fixes": [
            {
                "run": f.run_id,
                "fix": f.fix_id,
                "title": dict(f.title),
                "resource": f.resource,
                "state": f.state,
            }
            for f in message.fixes
        ],
    }


def _item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.finding_id,
        "event": item.event,
        "severity": item.severity,
        "policy_id": item.policy_id,
        "title": dict(item.title),
        "statement": dict(item.statement),
        "recommendation": dict(item.recommendation),
        "resource": {
            "uid": item.resource_uid,
            "name": item.resource_name,
            "type": item.resource_type,
            "region": item.region,
            "connection": item.connection,
        },
        "scan_id": item.scan_id,
        "link": item.link,
    }


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
