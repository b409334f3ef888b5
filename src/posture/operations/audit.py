"""The audit log: who did what, when, to which tenant, and from where.

Every operation that changes something calls ``record`` (in its own transaction when it
can, so the change and its entry commit together). Entries are append-only and chained:
each one's hash covers its fields and the hash of the entry before it, and ``seq``
numbers the chain without gaps, so an edited, deleted or inserted entry breaks the chain
at a place ``verify_audit`` names. Writers take a lock on the chain's single head row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers itself), so
concurrent writers still leave one chain.

Entries older than the retention (90 days by default, per store) are purged by
``purge_audit`` after they were written to a JSON Lines file whose last line is the
anchor: the hash of the last purged entry, which the remaining chain starts from.

Action names are dotted, subject first: ``tenant.add``, ``connection.add``,
``connection.check``, ``scan.run``, ``report.generate``, ``demo.run``, ``audit.export``,
``audit.purge``, ``audit.retention``; a filter on ``connection`` matches every
``connection.*`` action.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import os
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from posture.errors import PostureError, StoreError, UsageError
from posture.operations.access import require
from posture.operations.context import Operations
from posture.store import AuditChain, AuditEntry, Tenant
from posture.store.scope import session_scope
from posture.store.types import utcnow

# the actions posture records; each has a label under audit.action in the message catalogs
ACTIONS = (
    "tenant.add",
    "connection.add",
    "connection.check",
    "scan.run",
    "report.generate",
    "demo.run",
    "audit.export",
    "audit.purge",
    "audit.retention",
    "waiver.add",
    "waiver.revoke",
    "schedule.add",
    "schedule.remove",
    "schedule.change",
    "notify.add",
    "notify.remove",
    "export.findings",
    "connection.set_write",
    "fix.plan",
    "fix.approve",
    "fix.apply",
    "fix.applied",
    "fix.verify",
    "fix.abort",
    "fix.fail",
    "fix.rollback",
    "fix.rolled_back",
    "fix.resume",
    "fix.refused",
    "fix.kill_switch",
    "user.add",
    "user.disable",
    "user.role",
    "user.password",
    "user.password_reset",
    "user.login",
    "user.login_failed",
    "user.locked",
    "token.create",
    "token.revoke",
)
GENESIS = ""  # the previous hash of the very first entry of a store
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 36500
EXPORT_FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "tenant",
    "target",
    "source",
    "details",
    "prev_hash",
    "hash",
)
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@dataclass(frozen=True)
class AuditRecord:
    """One audit entry as the faces show and export it."""

    seq: int
    at: datetime
    actor: str
    action: str
    tenant: str
    target: str
    details: dict[str, Any]
    source: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditEntry) -> AuditRecord:
        return cls(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            tenant=row.tenant,
            target=row.target,
            details=dict(row.details),
            source=row.source,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> AuditRecord:
        """An entry read back from an exported JSON Lines file."""
        try:
            return cls(
                seq=int(record["seq"]),
                at=datetime.fromisoformat(str(record["at"])).astimezone(UTC),
                actor=str(record["actor"]),
                action=str(record["action"]),
                tenant=str(record.get("tenant", "")),
                target=str(record.get("target", "")),
                details=dict(record.get("details") or {}),
                source=str(record.get("source", "")),
                prev_hash=str(record["prev_hash"]),
                hash=str(record["hash"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"not an audit entry: {exc}") from exc

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": _moment(self.at),
            "actor": self.actor,
            "action": self.action,
            "tenant": self.tenant,
            "target": self.target,
            "details": self.details,
            "source": self.source,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def computed_hash(self) -> str:
        return entry_hash(self.as_dict())


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of verifying a chain: intact, or where it first breaks and how."""

    entries: int  # entries checked
    anchor_seq: int  # the chain starts after this entry (0: at the beginning)
    anchor_hash: str
    last_seq: int
    broken_seq: int | None = None  # the first entry that does not verify
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None and not self.problem


@dataclass(frozen=True)
class PurgeOutcome:
    purged: int
    path: Path | None  # the file the purged entries were written to (None: nothing purged)
    anchor_seq: int
    anchor_hash: str
    cutoff: datetime


@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    entries: int
    format: str


@dataclass(frozen=True)
class AuditSettings:
    retention_days: int
    head_seq: int
    anchor_seq: int
    anchor_hash: str
    anchored_at: datetime | None = None
    entries: int = 0
    oldest: datetime | None = None


@dataclass(frozen=True)
class AuditQuery:
    """Filters of ``list_audit`` and ``export_audit``; empty ones select everything."""

    tenant: str | None = None
    actions: tuple[str, ...] = ()  # exact actions or subjects (``connection``)
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    limit: int | None = None  # the newest entries only


