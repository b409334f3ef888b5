"""The vulnerability section: Inspector's findings of the last scan per affected resource,
worst first, in the PDF (read back in ja and en) and the analyst HTML; off when the tenant's
service menu says so."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog
from posture.operations import Operations
from posture.operations.reports import generate_report
from posture.report.i18n import load_messages
from posture.store import Connection, ResourceRecord, Scan, ScanResource, Store, Tenant

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
WEB = "i-0web0000000000001"
BATCH = "arn:aws:lambda:ap-northeast-1:123456789012:function:batch"
IMAGE = "arn:aws:ecr:ap-northeast-1:123456789012:repository/api/sha256:abc"


def finding(n: int, resource: str, kind: str, severity: str, *, exploit: bool = False,
            fix: bool = False, cve: str = "") -> dict[str, Any]:  # fmt: skip
    return {
        "findingArn": f"arn:aws:inspector2:ap-northeast-1:123456789012:finding/{n:04d}",
        "type": "PACKAGE_VULNERABILITY",
        "title": f"{cve} - pkg",
        "severity": severity,
        "status": "ACTIVE",
        "exploitAvailable": "YES" if exploit else "NO",
        "fixAvailable": "YES" if fix else "NO",
        "vulnerability_id": cve,
        "resource_type": kind,
        "resource_id": resource,
    }


FINDINGS = [
    finding(1, BATCH, "AwsLambdaFunction", "HIGH", fix=True, cve="CVE-2024-1111"),
    finding(2, WEB, "AwsEc2Instance", "CRITICAL", exploit=True, fix=True, cve="CVE-2021-44228"),
    finding(3, WEB, "AwsEc2Instance", "HIGH", cve="CVE-2023-0001"),
    finding(4, IMAGE, "AwsEcrContainerImage", "CRITICAL", cve="CVE-2024-2222"),
]


def seed(store: Store, options: dict[str, Any]) -> None:
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme Japan", locale="ja", options=options)
        session.add(tenant)
        session.flush()
        conn = Connection(tenant_id=tenant.id, name="prod", provider="aws")
        scan = Scan(tenant_id=tenant.id, status="succeeded", started_at=AT, finished_at=AT)
        session.add_all([conn, scan])
        session.flush()
        for doc in FINDINGS:
            digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
            session.add(
                ResourceRecord(hash=digest, type="aws.inspector2.finding", uid=doc["findingArn"],
                               region="ap-northeast-1", name=doc["title"], data=doc)
            )  # fmt: skip
            session.flush()
            session.add(ScanResource(scan_id=scan.id, connection_id=conn.id, resource_hash=digest))


def render(tmp_path: Path, catalog: Catalog, options: dict[str, Any], fmt: str) -> dict[str, str]:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    seed(store, options)
    ops = Operations.using(store, catalog)
    out = generate_report(ops, "acme", formats=(fmt,), languages=("ja", "en"), period="2026-11",
                          out=tmp_path / "out", now=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
    texts = {}
    for path in out.paths:
        lang = Path(path).stem.rsplit("-", 1)[-1]
        if fmt == "pdf":
            run = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                 text=True, check=True)  # fmt: skip
            texts[lang] = run.stdout
        else:
            texts[lang] = Path(path).read_text(encoding="utf-8")
    store.dispose()
    return texts


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")
def test_the_pdf_lists_affected_resources_worst_first(tmp_path: Path, catalog: Catalog) -> None:
    texts = render(tmp_path, catalog, {}, "pdf")
    for lang, layout in texts.items():
        messages = load_messages(lang)
        text = re.sub(r"\s+", "", layout)  # cells wrap in narrow columns
        assert messages("vulnerabilities.heading") in text
        # exploitable first (the web instance), then fixable (the function), then the image
        assert text.index(WEB) < text.index("arn:aws:lambda") < text.index("arn:aws:ecr"), lang
        assert (
            text.index("CVE-2021-44228") < text.index("CVE-2024-1111") < text.index("CVE-2024-2222")
        )


def test_the_analyst_html_lists_every_resource(tmp_path: Path, catalog: Catalog) -> None:
    texts = render(tmp_path, catalog, {}, "html")
    for lang, html in texts.items():
        assert 'id="vulnerabilities"' in html
        assert load_messages(lang)("vulnerabilities.kind.AwsEc2Instance") in html
        for resource in (WEB, BATCH, IMAGE):
            assert resource in html, (lang, resource)


def test_the_service_menu_switches_the_view_off(tmp_path: Path, catalog: Catalog) -> None:
    texts = render(tmp_path, catalog, {"vulnerability_view": False}, "html")
    assert all('id="vulnerabilities"' not in html for html in texts.values())
    assert all(WEB not in html for html in texts.values())
