"""A small authoritative DNS server over UDP and TCP, answering from a zone dict.

Built on dnspython's message API. Names it does not hold are NXDOMAIN, names it holds
without the asked type get an empty NOERROR answer (NODATA), and a CNAME is followed
inside the zone, the way a recursive resolver would answer. Faults are injectable per name:
``servfail`` answers SERVFAIL, ``drop`` never answers (the client times out). The demo
points its tenants' connections at it with ``--dns-server 127.0.0.1:PORT``.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TTL = 300
UDP_LIMIT = 512  # without EDNS; a larger answer is truncated (TC) and asked again over TCP

# name -> {"TXT": ["v=spf1 ..."], "CNAME": "target."}; a TXT value longer than 255 bytes is
# split into character-strings, as a zone file would publish it
Zone = dict[str, dict[str, Any]]


def mail_zone() -> Zone:
    """Records of the local tenants' domains: contoso.example (M365) and example.jp (GWS)."""
    key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu" + "A" * 300 + "IDAQAB"
    return {
        # Microsoft 365: the custom domain, DKIM CNAMEs to the initial domain's keys
        "contoso.example": {"TXT": ["v=spf1 include:spf.protection.outlook.com -all"]},
        "_dmarc.contoso.example": {
            "TXT": ["v=DMARC1; p=reject; pct=100; rua=mailto:dmarc@contoso.example"]
        },
        "selector1._domainkey.contoso.example": {
            "CNAME": "selector1-contoso-example._domainkey.contoso.onmicrosoft.com"
        },
        "selector2._domainkey.contoso.example": {
            "CNAME": "selector2-contoso-example._domainkey.contoso.onmicrosoft.com"
        },
        "selector1-contoso-example._domainkey.contoso.onmicrosoft.com": {
            "TXT": [f"v=DKIM1; k=rsa; p={key}"]
        },
        "selector2-contoso-example._domainkey.contoso.onmicrosoft.com": {
            "TXT": [f"v=DKIM1; k=rsa; p={key}"]
        },
        "contoso.onmicrosoft.com": {"TXT": ["v=spf1 include:spf.protection.outlook.com -all"]},
        "_dmarc.contoso.onmicrosoft.com": {"TXT": ["v=DMARC1; p=none"]},
        # Google Workspace: SPF soft fail, DMARC quarantine, the default DKIM selector
        "example.jp": {
            "TXT": ["v=spf1 include:_spf.google.com ~all", "google-site-verification=x"]
        },
        "_dmarc.example.jp": {"TXT": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.jp"]},
        "google._domainkey.example.jp": {"TXT": [f"v=DKIM1; k=rsa; p={key}"]},
    }


def _absolute(name: str) -> str:
    return name.lower().rstrip(".") + "."


@dataclass
class FakeDns:
    """The zone and the faults; ``queries`` counts what was asked, per (name, type)."""

    zone: Zone = field(default_factory=mail_zone)
    servfail: set[str] = field(default_factory=set)  # names answered SERVFAIL
    drop: set[str] = field(default_factory=set)  # names never answered
    refuse_all: bool = False  # every query REFUSED (a resolver that does not serve us)
    queries: dict[tuple[str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _records(self) -> dict[str, dict[str, Any]]:
        return {_absolute(k): v for k, v in self.zone.items()}

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response to ``query``, or None to stay silent."""
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname = question.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            key = (qname.rstrip("."), rdtype)
            self.queries[key] = self.queries.get(key, 0) + 1
        bare = qname.rstrip(".")
        if bare in self.drop:
            return None
        if self.refuse_all:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        if bare in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        records = self._records()
        name = qname
        for _ in range(8):  # follow CNAMEs inside the zone
            node = records.get(name)
            if node is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            target = node.get("CNAME")
            if target and rdtype != "CNAME":
                response.answer.append(
                    dns.rrset.from_text(name, TTL, "IN", "CNAME", _absolute(target))
                )
                name = _absolute(target)
                if name.rstrip(".") in self.servfail:
                    response.set_rcode(dns.rcode.SERVFAIL)
                    return response
                continue
            values = [target] if rdtype == "CNAME" and target else node.get(rdtype) or []
            if values:
                texts = [_rdata_text(rdtype, v) for v in values]
                response.answer.append(dns.rrset.from_text_list(name, TTL, "IN", rdtype, texts))
            return response
        response.set_rcode(dns.rcode.SERVFAIL)  # a CNAME loop
        return response


def _rdata_text(rdtype: str, value: str) -> str:
    if rdtype == "TXT":
        chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
        return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
    if rdtype == "CNAME":
        return _absolute(value)
    return value


def _wire(fake: FakeDns, data: bytes, limit: int | None) -> bytes | None:
    try:
        query = dns.message.from_wire(data)
    except Exception:
        return None
    response = fake.answer(query)
    if response is None:
        return None
    if limit is None:
        return response.to_wire()
    size = max(UDP_LIMIT, query.payload if query.edns >= 0 else UDP_LIMIT)
    try:
        return response.to_wire(max_size=size)
    except dns.exception.TooBig:
        truncated = dns.message.make_response(query)
        truncated.flags |= dns.flags.TC
        return truncated.to_wire()


class _Udp(socketserver.ThreadingUDPServer):
    daemon_threads = True
    fake: FakeDns


class _Tcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeDns


class _UdpHandler(socketserver.BaseRequestHandler):
    server: _Udp

    def handle(self) -> None:
        data, sock = self.request
        out = _wire(self.server.fake, data, UDP_LIMIT)
        if out is not None:
            sock.sendto(out, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    server: _Tcp

    def handle(self) -> None:
        conn: socket.socket = self.request
        while True:
            head = _read(conn, 2)
            if not head:
                return
            data = _read(conn, struct.unpack("!H", head)[0])
            if data is None:
                return
            out = _wire(self.server.fake, data, None)
            if out is None:
                return
            conn.sendall(struct.pack("!H", len(out)) + out)


def _read(conn: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        chunk = conn.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks


@dataclass
class RunningDns:
    fake: FakeDns
    host: str
    port: int

    @property
    def server(self) -> str:
        """The ``--dns-server`` value that reaches it."""
        return f"{self.host}:{self.port}"


@contextmanager
def dns_server(zone: Zone | None = None, host: str = "127.0.0.1") -> Iterator[RunningDns]:
    """Serve ``zone`` (default: ``mail_zone()``) on one free port, UDP and TCP."""
    fake = FakeDns(zone if zone is not None else mail_zone())
    family = {"address_family": socket.AF_INET6 if ":" in host else socket.AF_INET}
    udp_class = type("Udp", (_Udp,), family)
    tcp_class = type("Tcp", (_Tcp,), family)
    for _ in range(20):  # one port for both protocols: take a free UDP port, then bind TCP
        udp = udp_class((host, 0), _UdpHandler)
        port = udp.server_address[1]
        try:
            tcp = tcp_class((host, port), _TcpHandler)
        except OSError:
            udp.server_close()
            continue
        break
    else:
        raise OSError("no free port for the local DNS server")
    udp.fake = tcp.fake = fake
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (udp, tcp)]
    for thread in threads:
        thread.start()
    try:
        yield RunningDns(fake, host, port)
    finally:
        for srv in (udp, tcp):
            srv.shutdown()
            srv.server_close()
