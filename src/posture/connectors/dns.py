"""SPF, DKIM and DMARC of a tenant's mail domains, read from public DNS (dnspython).

Both SaaS connectors use this module: their ``dns`` resource types (``m365.dns.mail_domain``,
``gws.dns.mail_domain``) take the domain list from documents the connector already collected
(spec ``dns.sources``), look up the domain's records here and build one document per domain.

Answers are told apart: a name that does not exist (NXDOMAIN) and a name without a record of
the type (NODATA) both mean "no record", which a policy may judge. A resolver that times out,
answers SERVFAIL or REFUSED, or cannot be configured raises ``DnsLookupError``: the domain's
scope is then a collection error, never a pass nor a "missing record" finding.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.resolver
import jmespath
from pydantic import BaseModel, Field, field_validator

from posture.catalog.spec import DnsSourceSpec, ResourceSpec
from posture.connectors.inventory import GLOBAL, Inventory, ScopeFailure
from posture.errors import CollectionError
from posture.models import Resource

log = logging.getLogger(__name__)
DEFAULT_PORT = 53
DEFAULT_TIMEOUT = 3.0  # seconds per attempt
DEFAULT_ATTEMPTS = 2
MAX_SPF_REDIRECTS = 5
PARALLEL = 8  # domains looked up at once
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


class DnsLookupError(CollectionError):
    """The resolver gave no usable answer (timeout, SERVFAIL, REFUSED): nothing is known."""


# -- settings --------------------------------------------------------------------------------


def parse_server(value: str) -> tuple[str, int]:
    """``HOST[:PORT]`` -> (host, port): an IPv4 address, or IPv6 as ``[::1]:5353`` or a bare
    ``::1``; the port defaults to 53."""
    text = value.strip()
    if not text:
        raise ValueError("a DNS server is HOST[:PORT], e.g. 192.0.2.53 or [2001:db8::53]:5353")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not text[end + 1 :].startswith(":")):
            raise ValueError(f"{value!r}: write an IPv6 server as [ADDRESS] or [ADDRESS]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
        if text[end + 1 :] == ":":
            raise ValueError(f"{value!r}: the port after ':' is missing")
        _ipv6(host, value)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        if not port_text:
            raise ValueError(f"{value!r}: the port after ':' is missing")
    elif text.count(":") > 1:
        _ipv6(text, value)  # a bare IPv6 address, default port
    if not host:
        raise ValueError(f"{value!r}: the host is missing")
    if ":" not in host:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            # a name would need a resolver to find the resolver: give its address
            raise ValueError(
                f"{value!r}: {host!r} is not an IPv4 address; give the DNS server's IP address"
            ) from None
    port = DEFAULT_PORT
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{value!r}: the port must be a number from 1 to 65535")
        port = int(port_text)
    return host, port


def _ipv6(host: str, value: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(f"{value!r}: {host!r} is not an IPv6 address") from None


def check_selectors(values: Sequence[str] | None) -> list[str] | None:
    """DKIM selectors are DNS labels (``google``, ``selector1``, ``s2048.mail``)."""
    if values is None:
        return None
    out = []
    for value in values:
        text = str(value).strip().strip(".")
        if not text or not all(_LABEL.match(part) for part in text.split(".")):
            raise ValueError(f"{value!r} is not a DKIM selector (DNS labels such as 'google')")
        out.append(text.lower())
    if not out:
        raise ValueError("give at least one DKIM selector")
    return out


class DnsSettings(BaseModel):
    """Connection settings shared by the connectors that read their mail domains' DNS."""

    dns_server: str | None = None  # HOST[:PORT]; None: the system's resolvers
    dns_timeout: float = Field(DEFAULT_TIMEOUT, gt=0, le=30)  # seconds per attempt
    dkim_selectors: list[str] | None = None  # replaces the spec's DKIM selectors

    @field_validator("dns_server")
    @classmethod
    def _server(cls, value: str | None) -> str | None:
        if value is not None:
            parse_server(value)
        return value

    @field_validator("dkim_selectors")
    @classmethod
    def _selectors(cls, value: list[str] | None) -> list[str] | None:
        return check_selectors(value)

    def dns_resolver(self) -> DnsResolver:
        return DnsResolver(self.dns_server, self.dns_timeout)


