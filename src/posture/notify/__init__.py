"""Notifications: tell a tenant's channels about findings that became new or reopened.

``channels`` validates what a channel needs (addresses, and the names of the environment
variables that hold its secrets); ``content`` holds the plain values a message is made of;
``render`` turns them into an e-mail, a Slack or Teams payload or a webhook body in the
tenant's language, escaping every string that comes from a customer's systems;
``transport`` sends them (SMTP, HTTPS) with bounded retries; ``signing`` signs and
verifies webhook bodies. What to send, and the record of every delivery, live in
``posture.operations.notifications``.
"""

from posture.notify.channels import ChannelSpec, parse_settings
from posture.notify.content import Item, Message
from posture.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from posture.notify.transport import DeliveryError, Outcome, deliver

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ChannelSpec",
    "DeliveryError",
    "Item",
    "Message",
    "Outcome",
    "deliver",
    "parse_settings",
    "sign",
    "verify",
]
