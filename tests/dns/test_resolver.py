"""The dnspython resolver against the local DNS server: answers told apart, one query per
name, faults as errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from posture.connectors.dns import DnsLookupError, DnsResolver, mail_domain
from posture.localapi.dns import RunningDns, dns_server, mail_zone


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    zone = mail_zone()
    zone["alias.example.jp"] = {"CNAME": "target.example.jp"}
    zone["target.example.jp"] = {"TXT": ["hello"]}
    zone["empty.example.jp"] = {"CNAME": "nowhere.example.jp"}
    zone["big.example.jp"] = {"TXT": ["v=DKIM1; k=rsa; p=" + "A" * 1500]}
    zone["sub.example.jp"] = {"TXT": ["v=spf1 redirect=_spf.example.jp"]}
    zone["_spf.example.jp"] = {"TXT": ["v=spf1 include:_spf.google.com -all"]}
    with dns_server(zone) as running:
        yield running


def test_answers_are_told_apart(dns: RunningDns) -> None:
    resolver = DnsResolver(dns.server, timeout=1)
    assert resolver.txt("contoso.example").status == "ok"
    missing = resolver.txt("missing.example.jp")
    assert (missing.status, missing.texts) == ("nxdomain", ())
    nodata = resolver.txt("selector1._domainkey.contoso.example")  # a CNAME to a TXT
    assert nodata.status == "ok" and nodata.cname.endswith("contoso.onmicrosoft.com")
    alias = resolver.txt("alias.example.jp")
    assert alias.texts == ("hello",) and alias.cname == "target.example.jp"
    assert resolver.txt("empty.example.jp").status == "nxdomain"


def test_name_without_txt_is_nodata(dns: RunningDns) -> None:
    dns.fake.zone["a.example.jp"] = {"CNAME": "contoso.example"}
    dns.fake.zone["mx.example.jp"] = {"MX": ["10 mail.example.jp."]}
    assert DnsResolver(dns.server).txt("mx.example.jp").status == "nodata"


def test_a_large_record_comes_over_tcp(dns: RunningDns) -> None:
    answer = DnsResolver(dns.server).txt("big.example.jp")
    assert answer.texts[0].endswith("A" * 100) and len(answer.texts[0]) > 1500


def test_each_name_is_asked_once(dns: RunningDns) -> None:
    resolver = DnsResolver(dns.server)
    mail_domain("contoso.example", ["selector1", "selector2"], resolver)
    mail_domain("contoso.example", ["selector1", "selector2"], resolver)
    asked = dns.fake.queries
    assert asked[("contoso.example", "TXT")] == 1
    assert asked[("_dmarc.contoso.example", "TXT")] == 1
    assert resolver.queries == 4


def test_spf_redirect_and_organisational_dmarc(dns: RunningDns) -> None:
    doc = mail_domain("sub.example.jp", ["google"], DnsResolver(dns.server))
    assert doc["spf"]["redirect"] == "_spf.example.jp" and doc["spf"]["all"] == "-all"
    assert doc["dmarc"]["found_at"] == "example.jp" and doc["dmarc"]["policy"] == "quarantine"
    assert doc["dkim"]["published"] == []


def test_servfail_and_timeout_are_errors_not_missing_records(dns: RunningDns) -> None:
    dns.fake.servfail.add("_dmarc.contoso.example")
    with pytest.raises(DnsLookupError) as failed:
        mail_domain("contoso.example", ["selector1"], DnsResolver(dns.server, timeout=0.5))
    assert failed.value.provider_code == "ServerFailure" and "SERVFAIL" in failed.value.message
    dns.fake.drop.add("example.jp")
    resolver = DnsResolver(dns.server, timeout=0.2, attempts=2)
    with pytest.raises(DnsLookupError) as timed_out:
        resolver.txt("example.jp")
    assert timed_out.value.provider_code == "Timeout"
    assert dns.fake.queries[("example.jp", "TXT")] >= 2  # retried
    with pytest.raises(DnsLookupError):  # the failure is cached too: asked once per scan
        resolver.txt("example.jp")
    assert resolver.queries == 2


def test_refused(dns: RunningDns) -> None:
    dns.fake.refuse_all = True
    with pytest.raises(DnsLookupError, match="REFUSED"):
        DnsResolver(dns.server, timeout=0.5).txt("contoso.example")


def test_ipv6_server_setting() -> None:
    try:
        server = dns_server(host="::1")
        running = server.__enter__()
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        answer = DnsResolver(f"[::1]:{running.port}").txt("contoso.example")
        assert answer.status == "ok"
    finally:
        server.__exit__(None, None, None)