# -- look-ups --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TxtAnswer:
    """The TXT strings at ``name`` (``[]`` for NXDOMAIN or NODATA) and any CNAME it follows."""

    name: str
    status: str  # "ok" | "nxdomain" | "nodata"
    texts: tuple[str, ...] = ()
    cname: str | None = None  # the canonical name, when ``name`` is an alias


@dataclass
class DnsResolver:
    """A dnspython resolver with a per-scan cache: every distinct name is asked once."""

    server: str | None = None  # HOST[:PORT]; None uses the system's resolvers
    timeout: float = DEFAULT_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS
    queries: int = 0
    errors: int = 0
    _cache: dict[str, TxtAnswer | DnsLookupError] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _resolver: dns.resolver.Resolver | None = None

    def _make(self) -> dns.resolver.Resolver:
        if self._resolver is None:
            if self.server:
                host, port = parse_server(self.server)
                resolver = dns.resolver.Resolver(configure=False)
                resolver.nameservers = [host]
                resolver.port = port
            else:
                try:
                    resolver = dns.resolver.Resolver()
                except (dns.resolver.NoResolverConfiguration, OSError) as exc:
                    raise DnsLookupError(
                        f"the system has no DNS resolver configured ({exc}); set the "
                        "connection's dns_server (--dns-server HOST[:PORT])",
                        code="NoResolverConfiguration",
                    ) from exc
            resolver.timeout = self.timeout
            resolver.lifetime = self.timeout
            resolver.cache = None
            self._resolver = resolver
        return self._resolver

    @property
    def where(self) -> str:
        return f"the DNS server {self.server}" if self.server else "the system's DNS resolver"

    def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``; raises ``DnsLookupError`` when the resolver fails."""
        key = name.lower().rstrip(".")
        with self._lock:
            name_lock = self._locks.setdefault(key, threading.Lock())
        with name_lock:  # concurrent domains sharing a parent still ask it once
            cached = self._cache.get(key)
            if cached is None:
                cached = self._cache[key] = self._ask(key)
        if isinstance(cached, DnsLookupError):
            raise cached
        return cached

    def _count(self, *, queries: int = 0, errors: int = 0) -> None:
        with self._lock:
            self.queries += queries
            self.errors += errors

    def _ask(self, name: str) -> TxtAnswer | DnsLookupError:
        resolver = self._make()
        qname = dns.name.from_text(name)
        last: str = ""
        code = "Timeout"
        for _ in range(self.attempts):
            self._count(queries=1)
            try:
                answer = resolver.resolve(
                    qname, "TXT", raise_on_no_answer=False, search=False, lifetime=self.timeout
                )
            except dns.resolver.NXDOMAIN as exc:
                return TxtAnswer(name, "nxdomain", cname=_alias(qname, exc.canonical_name))
            except dns.resolver.NoNameservers as exc:
                self._count(errors=1)
                code, last = "ServerFailure", _servfail_text(exc)
            except dns.exception.Timeout:
                self._count(errors=1)
                code, last = "Timeout", f"no answer within {self.timeout:g} s"
            except dns.exception.DNSException as exc:
                self._count(errors=1)
                code, last = type(exc).__name__, str(exc)
            else:
                cname = _alias(qname, answer.canonical_name)
                if answer.rrset is None:
                    return TxtAnswer(name, "nodata", cname=cname)
                texts = tuple(
                    b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer.rrset
                )
                return TxtAnswer(name, "ok", texts, cname)
        return DnsLookupError(
            f"the TXT look-up of {name} through {self.where} failed after "
            f"{self.attempts} attempt(s): {last}",
            code=code,
        )


def _alias(qname: dns.name.Name, canonical: dns.name.Name) -> str | None:
    return None if canonical == qname else canonical.to_text(omit_final_dot=True).lower()


def _servfail_text(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    for error in errors:
        answer = error[4] if len(error) > 4 else None
        if isinstance(answer, dns.message.Message):
            return f"the server answered {dns.rcode.to_text(answer.rcode())}"
    return "the server answered SERVFAIL or REFUSED"


# -- parsing ---------------------------------------------------------------------------------


def parse_spf(texts: Sequence[str]) -> dict[str, Any]:
    """The SPF records among a domain's TXT strings (RFC 7208: exactly one may exist)."""
    records = [t for t in texts if re.match(r"(?i)^v=spf1(\s|$)", t.strip())]
    doc: dict[str, Any] = {
        "records": records,
        "record": records[0] if len(records) == 1 else None,
        "valid": len(records) == 1,
        "all": None,
        "redirect": None,
        "includes": [],
    }
    if len(records) != 1:
        return doc
    for term in records[0].split()[1:]:
        low = term.lower()
        qualifier, mechanism = (low[0], low[1:]) if low[:1] in "+-~?" else ("+", low)
        if mechanism == "all":
            doc["all"] = f"{qualifier}all"
        elif mechanism.startswith("include:"):
            doc["includes"].append(term.split(":", 1)[1])
        elif low.startswith("redirect="):
            doc["redirect"] = term.split("=", 1)[1]
    return doc


