"""Setting repair in the monthly report: the month's fix runs counted by outcome in the PDF
(read back in ja and en) and each run's before -> after in the analyst HTML, escaped; no
section for a tenant without the option and without runs."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.operations import Operations
from posture.operations.reports import generate_report
from posture.report.fix_runs import OUTCOMES
from posture.report.i18n import load_messages
from posture.store import Connection, Finding, FixRun, Store, Tenant

NOW = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
POLICY = "aws.s3.bucket_block_public_access"
FIX = "aws.s3.block_public_access"
HOSTILE = '<script>alert("x")</script>'
PARTIAL = {"BlockPublicAcls": True, "BlockPublicPolicy": False, "note": HOSTILE}
ALL_ON = {"BlockPublicAcls": True, "BlockPublicPolicy": True}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (resource, state, applied_at, finished_at, reason); times in UTC, the tenant is in Tokyo
RUNS: list[tuple[str, str, str | None, str | None, str]] = [
    ("nov-verified", "verified", "2026-11-03T02:00", "2026-11-03T02:05", ""),
    ("nov-rolled-back", "rolled_back", "2026-11-10T02:00", "2026-11-11T02:00", "requested"),
    ("nov-failed", "failed", "2026-11-12T02:00", "2026-11-12T02:01", "AccessDenied on put"),
    ("nov-aborted", "aborted", None, "2026-11-14T02:00", "the bucket changed since the plan"),
    ("nov-second-verified", "verified", "2026-11-20T02:00", "2026-11-20T02:03", ""),
    # 2026-11-30 16:30 UTC is 2026-12-01 01:30 in Tokyo: December's
    ("dec-boundary", "verified", "2026-11-30T16:30", "2026-11-30T16:35", ""),
    ("oct-verified", "verified", "2026-10-15T02:00", "2026-10-15T02:05", ""),
    # plans never applied are not runs of any month
    ("nov-planned", "planned", None, None, ""),
]


def _seed(store: Store, options: dict[str, Any], runs: list[Any]) -> None:
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme Japan", locale="ja", timezone="Asia/Tokyo",
                        options=options)  # fmt: skip
        session.add(tenant)
        session.flush()
        conn = Connection(tenant_id=tenant.id, name="prod", provider="aws")
        session.add(conn)
        session.flush()
        for name, state, applied, finished, reason in runs:
            uid = f"arn:aws:s3:::{name}"
            display = f"{name}{HOSTILE}" if name == "nov-verified" else name
            finding = Finding(
                id=f"f-{name}", tenant_id=tenant.id, connection_id=conn.id, policy_id=POLICY,
                resource_type="aws.s3.bucket", resource_uid=uid, resource_name=display,
                severity="high", state="resolved" if state == "verified" else "open",
                statement={"en": f"Bucket {display} lacks Block Public Access",
                           "ja": f"バケット {display} のパブリックアクセスブロックが不足"},
                first_seen=_at("2026-10-01T00:00"), last_seen=_at("2026-12-01T00:00"),
            )  # fmt: skip
            session.add(finding)
            session.flush()
            session.add(
                FixRun(
                    tenant_id=tenant.id, connection_id=conn.id, finding_id=finding.id,
                    fix_id=FIX, policy_id=POLICY, resource_type="aws.s3.bucket",
                    resource_uid=uid, resource_name=display, region="ap-northeast-1",
                    risk="medium", state=state, reason=reason, before=PARTIAL, after=ALL_ON,
                    planned_by="alice", planned_at=_at("2026-10-01T00:00"),
                    approved_by="bob" if state != "planned" else "",
                    applied_by="alice" if applied else "",
                    applied_at=_at(applied) if applied else None,
                    finished_at=_at(finished) if finished else None,
                )
            )  # fmt: skip


def _render(
    tmp_path: Path, catalog: Catalog, fmt: str, *, period: str = "2026-11",
    options: dict[str, Any] | None = None, runs: list[Any] | None = None,
    store: Store | None = None,
) -> dict[str, str]:  # fmt: skip
    tmp_path.mkdir(parents=True, exist_ok=True)
    own = store is None
    store = store or Store(f"sqlite:///{tmp_path / 'p.db'}")
    _seed(store, {"setting_repair": {"enabled": True}} if options is None else options,
          RUNS if runs is None else runs)  # fmt: skip
    texts = _generate(store, tmp_path, catalog, fmt, period)
    if own:
        store.dispose()
    return texts


def _generate(
    store: Store, tmp_path: Path, catalog: Catalog, fmt: str, period: str = "2026-11"
) -> dict[str, str]:
    ops = Operations.using(store, catalog)
    out = generate_report(ops, "acme", formats=(fmt,), languages=("ja", "en"), period=period,
                          out=tmp_path / f"out-{period}", now=NOW)  # fmt: skip
    return _texts(out.paths, fmt)


def _texts(paths: list[Path], fmt: str) -> dict[str, str]:
    texts = {}
    for path in paths:
        lang = Path(path).stem.rsplit("-", 1)[-1]
        if fmt == "pdf":
            run = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                                 text=True, check=True)  # fmt: skip
            texts[lang] = run.stdout
        else:
            texts[lang] = Path(path).read_text(encoding="utf-8")
    return texts


def _pdf_section(layout: str, heading: str, following: str) -> str:
    """The text of a PDF section: from its heading on a line of its own to the next one."""
    start = [m.end() for m in re.finditer(rf"^\s*{re.escape(heading)}\s*$", layout, re.M)][-1]
    return layout[start : layout.index(following, start)]


def _counts(layout: str, lang: str) -> dict[str, int]:
    """The outcome figures of the PDF: a line of numbers above the line of their labels."""
    m = load_messages(lang)
    labels = {m(f"fix_report.outcome.{k}"): k for k in OUTCOMES}
    lines = layout.splitlines()
    for i, line in enumerate(lines):
        cells = re.split(r"\s{2,}", line.strip())
        if cells and all(c in labels for c in cells) and len(cells) == len(labels):
            numbers = next(n for n in reversed(lines[:i]) if n.strip()).split()
            return {labels[c]: int(n) for c, n in zip(cells, numbers, strict=True)}
    raise AssertionError(f"no outcome figures in the {lang} PDF")


def _section(page: str) -> str:
    found = re.search(r'<section id="repair">(.*?)</section>', page, re.S)
    assert found, "no setting repair section"
    return found.group(1)


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext")


@needs_pdftotext
def test_the_pdf_lists_the_months_runs_with_their_counts(tmp_path: Path, catalog: Catalog) -> None:
    texts = _render(tmp_path, catalog, "pdf")
    fix = catalog.fixes[FIX]
    for lang, layout in texts.items():
        m = load_messages(lang)
        # listed in the table of contents, then the section itself (up to the next chapter)
        toc = layout.index(m("toc.heading"))
        assert m("fix_report.toc") in layout[toc : layout.index(m("toc.appendix"), toc)]
        section = _pdf_section(layout, m("fix_report.heading"), m("compliance.heading"))
        flat = re.sub(r"\s+", "", section)  # cells wrap in narrow columns
        assert re.sub(r"\s+", "", fix.title.get(lang))[:12] in flat, lang  # cells wrap
        for name in ("nov-verified", "nov-rolled-back", "nov-failed", "nov-aborted",
                     "nov-second-verified"):  # fmt: skip
            assert name in flat, (lang, name)
        for name in ("dec-boundary", "oct-verified", "nov-planned"):
            assert name not in flat, (lang, name)
        # counts by outcome: 2 verified, 1 rolled back, 1 failed, 1 aborted
        assert _counts(section, lang) == {"verified": 2, "rolled_back": 1, "failed": 1,
                                         "aborted": 1}, lang  # fmt: skip
        assert "bob" in flat and "AccessDeniedonput" in flat
        assert re.sub(r"\s+", "", m("fix_report.columns.resolved")) in flat


@needs_pdftotext
def test_an_earlier_month_shows_that_months_runs_only(tmp_path: Path, catalog: Catalog) -> None:
    texts = _render(tmp_path, catalog, "pdf", period="2026-10")
    for lang, layout in texts.items():
        m = load_messages(lang)
        section = _pdf_section(layout, m("fix_report.heading"), m("compliance.heading"))
        flat = re.sub(r"\s+", "", section)
        assert "oct-verified" in flat
        assert _counts(section, lang) == {"verified": 1, "rolled_back": 0, "failed": 0,
                                          "aborted": 0}  # fmt: skip
        assert not re.search(r"nov-|dec-boundary", flat)


def test_the_analyst_html_shows_before_and_after_escaped(
    tmp_path: Path, catalog: Catalog, store: Store
) -> None:
    texts = _render(tmp_path, catalog, "html", store=store)  # SQLite and PostgreSQL
    for lang, page in texts.items():
        m = load_messages(lang)
        section = _section(page)
        assert HOSTILE not in page  # a hostile resource name or state value stays text
        assert "<script" not in section and "</script" not in section
        assert "&lt;script&gt;alert(" in section
        runs = re.findall(r'<li class="fix-run".*?</li>', section, re.S)
        assert len(runs) == 5, lang
        before = re.findall(r'<pre class="state before"><code>(.*?)</code></pre>', section, re.S)
        after = re.findall(r'<pre class="state after"><code>(.*?)</code></pre>', section, re.S)
        pretty = json.dumps(PARTIAL, indent=2, ensure_ascii=False, sort_keys=True)
        assert [html.unescape(b) for b in before] == [pretty] * 5
        assert html.unescape(after[0]) == json.dumps(ALL_ON, indent=2, sort_keys=True)
        assert "\n" in html.unescape(before[0])  # pretty-printed, one key a line
        failed = next(r for r in runs if "nov-failed" in r)
        assert m("fix_report.state.failed") in failed and "AccessDenied on put" in failed
        assert "oct-verified" not in page and "dec-boundary" not in page


def test_no_section_without_the_option_and_without_runs(tmp_path: Path, catalog: Catalog) -> None:
    for fmt in ("html", "pdf") if shutil.which("pdftotext") else ("html",):
        texts = _render(tmp_path / fmt, catalog, fmt, options={}, runs=[])
        for lang, text in texts.items():
            heading = load_messages(lang)("fix_report.heading")
            assert heading not in text, (fmt, lang)
            assert 'id="repair"' not in text


def test_the_option_without_runs_says_so(tmp_path: Path, catalog: Catalog) -> None:
    texts = _render(tmp_path, catalog, "html", runs=[])
    for lang, page in texts.items():
        assert load_messages(lang)("fix_report.none") in _section(page)


def test_runs_are_shown_even_when_the_option_is_off(tmp_path: Path, catalog: Catalog) -> None:
    texts = _render(tmp_path, catalog, "html", options={})
    assert all("nov-failed" in _section(page) for page in texts.values())


# --- end to end: a fix made through the operations on moto ------------------------------


@pytest.fixture
def moto_store(tmp_path: Path, moto_url: str) -> Iterator[tuple[Store, str]]:
    store = Store(f"sqlite:///{tmp_path / 'e2e.db'}")
    yield store, moto_url
    store.dispose()


def test_a_fix_made_through_the_operations_is_reported(
    moto_store: tuple[Store, str], catalog: Catalog, tmp_path: Path
) -> None:
    from tests.remediation.conftest import Repair

    store, endpoint = moto_store
    alice = Operations.using(store, catalog, actor="alice", source="test")
    bob = Operations.using(store, catalog, actor="bob", source="test")
    repair = Repair(store, catalog, endpoint, alice, bob)
    repair.setup([POLICY])
    repair.client("s3").create_bucket(Bucket="acme-e2e")
    outcome = repair.fix(POLICY, ":::acme-e2e")
    assert outcome.run.state == "verified", outcome.run.reason
    out = generate_report(alice, "acme", formats=("html",), languages=("en",),
                          out=tmp_path / "e2e")  # fmt: skip
    page = Path(out.paths[0]).read_text(encoding="utf-8")
    section = _section(page)
    assert catalog.fixes[FIX].title.en in section
    assert "acme-e2e" in section and "bob" in section
    assert load_messages("en")("fix_report.state.verified") in section
    before = re.search(r'<pre class="state before"><code>(.*?)</code></pre>', section, re.S)
    after = re.search(r'<pre class="state after"><code>(.*?)</code></pre>', section, re.S)
    assert before and after
    assert json.loads(html.unescape(before.group(1))) == outcome.run.before
    assert json.loads(html.unescape(after.group(1))) == outcome.run.after
    assert json.loads(html.unescape(after.group(1)))["RestrictPublicBuckets"] is True


def test_automatic_and_unfinished_runs(tmp_path: Path, catalog: Catalog) -> None:
    """An automatic run names no person; a run still applying is counted apart."""
    runs = [
        ("nov-auto", "verified", "2026-11-05T02:00", "2026-11-05T02:04", ""),
        ("nov-applying", "applied", "2026-11-06T02:00", None, ""),
    ]
    store = Store(f"sqlite:///{tmp_path / 'auto.db'}")
    _seed(store, {"setting_repair": {"enabled": True, "auto": True}}, runs)
    with store.session() as session:
        for run in session.exec(select(FixRun).where(FixRun.resource_name == "nov-auto")):
            run.auto, run.approved_by, run.applied_by = True, "auto", "auto"
            session.add(run)
    texts = _generate(store, tmp_path, catalog, "html")
    store.dispose()
    for lang, page in texts.items():
        m = load_messages(lang)
        section = _section(page)
        auto = next(r for r in re.findall(r'<li class="fix-run".*?</li>', section, re.S)
                    if "nov-auto" in r)  # fmt: skip
        assert f"<dd>{m('fix_report.automatic')}</dd>" in auto
        cards = dict(
            re.findall(
                r'<div class="card outcome-(\w+)">.*?<span class="card-value">(\d+)</span>',
                section,
            )
        )
        assert cards == {"verified": "1", "rolled_back": "0", "failed": "0", "aborted": "0",
                         "in_progress": "1"}, lang  # fmt: skip
        assert m("fix_report.state.applied") in section
