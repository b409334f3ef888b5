"""Endpoint URLs of AWS connections: refused when malformed, before any call is made.

botocore accepts almost any string as ``endpoint_url`` and fails much later, deep inside a
call, with a message that names neither the connection nor the setting. Checking here gives
one clear sentence at ``connection add`` and for settings stored by any other path.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from posture.errors import ConfigurationError

SCHEMES = ("http", "https")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")  # as botocore accepts
_FORM = "http://HOST[:PORT] or https://HOST[:PORT]"


def endpoint_problem(url: str) -> str | None:
    """What is wrong with ``url`` as an endpoint, in one sentence; None when it is usable."""
    if not url:
        return "endpoint URL '' is empty"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return f"endpoint URL {url!r} contains spaces or control characters"
    if "://" not in url:
        return f"endpoint URL {url!r} has no scheme; write it as {_FORM}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # bad port or unbalanced IPv6 brackets
        return f"endpoint URL {url!r} is malformed: {_port_text(exc)}"
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return f"endpoint URL {url!r} uses the scheme '{parts.scheme}'; write it as {_FORM}"
    if parts.username is not None or parts.password is not None:
        return f"endpoint URL {url!r} must not contain a user name or password"
    host = parts.hostname
    if not host:
        return f"endpoint URL {url!r} has no host name; write it as {_FORM}"
    if not _valid_host(host, bracketed=parts.netloc.rpartition("@")[2].startswith("[")):
        return f"endpoint URL {url!r} has an invalid host name '{host}'"
    if port is not None and not 1 <= port <= 65535:
        return f"endpoint URL {url!r} has an invalid port {port}; use a number from 1 to 65535"
    if ":" in parts.netloc.rpartition("]")[2] and port is None:
        return f"endpoint URL {url!r} has an empty port"
    if parts.query or parts.fragment:
        return f"endpoint URL {url!r} must not contain a query or fragment"
    return None


def validate_endpoint_url(
    url: str, *, connection: str | None = None, source: str = "endpoint_url"
) -> str:
    """``url`` unchanged when usable; otherwise a ``ConfigurationError`` naming the connection
    and where the URL came from (the setting or the ``AWS_ENDPOINT_URL`` variable)."""
    problem = endpoint_problem(url)
    if problem:
        where = f"connection '{connection}': " if connection else ""
        raise ConfigurationError(f"{where}{source}: {problem}")
    return url


def _valid_host(host: str, *, bracketed: bool) -> bool:
    if bracketed:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def _port_text(exc: ValueError) -> str:
    text = str(exc)
    if "Port" in text or "port" in text:
        return "the port must be a number from 1 to 65535"
    return text
