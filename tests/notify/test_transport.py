"""Delivery errors: what is retried, what fails at once, and what the record says."""

from __future__ import annotations

from typing import Any

import pytest
from aiosmtpd.controller import Controller

from posture.notify import ChannelSpec, Message, deliver, parse_settings

from .receivers import free_port


def channel(kind: str, settings: dict[str, Any], retries: int = 2) -> ChannelSpec:
    return ChannelSpec(
        id="c1",
        name="soc",
        kind=kind,
        settings=parse_settings(kind, settings),
        min_severity="high",
        mode="immediate",
        retries=retries,
        backoff_seconds=0.0,
    )


TEST = Message(
    tenant_slug="acme", tenant_name="Acme", locale="en", channel="soc", threshold="high", test=True
)


def mail_settings(port: int) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "posture@msp.example",
        "recipients": ["soc@acme.example"],
        "timeout": 5,
    }


def test_an_unreachable_server_is_retried_then_named() -> None:
    outcome = deliver(channel("email", mail_settings(free_port())), TEST)
    assert outcome.attempts == 3 and not outcome.sent
    assert "channel 'soc': 127.0.0.1:" in outcome.error and "could not be reached" in outcome.error
    hook = channel("webhook", {"url": f"http://127.0.0.1:{free_port()}/x", "secret_env": "HOME"})
    outcome = deliver(hook, TEST)
    assert outcome.attempts == 3 and "could not be reached" in outcome.error


class Answer:
    """An SMTP server that answers DATA with a fixed reply, counting the attempts."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.seen = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        return self.reply


@pytest.mark.parametrize(
    ("reply", "attempts"), [("451 4.3.0 try again later", 3), ("554 5.7.1 rejected", 1)]
)
def test_temporary_smtp_errors_are_retried_permanent_ones_are_not(
    reply: str, attempts: int
) -> None:
    handler = Answer(reply)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        outcome = deliver(channel("email", mail_settings(port)), TEST)
    finally:
        controller.stop()
    assert handler.seen == attempts == outcome.attempts
    assert reply.split()[0] in outcome.error and reply.split()[-1] in outcome.error


def test_starttls_against_a_server_without_it_fails_clearly() -> None:
    port = free_port()
    controller = Controller(Answer("250 OK"), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = {**mail_settings(port), "security": "starttls"}
        outcome = deliver(channel("email", settings, retries=0), TEST)
    finally:
        controller.stop()
    assert not outcome.sent and outcome.attempts == 1
    assert "does not support" in outcome.error and "STARTTLS" in outcome.error.upper()