def parse_tags(text: str) -> dict[str, str]:
    """``k=v; k=v`` tags of a DMARC or DKIM record; names lower-cased, values trimmed."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def parse_dmarc(texts: Sequence[str]) -> dict[str, Any]:
    """The DMARC record at ``_dmarc.DOMAIN`` (RFC 7489: more than one means none applies)."""
    records = [t for t in texts if re.match(r"(?i)^v\s*=\s*DMARC1\s*(;|$)", t.strip())]
    doc: dict[str, Any] = {
        "records": records,
        "record": records[0] if len(records) == 1 else None,
        "valid": False,
        "p": None,
        "sp": None,
        "pct": None,
        "rua": [],
        "ruf": [],
    }
    if len(records) != 1:
        return doc
    tags = parse_tags(records[0])
    p = tags.get("p", "").lower() or None
    doc["valid"] = p in ("none", "quarantine", "reject")
    doc["p"] = p
    doc["sp"] = tags.get("sp", "").lower() or None
    pct = tags.get("pct", "100")
    doc["pct"] = int(pct) if pct.isdigit() else None
    doc["rua"] = _uris(tags.get("rua", ""))
    doc["ruf"] = _uris(tags.get("ruf", ""))
    return doc


def _uris(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


def parse_dkim(texts: Sequence[str]) -> dict[str, Any]:
    """A DKIM key record: ``p=`` holds the public key; an empty ``p=`` is a revoked key."""
    records = [t for t in texts if "p=" in t.replace(" ", "").lower()]
    record = records[0] if records else None
    key = parse_tags(record).get("p", "").replace(" ", "") if record else ""
    return {"record": record, "key": bool(key)}


# -- documents -------------------------------------------------------------------------------


def parents(domain: str) -> list[str]:
    """Parent domains down to two labels: where an organisational DMARC record may live."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]


def mail_domain(domain: str, selectors: Sequence[str], resolver: DnsResolver) -> dict[str, Any]:
    """The ``spf``, ``dmarc`` and ``dkim`` of one domain; ``DnsLookupError`` when unknown."""
    spf = parse_spf(resolver.txt(domain).texts)
    effective = spf
    seen = {domain}
    for _ in range(MAX_SPF_REDIRECTS):
        target = effective.get("redirect")
        if effective.get("all") or not target or target.lower() in seen:
            break
        seen.add(target.lower())
        effective = parse_spf(resolver.txt(target).texts)
        spf["all"] = effective.get("all")
    dmarc = parse_dmarc(resolver.txt(f"_dmarc.{domain}").texts)
    dmarc["found_at"] = domain if dmarc["records"] else None
    dmarc["policy"] = dmarc["p"] if dmarc["valid"] else None
    if not dmarc["records"]:
        for parent in parents(domain):
            found = parse_dmarc(resolver.txt(f"_dmarc.{parent}").texts)
            if found["records"]:
                # a receiver applies the organisational domain's record: sp= for subdomains
                found["found_at"] = parent
                found["policy"] = (found["sp"] or found["p"]) if found["valid"] else None
                dmarc = found
                break
    keys: dict[str, Any] = {}
    for selector in selectors:
        name = f"{selector}._domainkey.{domain}"
        answer = resolver.txt(name)
        keys[selector] = {"name": name, "cname": answer.cname, **parse_dkim(answer.texts)}
    return {
        "domain": domain,
        "spf": spf,
        "dmarc": dmarc,
        "dkim": {
            "selectors": keys,
            "published": sorted(s for s, v in keys.items() if v["key"]),
        },
    }


