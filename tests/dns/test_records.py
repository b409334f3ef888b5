"""Parsing of SPF, DMARC and DKIM records and of the dns_server setting."""

from __future__ import annotations

import pytest

from posture.connectors.dns import (
    check_selectors,
    parents,
    parse_dkim,
    parse_dmarc,
    parse_server,
    parse_spf,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("192.0.2.53:5353", ("192.0.2.53", 5353)),
        ("127.0.0.1:1", ("127.0.0.1", 1)),
        ("2001:db8::53", ("2001:db8::53", 53)),
        ("[2001:db8::53]", ("2001:db8::53", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_servers(value: str, expected: tuple[str, int]) -> None:
    assert parse_server(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "HOST[:PORT]"),
        ("192.0.2.53:", "port after ':' is missing"),
        ("192.0.2.53:0", "from 1 to 65535"),
        ("192.0.2.53:99999", "from 1 to 65535"),
        ("192.0.2.53:dns", "from 1 to 65535"),
        ("[2001:db8::53]:", "port after ':' is missing"),
        ("[2001:db8::zz]:53", "not an IPv6 address"),
        ("[::1]x", "[ADDRESS]:PORT"),
        ("2001:db8::zz", "not an IPv6 address"),
        ("999.1.1.1", "not an IPv4 address"),
        ("ns1.example.jp", "give the DNS server's IP address"),
        ("ns1.example.jp:10053", "not an IPv4 address"),
        (":53", "the host is missing"),
    ],
)
def test_bad_servers(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_server(value)


def test_spf_one_record_and_its_all() -> None:
    doc = parse_spf(["MS=ms123", "v=spf1 ip4:192.0.2.0/24 include:spf.protection.outlook.com -all"])
    assert doc["valid"] and doc["all"] == "-all"
    assert doc["includes"] == ["spf.protection.outlook.com"]
    assert parse_spf(["v=spf1 mx ~all"])["all"] == "~all"
    assert parse_spf(["v=spf1 mx all"])["all"] == "+all"  # no qualifier means pass
    assert parse_spf(["V=SPF1 mx ?ALL"])["all"] == "?all"
    assert parse_spf(["v=spf1 redirect=_spf.example.jp"])["redirect"] == "_spf.example.jp"


def test_spf_none_or_several_is_not_valid() -> None:
    assert parse_spf([])["valid"] is False
    assert parse_spf(["v=spf10 -all"])["records"] == []  # not the SPF version tag
    two = parse_spf(["v=spf1 -all", "v=spf1 mx -all"])
    assert two["valid"] is False and two["record"] is None and two["all"] is None
    assert len(two["records"]) == 2


def test_dmarc_tags() -> None:
    doc = parse_dmarc(
        [
            "v=DMARC1; p=Reject; sp=quarantine; pct=50; rua=mailto:a@x.jp,mailto:b@y.jp; ruf=mailto:f@x.jp"
        ]
    )
    assert doc["valid"] and doc["p"] == "reject" and doc["sp"] == "quarantine"
    assert doc["pct"] == 50
    assert doc["rua"] == ["mailto:a@x.jp", "mailto:b@y.jp"] and doc["ruf"] == ["mailto:f@x.jp"]
    assert parse_dmarc(["v=DMARC1; p=none"])["pct"] == 100  # the default


def test_dmarc_invalid() -> None:
    assert parse_dmarc([])["valid"] is False
    assert parse_dmarc(["v=DMARC1; rua=mailto:a@x.jp"])["valid"] is False  # no p=
    assert parse_dmarc(["v=DMARC1; p=block"])["valid"] is False
    two = parse_dmarc(["v=DMARC1; p=reject", "v=DMARC1; p=none"])
    assert two["valid"] is False and two["p"] is None and len(two["records"]) == 2
    assert parse_dmarc(["some other text"])["records"] == []


def test_dkim_keys() -> None:
    assert parse_dkim(["v=DKIM1; k=rsa; p=MIIBIjAN"])["key"] is True
    assert parse_dkim(["v=DKIM1; k=rsa; p="])["key"] is False  # revoked
    assert parse_dkim([]) == {"record": None, "key": False}


def test_parents_and_selectors() -> None:
    assert parents("a.b.example.jp") == ["b.example.jp", "example.jp"]
    assert parents("example.jp") == []
    assert check_selectors(["Google", "s1.mail"]) == ["google", "s1.mail"]
    with pytest.raises(ValueError, match="not a DKIM selector"):
        check_selectors(["bad selector"])
