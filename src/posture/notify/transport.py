"""Send one message to one channel, retrying what may succeed later.

A retry waits ``backoff_seconds``, then twice as long before each further attempt (capped
at ``MAX_WAIT_SECONDS``), at most ``retries`` times after the first attempt. Connection
errors, timeouts, HTTP 408, 429 and 5xx, and temporary SMTP errors (4xx replies) are retried;
a rejected request (other 4xx, a permanent SMTP error) or a missing secret fails at once,
since repeating it cannot help.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from dataclasses import dataclass

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from posture.errors import PostureError
from posture.notify import render
from posture.notify.channels import ChannelSpec, ChatSettings, EmailSettings, WebhookSettings
from posture.notify.content import Message
from posture.notify.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

MAX_WAIT_SECONDS = 300.0
USER_AGENT = "posture-notify/1"


class DeliveryError(PostureError):
    """A message could not be delivered; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable


@dataclass(frozen=True)
class Outcome:
    """How a delivery ended: ``error`` is empty when it was sent."""

    attempts: int
    error: str = ""

    @property
    def sent(self) -> bool:
        return not self.error


def deliver(channel: ChannelSpec, message: Message) -> Outcome:
    """Send ``message`` with the channel's retry policy; never raises a ``DeliveryError``."""
    attempts = 0

    def count(_: RetryCallState) -> None:
        nonlocal attempts
        attempts += 1

    retrying = Retrying(
        stop=stop_after_attempt(channel.retries + 1),
        wait=wait_exponential(multiplier=channel.backoff_seconds, max=MAX_WAIT_SECONDS),
        retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.retryable),
        before=count,
        reraise=True,
    )
    try:
        retrying(send_once, channel, message)
    except DeliveryError as exc:
        return Outcome(attempts, exc.message)
    return Outcome(attempts)


def send_once(channel: ChannelSpec, message: Message) -> None:
    """One attempt, whatever the kind of channel."""
    settings = channel.settings
    if isinstance(settings, EmailSettings):
        _send_email(channel.name, settings, message)
    elif isinstance(settings, WebhookSettings):
        body = render.body_bytes(render.webhook(message))
        key = secret(settings.secret_env, "the signing secret", channel.name)
        stamp = str(int(time.time()))
        headers = {
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(key, stamp, body),
            DELIVERY_HEADER: message.delivery_id,
        }
        _post(channel.name, settings.url, body, headers, settings.timeout)
    elif isinstance(settings, ChatSettings):
        url = secret(settings.url_env, "the webhook URL", channel.name)
        payload = render.slack(message) if channel.kind == "slack" else render.teams(message)
        _post(channel.name, url, render.body_bytes(payload), {}, settings.timeout)
    else:  # pragma: no cover - parse_settings admits nothing else
        raise DeliveryError(f"channel '{channel.name}' has an unknown kind", retryable=False)


def secret(env_name: str, what: str, channel: str) -> str:
    """A channel's secret, read from its environment variable when a message is sent."""
    value = os.environ.get(env_name, "")
    if not value:
        raise DeliveryError(
            f"the environment variable {env_name} holding {what} of channel '{channel}' is not set",
            retryable=False,
            hint=f"set {env_name} in the environment of the process that sends notifications",
        )
    return value


def _post(channel: str, url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    sent_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        **{k: v for k, v in headers.items() if v},
    }
    where = httpx.URL(url).host  # never the path: for Slack and Teams it is the credential
    try:
        response = httpx.post(url, content=body, headers=sent_headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"channel '{channel}': {where} could not be reached: {exc}") from exc
    if response.is_success:
        return
    status = response.status_code
    detail = " ".join(response.text.split())[:200]
    retryable = status in (408, 429) or status >= 500
    raise DeliveryError(
        f"channel '{channel}': {where} answered HTTP {status}" + (f": {detail}" if detail else ""),
        retryable=retryable,
    )


def _send_email(channel: str, settings: EmailSettings, message: Message) -> None:
    mail = render.email(message, settings.sender, settings.recipients)
    password = (
        secret(settings.password_env, "the SMTP password", channel) if settings.password_env else ""
    )
    context = ssl.create_default_context()
    where = f"{settings.host}:{settings.port}"
    try:
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, password)
            smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"channel '{channel}': {where} rejected the SMTP credentials ({exc.smtp_code})",
            retryable=False,
        ) from exc
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise DeliveryError(
            f"channel '{channel}': {where} answered {exc.smtp_code} {' '.join(text.split())[:200]}",
            retryable=400 <= exc.smtp_code < 500,
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"channel '{channel}': {where} refused the recipients {', '.join(exc.recipients)}",
            retryable=False,
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"channel '{channel}': {where} does not support what the channel needs: {exc}",
            retryable=False,
            hint="STARTTLS missing: use --security ssl, or none only for a local relay",
        ) from exc
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"channel '{channel}': {where} failed: {exc}") from exc
    except OSError as exc:
        raise DeliveryError(f"channel '{channel}': {where} could not be reached: {exc}") from exc