def _domains(spec: ResourceSpec, inventory: Inventory) -> list[tuple[str, dict[str, Any]]]:
    """(domain, copied fields) of every source document that is a mail domain, first wins."""
    assert spec.dns is not None
    out: dict[str, dict[str, Any]] = {}
    for source in spec.dns.sources:
        for doc in (r.data for r in inventory.resources if r.type == source.of):
            for entry in _entries(source, doc):
                name = str(jmespath.search(source.domain, entry) or "").lower().rstrip(".")
                if name and name not in out:
                    copied = {k: jmespath.search(v, entry) for k, v in source.copy_fields.items()}
                    out[name] = copied
    return sorted(out.items())


def _entries(source: DnsSourceSpec, doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = jmespath.search(source.items, doc) if source.items else [doc]
    entries = [e for e in (found or []) if isinstance(e, dict)]
    if source.where:
        entries = [e for e in entries if jmespath.search(source.where, e)]
    return entries


def collect_mail_domains(
    spec: ResourceSpec,
    inventory: Inventory,
    resolver: DnsResolver,
    *,
    selectors: Sequence[str] | None = None,
    progress: Callable[[str, str, int], None] | None = None,
) -> None:
    """One resource per mail domain of the sources; a failed look-up fails that domain only.

    A domain's resource and its failure scope are both the region named after the domain,
    so a resolver failure leaves that domain's findings as they were and judges the others.
    """
    assert spec.dns is not None
    started = time.monotonic()
    stat = inventory.stat(spec.type)
    failed = inventory.failed_scopes()
    unlicensed = inventory.not_applicable_scopes()
    for source in spec.dns.sources:
        if (source.of, GLOBAL) in failed:
            inventory.fail(
                ScopeFailure(
                    spec.type,
                    GLOBAL,
                    f"{spec.type} takes its domains from {source.of}, whose collection failed: "
                    f"{failed[(source.of, GLOBAL)]}",
                    "DependencyFailed",
                )
            )
            return
        if (source.of, GLOBAL) in unlicensed:
            inventory.mark_not_applicable(spec.type, GLOBAL, unlicensed[(source.of, GLOBAL)])
            return
    wanted = list(selectors or spec.dns.dkim_selectors)
    before = (resolver.queries, resolver.errors)
    resources = []

    def one(domain: str, copied: dict[str, Any]) -> dict[str, Any] | DnsLookupError:
        try:
            return {**mail_domain(domain, wanted, resolver), **copied}
        except DnsLookupError as exc:
            return exc

    try:
        domains = _domains(spec, inventory)
        # domains are independent: a few at a time, so a slow resolver does not add up
        with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL, len(domains)))) as pool:
            docs = list(pool.map(lambda d: one(*d), domains))
        for (domain, _), doc in zip(domains, docs, strict=True):
            if isinstance(doc, DnsLookupError):
                inventory.fail(
                    ScopeFailure(spec.type, domain, doc.message, doc.provider_code or "")
                )
                continue
            resources.append(
                Resource(spec.type, domain, domain, domain, doc, {}, inventory.account)
            )
    except Exception as exc:  # a bug here must not stop the connector's other types
        log.exception("collecting %s failed", spec.type)
        message = f"internal error while collecting {spec.type}: {type(exc).__name__}: {exc}"
        inventory.fail(ScopeFailure(spec.type, GLOBAL, message, "InternalError"))
        resources = []
    inventory.add(resources)
    inventory.count(
        spec.type, calls=resolver.queries - before[0], errors=resolver.errors - before[1]
    )
    stat.resources += len(resources)
    stat.seconds += time.monotonic() - started
    if progress:
        progress(spec.type, GLOBAL, len(resources))


def check_dns_specs(specs: Sequence[ResourceSpec], known: set[str]) -> list[str]:
    """DNS types: their sources exist and their JMESPath expressions compile."""
    problems = []
    for spec in specs:
        if spec.dns is None:
            continue
        for source in spec.dns.sources:
            if source.of not in known:
                problems.append(f"{spec.type}: dns source '{source.of}' is not a resource type")
            exprs = [source.items, source.where, source.domain, *source.copy_fields.values()]
            for expr in exprs:
                if expr:
                    try:
                        jmespath.compile(expr)
                    except jmespath.exceptions.ParseError as exc:
                        problems.append(f"{spec.type}: invalid JMESPath '{expr}': {exc}")
        try:
            check_selectors(spec.dns.dkim_selectors)
        except ValueError as exc:
            problems.append(f"{spec.type}: {exc}")
    return problems
