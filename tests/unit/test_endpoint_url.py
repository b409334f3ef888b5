"""Endpoint URLs are refused when malformed, wherever connection settings are built."""

from __future__ import annotations

import pytest
from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url
from pydantic import ValidationError

from posture.connectors.aws import AwsSettings
from posture.connectors.aws.endpoint import endpoint_problem, validate_endpoint_url
from posture.connectors.aws.entry import parse_settings
from posture.errors import ConfigurationError, ConnectionReason
from posture.report.i18n import SUPPORTED_LANGUAGES, load_messages

GOOD = [
    "http://127.0.0.1:5000",
    "https://sts.ap-northeast-1.amazonaws.com",
    "https://sts.amazonaws.com/",
    "HTTPS://Example.COM:443/prefix/",
    "http://localhost:4566",
    "http://[::1]:5000",
]
BAD = {
    "ftp//nonsense": "has no scheme",
    "localhost:4566": "has no scheme",
    "ftp://files.example.com": "scheme 'ftp'",
    "http://": "has no host name",
    "http://:5000": "has no host name",
    "http://moto server:5000": "contains spaces",
    " http://127.0.0.1:5000": "contains spaces",
    "http://127.0.0.1:5000\n": "contains spaces",
    "http://host:abc": "port must be a number",
    "http://host:70000": "port must be a number",
    "http://host:0": "invalid port 0",
    "http://host:": "empty port",
    "http://user:secret@host": "user name or password",
    "http://-bad.example.com": "invalid host name",
    "http://a..b": "invalid host name",
    "http://under_score:5000": "invalid host name",
    "http://[::1": "malformed",
    "http://[not-an-ip]:80": "malformed",
    "http://host/?a=1": "query or fragment",
    "": "empty",
}


@pytest.mark.parametrize("url", GOOD)
def test_usable_urls_pass_and_botocore_agrees(url: str) -> None:
    assert endpoint_problem(url) is None
    assert validate_endpoint_url(url) == url
    assert is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)
    assert AwsSettings(endpoint_url=url).endpoint_url == url


@pytest.mark.parametrize(("url", "problem"), BAD.items())
def test_malformed_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    message = endpoint_problem(url)
    assert message is not None and problem in message
    with pytest.raises(ValidationError):
        AwsSettings(endpoint_url=url)
    with pytest.raises(ConfigurationError) as caught:
        parse_settings("acme-prod", {"endpoint_url": url})
    text = caught.value.message
    assert text.startswith("connection 'acme-prod': setting 'endpoint_url': endpoint URL")
    assert problem in text and "\n" not in text and "Value error" not in text


def test_validate_names_connection_and_source() -> None:
    with pytest.raises(ConfigurationError, match="connection 'x': AWS_ENDPOINT_URL: endpoint URL"):
        validate_endpoint_url("ftp//nonsense", connection="x", source="AWS_ENDPOINT_URL")


def test_retry_budget_is_bounded() -> None:
    for attempts in (0, 21):
        with pytest.raises(ConfigurationError, match="max_attempts"):
            parse_settings("acme-prod", {"max_attempts": attempts})


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_reason_code_has_a_report_text(lang: str) -> None:
    messages = load_messages(lang)
    for reason in ConnectionReason:
        assert messages(f"connection_reason.{reason.value}").strip(), (lang, reason)
