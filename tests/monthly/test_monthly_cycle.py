"""Three monthly scans of the demo estate, with the changes a real customer makes between them.

September: the first scan. October: the default EBS encryption is switched on (fixed), an
SSH group open to the internet appears (new), two findings are waived (one until February,
one until the end of October). November: the short waiver has lapsed, the SSH group is
closed but listing security groups is denied, so its finding must stay open.

The lifecycle recorded in the store, the history rebuilt from it (counts, trend), and the
monthly PDF in Japanese and English (read back with pdftotext) must all tell that story;
September's report, rendered after November's scan, still shows September.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from posture.catalog import Catalog
from posture.connectors.aws import entry
from posture.lifecycle import finding_id
from posture.operations import Operations
from posture.operations.connections import add_connection
from posture.operations.history import finding_events, findings_at, monthly_trend, period_counts
from posture.operations.reports import generate_report
from posture.operations.scans import scan_tenant
from posture.operations.tenants import add_tenant
from posture.operations.waivers import add_waiver
from posture.report.i18n import load_messages
from posture.store import Finding, Store, Tenant
from tests.demo.demo_support import HOME, REGIONS, PlantedEstate
from tests.integration.helpers import inject_error, open_ssh_group

SEPTEMBER = datetime(2026, 9, 15, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
OCTOBER = datetime(2026, 10, 15, 1, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
REPORTED = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 09:30 on 1 December in Tokyo
EBS = "aws.ec2.ebs_encryption_by_default_enabled"
SSH = "aws.ec2.security_group_no_ssh_from_internet_ipv4"
LONG_REASON = "Legacy key kept for the archive system until its migration in February"
SHORT_REASON = "Flow logs arrive with the network redesign at the end of October"

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")


@dataclass
class Cycle:
    ops: Operations
    tenant_id: str
    ebs: str  # finding ids
    ssh: str
    waived_long: str
    waived_short: str
    open_after: dict[str, int]  # open findings in the store right after each month's scan
    outcomes: dict[str, Any]
    reports: dict[tuple[str, str], str]  # (month, lang) -> text of the PDF


def _open_count(store: Store, tenant_id: str) -> int:
    with store.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Finding)
                .where(Finding.tenant_id == tenant_id, Finding.state == "open")
            ).one()
        )


def _open_findings(store: Store, tenant_id: str) -> list[Finding]:
    with store.session() as session:
        return list(
            session.exec(
                select(Finding).where(Finding.tenant_id == tenant_id, Finding.state == "open")
            )
        )


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True)
    return out.stdout


def flat(text: str) -> str:
    """Without any white space: pdftotext breaks lines and spaces Japanese as the layout does."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def cycle(
    estate: PlantedEstate, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cycle]:
    folder = tmp_path_factory.mktemp("monthly")
    store = Store(f"sqlite:///{folder / 'posture.db'}")
    ops = Operations.using(store, catalog, actor="analyst@msp.example", source="test")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        add_tenant(ops, "acme", name="Acme Japan", locale="ja")
        settings = {"endpoint_url": estate.endpoint_url, "regions": list(REGIONS)}
        add_connection(ops, "acme", "prod", "aws", settings)
        with store.session() as session:
            tenant = session.exec(select(Tenant).where(Tenant.slug == "acme")).one()
            tenant_id = tenant.id
        open_after: dict[str, int] = {}
        outcomes: dict[str, Any] = {}

        # --- September: the first scan ------------------------------------------------
        outcomes["2026-09"] = scan_tenant(ops, "acme", now=SEPTEMBER, notify=False)
        open_after["2026-09"] = _open_count(store, tenant_id)
        first = _open_findings(store, tenant_id)
        ebs = next(f for f in first if f.policy_id == EBS and f.region == HOME)
        kms = next(f for f in first if f.policy_id == "aws.kms.key_rotation_enabled")
        flow = next(f for f in first if f.policy_id == "aws.ec2.vpc_flow_logs_enabled")

        # --- between September and October ---------------------------------------------
        ec2 = estate.client("ec2", HOME)
        ec2.enable_ebs_encryption_by_default()
        group = open_ssh_group(ec2, "acme-bastion-2026")
        add_waiver(
            ops,
            "acme",
            reason=LONG_REASON,
            requested_by="infra@acme.example",
            approved_by="ciso@acme.example",
            expires=date(2027, 2, 26),
            resource=kms.resource_uid,
            policy=kms.policy_id,
            now=datetime(2026, 10, 1, 1, 0, tzinfo=UTC),
        )
        add_waiver(
            ops,
            "acme",
            reason=SHORT_REASON,
            requested_by="network@acme.example",
            approved_by="ciso@acme.example",
            expires=date(2026, 10, 31),
            resource=flow.resource_uid,
            policy=flow.policy_id,
            now=datetime(2026, 10, 1, 1, 0, tzinfo=UTC),
        )

        # --- October --------------------------------------------------------------------
        outcomes["2026-10"] = scan_tenant(ops, "acme", now=OCTOBER, notify=False)
        open_after["2026-10"] = _open_count(store, tenant_id)
        account_id = estate.manifest.account_id
        ssh_uid = f"arn:aws:ec2:{HOME}:{account_id}:security-group/{group}"

        # --- between October and November: the group is closed, but it cannot be read ---
        ec2.revoke_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )  # fmt: skip
        real_open = entry.open_target

        def denied(connection: str, settings: Any) -> Any:
            target = real_open(connection, settings)
            inject_error(target, "ec2", "DescribeSecurityGroups", "UnauthorizedOperation")
            return target

        patch.setattr(entry, "open_target", denied)
        outcomes["2026-11"] = scan_tenant(ops, "acme", now=NOVEMBER, notify=False)
        patch.setattr(entry, "open_target", real_open)
        open_after["2026-11"] = _open_count(store, tenant_id)

        reports: dict[tuple[str, str], str] = {}
        for month in ("2026-11", "2026-09"):  # September rendered after November's scan
            out = folder / month
            result = generate_report(
                ops, "acme", formats=("pdf",), languages=("ja", "en"), period=month,
                out=out, now=REPORTED,
            )  # fmt: skip
            for path in result.paths:
                lang = Path(path).stem.rsplit("-", 1)[-1]
                reports[(month, lang)] = _pdf_text(Path(path))
        yield Cycle(
            ops,
            tenant_id,
            ebs=ebs.id,
            ssh=finding_id(tenant_id, SSH, ssh_uid),
            waived_long=kms.id,
            waived_short=flow.id,
            open_after=open_after,
            outcomes=outcomes,
            reports=reports,
        )
    store.dispose()