# --- identity of the actor and the face ------------------------------------------


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no password entry (containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def face_source(face: str) -> str:
    """``face user@host``, e.g. ``cli alice@soc-01``: where an action came from."""
    return f"{face} {os_user()}@{socket.gethostname()}"


def actor_of(ops: Operations) -> str:
    return ops.actor.strip() or os_user()


# --- hashing ---------------------------------------------------------------------


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (RFC 8785 in spirit)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields, its previous hash included."""
    hashed = {k: fields[k] for k in CSV_COLUMNS if k != "hash"}
    return hashlib.sha256(canonical(hashed)).hexdigest()


def _plain(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details as JSON will give them back, so the hash stays the same after a reload."""
    return dict(json.loads(json.dumps(dict(details or {}), default=str, ensure_ascii=False)))


# --- writing ---------------------------------------------------------------------


def _lock_chain(session: Session) -> AuditChain:
    """The chain's head row, locked for the rest of the transaction."""
    if session.get_bind().dialect.name == "sqlite":
        # take SQLite's write lock now (waiting for other writers), not at commit
        session.execute(update(AuditChain).where(col(AuditChain.id) == 1).values(id=1))
    chain = session.exec(select(AuditChain).where(AuditChain.id == 1).with_for_update()).first()
    if chain is None:
        if session.exec(select(func.count()).select_from(AuditEntry)).one():
            raise StoreError(
                "the audit chain's head record is missing while entries exist",
                hint="the audit table was tampered with; run: posture audit verify",
            )
        chain = AuditChain(id=1, retention_days=DEFAULT_RETENTION_DAYS)
        session.add(chain)
        session.flush()
    return chain


def append(
    session: Session,
    *,
    actor: str,
    source: str,
    action: str,
    tenant: str = "",
    target: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Chain one entry onto the head, inside the caller's transaction."""
    if len(action) > 64 or not _ACTION.match(action):
        raise UsageError(
            f"invalid audit action '{action}': use dotted lower-case words, at most 64 characters"
        )
    chain = _lock_chain(session)
    fields: dict[str, Any] = {
        "seq": chain.head_seq + 1,
        "at": _moment(utcnow()),  # taken under the lock, so time follows the chain
        "actor": actor[:200],
        "action": action,
        "tenant": tenant,
        "target": target[:1024],
        "details": _plain(details),
        "source": source[:300],
        "prev_hash": chain.head_hash,
    }
    fields["hash"] = entry_hash(fields)
    row = AuditEntry(**{**fields, "at": datetime.fromisoformat(fields["at"])})
    session.add(row)
    chain.head_seq, chain.head_hash = row.seq, row.hash
    session.add(chain)
    session.flush()
    return AuditRecord.of(row)


def record(
    ops: Operations,
    action: str,
    *,
    tenant: str = "",
    target: str = "",
    details: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> AuditRecord:
    """Audit an action of ``ops``'s actor: in ``session`` (committing with the change it
    records) or in a transaction of its own."""
    kwargs: dict[str, Any] = {
        "actor": actor_of(ops),
        "source": ops.source or face_source("api"),
        "action": action,
        "tenant": tenant,
        "target": target,
        "details": details,
    }
    if session is not None:
        return append(session, **kwargs)
    with ops.session() as own:
        return append(own, **kwargs)


# --- reading ---------------------------------------------------------------------


def parse_moment(text: str | None, option: str = "--since") -> datetime | None:
    """``YYYY-MM-DD`` (00:00 UTC) or an ISO 8601 time (UTC unless it names an offset)."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(
            f"{option} takes a date (YYYY-MM-DD) or an ISO 8601 time, got '{text}'"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _action_matches(actions: tuple[str, ...]) -> Any:
    from sqlalchemy import or_

    clauses = []
    for action in actions:
        name = action.strip().rstrip(".")
        clauses.append(col(AuditEntry.action) == name)
        clauses.append(col(AuditEntry.action).startswith(name + ".", autoescape=True))
    return or_(*clauses)


def _filtered(query: AuditQuery, session: Session) -> Any:
    stmt = select(AuditEntry)
    if session_scope(session) is not None:
        # a principal limited to some tenants reads their entries only (never the
        # installation's own, which name no tenant); a slug outside them is unknown
        from posture.operations.tenants import get_tenant

        if query.tenant:
            get_tenant(session, query.tenant)
        slugs = list(session.exec(select(Tenant.slug)))
        stmt = stmt.where(col(AuditEntry.tenant).in_(slugs))
    if query.tenant:
        stmt = stmt.where(AuditEntry.tenant == query.tenant)
    if query.actions:
        stmt = stmt.where(_action_matches(query.actions))
    if query.since:
        stmt = stmt.where(col(AuditEntry.at) >= query.since)
    if query.until:
        stmt = stmt.where(col(AuditEntry.at) < query.until)
    return stmt


def _check_query(query: AuditQuery) -> None:
    if query.limit is not None and query.limit < 1:
        raise UsageError("the number of audit entries to list must be at least 1")
    if query.since and query.until and query.since >= query.until:
        raise UsageError("--since must be before --until")


def _visible_slugs(ops: Operations) -> list[str] | None:
    """Slugs of the tenants the principal is bound to (None: no such bound)."""
    scope = ops.principal.tenant_scope if ops.principal else None
    if scope is None:
        return None
    with ops.session() as session:
        return list(session.exec(select(Tenant.slug).where(col(Tenant.id).in_(scope))))


def list_audit(ops: Operations, query: AuditQuery | None = None) -> list[AuditRecord]:
    """Entries in chain order; with a limit, the newest ones. Any tenant slug may be
    named, also of a tenant no longer registered: its history stays readable."""
    require(ops, "audit.read")
    query = query or AuditQuery()
    _check_query(query)
    with ops.session() as session:
        stmt = _filtered(query, session).order_by(col(AuditEntry.seq).desc())
        if query.limit:
            stmt = stmt.limit(query.limit)
        rows = [AuditRecord.of(r) for r in session.exec(stmt)]
    return rows[::-1]


@dataclass(frozen=True)
class AuditPage:
    """One page of audit entries, newest first, and how many the selection holds."""

    entries: list[AuditRecord]
    total: int


def page_audit(
    ops: Operations, query: AuditQuery | None = None, *, offset: int = 0, limit: int = 100
) -> AuditPage:
    """Entries newest first from ``offset``, at most ``limit``: counted, ordered and cut
    in the database (a long log is never read whole for one page)."""
    require(ops, "audit.read")
    query = query or AuditQuery()
    _check_query(query)
    if offset < 0 or limit < 1:
        raise UsageError("an audit page starts at offset 0 or later and holds at least 1 entry")
    with ops.session() as session:
        chosen = _filtered(query, session)
        total = session.exec(select(func.count()).select_from(chosen.subquery())).one()
        page = chosen.order_by(col(AuditEntry.seq).desc()).offset(offset).limit(limit)
        entries = [AuditRecord.of(r) for r in session.exec(page)]
    return AuditPage(entries, int(total))


def _whole_chain(ops: Operations, what: str) -> None:
    """Refuse an action on the whole chain (every tenant's entries) in a tenant scope."""
    if ops.tenant_scope is not None:
        raise UsageError(
            f"{what} covers the audit log of every tenant: not available to a user "
            "limited to some tenants",
            hint="list or export the entries of your tenant instead",
        )


def audit_settings(ops: Operations) -> AuditSettings:
    require(ops, "audit.read")
    _whole_chain(ops, "the audit log's settings")
    with ops.session() as session:
        chain = session.get(AuditChain, 1) or AuditChain(retention_days=DEFAULT_RETENTION_DAYS)
        count, oldest = session.exec(
            select(func.count(), func.min(AuditEntry.at)).select_from(AuditEntry)
        ).one()
        return AuditSettings(
            retention_days=chain.retention_days,
            head_seq=chain.head_seq,
            anchor_seq=chain.anchor_seq,
            anchor_hash=chain.anchor_hash,
            anchored_at=chain.anchored_at,
            entries=int(count),
            oldest=oldest,
        )


def set_retention(ops: Operations, days: int) -> AuditSettings:
    """How many days entries are kept before ``purge_audit`` may remove them."""
    _whole_chain(ops, "the audit log's retention")
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise UsageError(f"the audit retention takes 1 to {MAX_RETENTION_DAYS} days, got {days}")
    require(ops, "service.operate")
    with ops.session() as session:
        chain = _lock_chain(session)
        before = chain.retention_days
        chain.retention_days = days
        session.add(chain)
        record(ops, "audit.retention", details={"from": before, "to": days}, session=session)
    return audit_settings(ops)


# --- verifying -------------------------------------------------------------------


def check_chain(
    entries: Iterable[AuditRecord],
    *,
    anchor_seq: int = 0,
    anchor_hash: str = GENESIS,
    head: tuple[int, str] | None = None,
    partial: bool = False,
) -> ChainCheck:
    """Walk ``entries`` in order from the anchor; name the first one that does not verify.

    ``head`` is where the chain must end (the store's head row), which catches entries
    deleted from the end. ``partial`` accepts gaps (a filtered export): each entry's own
    hash is still checked, and every link between consecutive entries.
    """
    expected, previous, count = anchor_seq + 1, anchor_hash, 0

    def broken(seq: int, problem: str) -> ChainCheck:
        return ChainCheck(count, anchor_seq, anchor_hash, expected - 1, seq, problem)

    for entry in entries:
        if partial and entry.seq > expected:
            expected, previous = entry.seq, entry.prev_hash
        if entry.seq > expected:
            gap = f"{expected}" if entry.seq == expected + 1 else f"{expected} to {entry.seq - 1}"
            return broken(expected, f"entry {gap} is missing: deleted from the chain")
        if entry.seq < expected:
            return broken(entry.seq, f"entry {entry.seq} is out of order: inserted into the chain")
        if entry.prev_hash != previous:
            before = f"entry {entry.seq - 1}" if entry.seq > 1 else "the start of the chain"
            if entry.seq - 1 == anchor_seq and anchor_seq:
                before = f"the anchor (entry {anchor_seq}, the last purged one)"
            return broken(
                entry.seq,
                f"entry {entry.seq} does not follow {before}: an entry before it was "
                "edited, replaced or inserted",
            )
        if entry.computed_hash() != entry.hash:
            return broken(
                entry.seq, f"entry {entry.seq} was edited: its content does not match its hash"
            )
        previous, expected, count = entry.hash, expected + 1, count + 1
    last = expected - 1
    if head is not None and head != (last, previous):
        head_seq, _ = head
        if head_seq > last:
            problem = (
                f"entries {last + 1} to {head_seq} are missing: deleted from the end of the chain"
            )
            return ChainCheck(count, anchor_seq, anchor_hash, last, last + 1, problem)
        problem = f"the chain ends at entry {last}, but its head record names entry {head_seq}"
        return ChainCheck(count, anchor_seq, anchor_hash, last, head_seq or last, problem)
    return ChainCheck(count, anchor_seq, anchor_hash, last)


def verify_audit(ops: Operations) -> ChainCheck:
    """Check the store's chain from its anchor (or its beginning) to its head."""
    require(ops, "audit.read")
    _whole_chain(ops, "verifying the audit chain")
    with ops.session() as session:
        chain = session.get(AuditChain, 1)
        stmt = select(AuditEntry).order_by(col(AuditEntry.seq)).execution_options(yield_per=1000)
        rows = session.exec(stmt)
        if chain is None:
            entries = [AuditRecord.of(r) for r in rows]
            if not entries:
                return ChainCheck(0, 0, GENESIS, 0)
            return ChainCheck(
                0, 0, GENESIS, 0, entries[0].seq, "the chain's head record is missing"
            )
        return check_chain(
            (AuditRecord.of(r) for r in rows),
            anchor_seq=chain.anchor_seq,
            anchor_hash=chain.anchor_hash,
            head=(chain.head_seq, chain.head_hash),
        )


def verify_audit_file(path: Path, *, partial: bool = False) -> ChainCheck:
    """Check an exported or purged JSON Lines file on its own.

    A purge file ends with its anchor line and starts from the anchor before it, so both
    ends are checked; an export is checked from its first entry's link to its last.
    ``partial`` is for an export filtered by tenant, action or time: gaps are accepted.
    """
    entries, anchor, previous = _read_jsonl(path)
    if previous is not None:
        start_seq, start_hash = int(previous["seq"]), str(previous["hash"])
    elif entries:
        start_seq, start_hash = entries[0].seq - 1, entries[0].prev_hash
    else:
        start_seq, start_hash = 0, GENESIS
    head = (int(anchor["seq"]), str(anchor["hash"])) if anchor is not None else None
    return check_chain(
        entries, anchor_seq=start_seq, anchor_hash=start_hash, head=head, partial=partial
    )


def _read_jsonl(
    path: Path,
) -> tuple[list[AuditRecord], dict[str, Any] | None, dict[str, Any] | None]:
    entries: list[AuditRecord] = []
    anchor: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}, line {number}: not JSON: {exc.msg}") from exc
        if isinstance(item, dict) and "anchor" in item:
            anchor, previous = item["anchor"], item.get("previous_anchor")
            continue
        try:
            entries.append(AuditRecord.from_json(item))
        except UsageError as exc:
            raise UsageError(f"{path}, line {number}: {exc.message}") from exc
    return entries, anchor, previous


# --- exporting and purging -------------------------------------------------------


def _jsonl_line(entry: AuditRecord) -> str:
    return json.dumps(entry.as_dict(), ensure_ascii=False, sort_keys=False) + "\n"


def _csv_text(entries: Iterable[AuditRecord], *, bom: bool) -> Iterator[str]:
    from posture.operations.exports import BOM, safe_cell  # exports are audited themselves

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield (BOM if bom else "") + buffer.getvalue()
    for entry in entries:
        buffer.seek(0)
        buffer.truncate()
        flat = entry.as_dict()
        flat["details"] = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
        writer.writerow([safe_cell(flat[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()


def _write_new(path: Path, chunks: Iterable[str]) -> None:
    """Write the whole file next to ``path`` first, then move it into place: a reader
    never sees half a file and an existing file is never overwritten."""
    if path.exists():
        raise UsageError(f"{path} already exists; choose another file")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PostureError(f"cannot write {path}: {exc.strerror or exc}") from exc


def export_audit(
    ops: Operations,
    out: Path,
    query: AuditQuery | None = None,
    *,
    fmt: str = "jsonl",
    bom: bool = True,
) -> ExportOutcome:
    """Write the selected entries to a new file: JSON Lines (verifiable with
    ``verify_audit_file``) or spreadsheet-safe CSV. The export itself is audited."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format takes one of {', '.join(EXPORT_FORMATS)}, got '{fmt}'")
    require(ops, "audit.read")
    require(ops, "export.run")
    query = query or AuditQuery()
    _check_query(query)
    with ops.session() as session:
        entries = [
            AuditRecord.of(r)
            for r in session.exec(_filtered(query, session).order_by(col(AuditEntry.seq)))
        ]
    chunks = (_jsonl_line(e) for e in entries) if fmt == "jsonl" else _csv_text(entries, bom=bom)
    _write_new(out, chunks)
    details: dict[str, Any] = {"file": str(out.resolve()), "format": fmt, "entries": len(entries)}
    details |= {k: _moment(v) for k, v in (("since", query.since), ("until", query.until)) if v}
    if query.actions:
        details["actions"] = list(query.actions)
    record(ops, "audit.export", tenant=query.tenant or "", target=out.name, details=details)
    return ExportOutcome(out, len(entries), fmt)


def purge_file_name(now: datetime | None = None) -> str:
    """A file name for a purge that sorts by time: ``posture-audit-purged-<UTC time>.jsonl``."""
    return f"posture-audit-purged-{(now or utcnow()).astimezone(UTC):%Y%m%dT%H%M%SZ}.jsonl"


def purge_audit(ops: Operations, out: Path, *, now: datetime | None = None) -> PurgeOutcome:
    """Move entries older than the retention to ``out`` (JSON Lines ending with the
    anchor), then delete them. The file is complete on disk before anything is deleted;
    if the deletion fails, the entries stay and the file is merely a copy."""
    require(ops, "service.operate")
    _whole_chain(ops, "purging the audit log")
    moment = now or utcnow()
    with ops.session() as session:
        chain = _lock_chain(session)
        cutoff = moment - timedelta(days=chain.retention_days)
        # a prefix of the chain only, so what remains still starts at one anchor
        keep_from = session.exec(
            select(func.min(AuditEntry.seq)).where(col(AuditEntry.at) >= cutoff)
        ).one()
        stmt = select(AuditEntry).order_by(col(AuditEntry.seq))
        if keep_from is not None:
            stmt = stmt.where(col(AuditEntry.seq) < keep_from)
        entries = [AuditRecord.of(r) for r in session.exec(stmt)]
        if not entries:
            return PurgeOutcome(0, None, chain.anchor_seq, chain.anchor_hash, cutoff)
        last = entries[-1]
        trailer = {
            "anchor": {"seq": last.seq, "hash": last.hash},
            "previous_anchor": {"seq": chain.anchor_seq, "hash": chain.anchor_hash},
            "purged_at": _moment(moment),
            "cutoff": _moment(cutoff),
            "entries": len(entries),
        }
        lines = [*(_jsonl_line(e) for e in entries), json.dumps(trailer) + "\n"]
        _write_new(out, lines)
        session.execute(delete(AuditEntry).where(col(AuditEntry.seq) <= last.seq))
        chain.anchor_seq, chain.anchor_hash, chain.anchored_at = last.seq, last.hash, moment
        session.add(chain)
        details = {"file": str(out.resolve()), "entries": len(entries), "cutoff": _moment(cutoff)}
        details |= {"anchor_seq": last.seq, "anchor_hash": last.hash}
        details["retention_days"] = chain.retention_days
        record(ops, "audit.purge", target=out.name, details=details, session=session)
    return PurgeOutcome(len(entries), out, last.seq, last.hash, cutoff)