def kinds(cycle: Cycle, fid: str) -> list[tuple[str, str]]:
    return [(e.kind, e.reason) for e in finding_events(cycle.ops, fid)]


def test_every_scan_ran_and_the_denied_listing_is_partial(cycle: Cycle) -> None:
    assert [cycle.outcomes[m].status for m in ("2026-09", "2026-10", "2026-11")] == [
        "succeeded",
        "succeeded",
        "partial",
    ]
    (target,) = cycle.outcomes["2026-11"].targets
    assert any("ec2:DescribeSecurityGroups" in failure for failure in target.failures)


def test_lifecycle_of_each_change(cycle: Cycle) -> None:
    assert kinds(cycle, cycle.ebs) == [("opened", "fails"), ("resolved", "no_longer_fails")]
    # closed in November, but the groups could not be listed: it stays open, silently
    assert kinds(cycle, cycle.ssh) == [("opened", "fails")]
    assert kinds(cycle, cycle.waived_long) == [("opened", "fails"), ("waived", "waiver")]
    assert kinds(cycle, cycle.waived_short) == [
        ("opened", "fails"),
        ("waived", "waiver"),
        ("waiver_lapsed", "waiver_expired"),
    ]
    events = {e.kind: e.at for e in finding_events(cycle.ops, cycle.ebs)}
    assert events["opened"] == SEPTEMBER and events["resolved"] == OCTOBER
    lapsed = finding_events(cycle.ops, cycle.waived_short)[-1]
    assert lapsed.at == NOVEMBER  # decided by November's scan


def test_state_at_each_month_end(cycle: Cycle) -> None:
    def states(month: str) -> dict[str, str]:
        rows = findings_at(cycle.ops, "acme", month, statuses=("open", "waived", "resolved"))
        return {s.finding_id: s.status for s in rows}

    sep, oct_, nov = states("2026-09"), states("2026-10"), states("2026-11")
    assert (sep[cycle.ebs], oct_[cycle.ebs], nov[cycle.ebs]) == ("open", "resolved", "resolved")
    assert cycle.ssh not in sep and (oct_[cycle.ssh], nov[cycle.ssh]) == ("open", "open")
    assert (sep[cycle.waived_long], oct_[cycle.waived_long], nov[cycle.waived_long]) == (
        "open",
        "waived",
        "waived",
    )
    assert (sep[cycle.waived_short], oct_[cycle.waived_short], nov[cycle.waived_short]) == (
        "open",
        "waived",
        "open",
    )
    # the history rebuilt from events agrees with the store as each scan left it
    for month, count in cycle.open_after.items():
        assert sum(1 for s in states(month).values() if s == "open") == count, month


def test_counts_and_trend(cycle: Cycle) -> None:
    sep, oct_, nov = (
        period_counts(cycle.ops, "acme", m) for m in ("2026-09", "2026-10", "2026-11")
    )
    assert sep.new == cycle.open_after["2026-09"] and sep.resolved == 0
    assert oct_.new >= 1 and oct_.resolved >= 1 and oct_.waived == 2
    assert nov.lapsed == 1 and nov.waived == 0
    trend = monthly_trend(cycle.ops, "acme", "2026-11", months=4)
    assert [p.period.label for p in trend] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert sum(trend[0].open_by_severity.values()) == 0
    for point in trend[1:]:
        assert sum(point.open_by_severity.values()) == cycle.open_after[point.period.label]
        counts = period_counts(cycle.ops, "acme", point.period.label)
        assert (point.new, point.resolved, point.reopened) == (
            counts.new,
            counts.resolved,
            counts.reopened,
        )
    assert [p.waived for p in trend] == [0, 0, 2, 1]


def _statement(cycle: Cycle, fid: str, lang: str) -> str:
    with cycle.ops.session() as session:
        finding = session.get(Finding, fid)
        assert finding is not None
        return str(finding.statement[lang])


SECTION_KEYS = (
    "toc.heading",
    "toc.summary",
    "toc.fixes",
    "toc.compliance",
    "toc.connections",
    "toc.waivers",
    "toc.appendix",
    "history.trend_heading",
    "history.mttr",
)


def _sections(lang: str) -> list[str]:
    catalogue = load_messages(lang)
    return [catalogue(key) for key in SECTION_KEYS]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_november_report_tells_the_month(cycle: Cycle, lang: str) -> None:
    text = flat(cycle.reports[("2026-11", lang)])
    for heading in _sections(lang):
        assert flat(heading) in text, heading
    # the group closed in November is still listed open: its scope could not be read
    assert flat(_statement(cycle, cycle.ssh, lang)) in text
    assert "DescribeSecurityGroups" in text
    # the fixed default encryption is gone from the open findings
    assert flat(_statement(cycle, cycle.ebs, lang)) not in text
    # the waiver in force is listed; the one that lapsed in October is not
    assert flat(LONG_REASON) in text and flat(SHORT_REASON) not in text
    assert "Acme Japan" in cycle.reports[("2026-11", lang)]
    # compliance is compared with October's end, not left unknown
    since = load_messages(lang)("compliance.change", delta="@").split("@")
    assert re.search(re.escape(flat(since[0])) + r"[+-]\d+" + re.escape(flat(since[1])), text)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_first_month_has_no_comparison(cycle: Cycle, lang: str) -> None:
    since = load_messages(lang)("compliance.change", delta="@").split("@")
    text = flat(cycle.reports[("2026-09", lang)])
    assert not re.search(re.escape(flat(since[0])) + r"[+-]\d+" + re.escape(flat(since[1])), text)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_september_report_rendered_later_shows_september(cycle: Cycle, lang: str) -> None:
    text = flat(cycle.reports[("2026-09", lang)])
    assert flat(_statement(cycle, cycle.ebs, lang)) in text  # open at the end of September
    assert flat(_statement(cycle, cycle.ssh, lang)) not in text  # appeared in October
    assert flat(LONG_REASON) not in text  # waivers were added in October
    november = flat(cycle.reports[("2026-11", lang)])
    assert text != november
