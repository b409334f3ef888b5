"""``posture export``: CSV, a JSON document and OCSF Detection Findings of a tenant."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from posture.cli import app
from posture.cli.runtime import run_app
from posture.errors import UsageError
from posture.operations import Operations
from posture.operations.exports import BOM, EXPORT_COLUMNS, export_findings
from posture.store import Store

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING, Seed

# a moment in June 2025 in Tokyo: May is closed, June is running, July has not started
NOW = datetime(2025, 6, 20, 3, 0, tzinfo=UTC)
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]
EVIDENCE = [{"path": "versioning.Status", "actual": "Suspended", "op": "eq", "expected": "Enabled"}]


@cache
def ocsf_validator() -> Draft202012Validator:
    """Detection Finding (2004) of OCSF 1.5.0 with the cloud profile, as the schema says."""
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version="1.5.0"))
    assert schema.lookup_class_name_from_uid(class_uid=2004) == "detection_finding"
    class_schema = schema.get_class_schema(class_name="detection_finding", profiles=["cloud"])
    Draft202012Validator.check_schema(class_schema)
    return Draft202012Validator(class_schema)


def assert_valid_ocsf(event: dict[str, Any]) -> None:
    errors = sorted(ocsf_validator().iter_errors(event), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def at(days: float) -> datetime:
    """``days`` after 1 May 2025 00:00 JST."""
    return datetime(2025, 4, 30, 15, 0, tzinfo=UTC) + timedelta(days=days)


def estate(seed: Seed) -> dict[str, str]:
    """A tenant in Tokyo with findings in every state, on AWS and Microsoft 365."""
    acme = seed.tenant("acme", name="Acme Japan", locale="ja")
    prod = seed.connection(acme, "prod")
    m365 = seed.connection(acme, "office", provider="m365")
    other = seed.tenant("globex")
    seed.finding(
        other, seed.connection(other, "prod"), VERSIONING, "arn:aws:s3:::globex-data", id="g1"
    )
    ids = {}
    ids["new"] = seed.finding(
        acme,
        prod,
        VERSIONING,
        "arn:aws:s3:::acme-logs",
        id="f-new",
        severity="high",
        first_seen=at(10),
        last_seen=at(10),
        evidence=EVIDENCE,
        statement={
            "en": "Bucket acme-logs keeps no versions",
            "ja": "バケット acme-logs は版を保持しません",
        },
        commands=["aws s3api put-bucket-versioning --bucket acme-logs"],
    ).id
    ids["ongoing"] = seed.finding(
        acme,
        prod,
        ROOT_MFA,
        "arn:aws:iam::111122223333:root",
        id="f-ongoing",
        severity="critical",
        resource_type="aws.iam.root",
        region="",
        first_seen=at(-40),
        last_seen=at(45),
    ).id
    ids["resolved_may"] = seed.finding(
        acme,
        prod,
        ROOT_MFA,
        "arn:aws:iam::444455556666:root",
        id="f-resolved-may",
        severity="critical",
        resource_type="aws.iam.root",
        state="resolved",
        first_seen=at(-40),
        last_seen=at(20),
        resolved_at=at(30.9),  # 31 May 23:36 JST
    ).id
    ids["resolved_june"] = seed.finding(
        acme,
        prod,
        ENCRYPTION,
        "arn:aws:s3:::acme-june",
        id="f-resolved-june",
        state="resolved",
        first_seen=at(-40),
        last_seen=at(20),
        resolved_at=at(31.02),  # 1 June 00:28 JST, 31 May in UTC
    ).id
    ids["resolved_april"] = seed.finding(
        acme,
        prod,
        ENCRYPTION,
        "arn:aws:s3:::acme-april",
        id="f-resolved-april",
        state="resolved",
        first_seen=at(-40),
        last_seen=at(-20),
        resolved_at=at(-10),
    ).id
    ids["after_may"] = seed.finding(
        acme,
        prod,
        ENCRYPTION,
        "arn:aws:s3:::acme-new-in-june",
        id="f-after-may",
        first_seen=at(35),
        last_seen=at(45),
    ).id
    ids["waived"] = seed.finding(
        acme,
        m365,
        "m365.entra.retired_policy",  # a policy no longer shipped: no title, no frameworks
        "contoso.onmicrosoft.com",
        id="f-waived",
        state="waived",
        resource_type="m365.organization",
        region="",
        severity="low",
        first_seen=at(1),
        last_seen=at(45),
    ).id
    for n, name in enumerate(HOSTILE):
        ids[f"hostile{n}"] = seed.finding(
            acme,
            prod,
            VERSIONING,
            f"arn:aws:s3:::hostile-{n}",
            id=f"f-hostile-{n}",
            name=name,
            first_seen=at(2),
            last_seen=at(44),
            statement={"en": f"{name} is hostile", "ja": f"{name} は危険です"},
        ).id
    return ids


def export(ops: Operations, fmt: str, **kw: Any) -> Any:
    return export_findings(ops, "acme", fmt=fmt, now=NOW, **kw)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_every_ocsf_event_validates_against_the_schema(ops: Operations, seed: Seed) -> None:
    ids = estate(seed)
    for kw in ({}, {"month_text": "2025-05"}, {"month_text": "2025-06", "lang": "en"}):
        events = lines(export(ops, "ocsf", **kw).text)
        assert events
        for event in events:
            assert_valid_ocsf(event)
    events = json.loads(export(ops, "ocsf", ocsf_array=True, month_text="2025-05").text)
    assert {e["finding_info"]["uid"] for e in events} >= {ids["resolved_may"], ids["ongoing"]}
    for event in events:
        assert_valid_ocsf(event)


def test_ocsf_mapping(ops: Operations, seed: Seed, catalog: Any) -> None:
    ids = estate(seed)
    events = {
        e["finding_info"]["uid"]: e for e in lines(export(ops, "ocsf", month_text="2025-05").text)
    }
    new = events[ids["new"]]
    assert (new["class_uid"], new["category_uid"], new["type_uid"]) == (2004, 2, 200401)
    assert (new["activity_id"], new["status_id"], new["status"]) == (1, 1, "New")
    assert (new["severity_id"], new["severity"]) == (4, "High")
    info = new["finding_info"]
    assert info["title"] == catalog.policies[VERSIONING].title.ja  # the tenant's locale
    assert info["desc"] == "バケット acme-logs は版を保持しません"
    assert info["first_seen_time"] == info["last_seen_time"] == int(at(10).timestamp() * 1000)
    assert info["types"][0] == "Software and Configuration Checks"
    assert new["time"] == info["last_seen_time"]
    (resource,) = new["resources"]
    assert resource == {
        "uid": "arn:aws:s3:::acme-logs",
        "name": "acme-logs",
        "type": "aws.s3.bucket",
        "region": "us-east-1",
    }
    assert new["cloud"]["provider"] == "AWS"
    assert new["cloud"]["account"]["type_id"] == 10 and new["cloud"]["account"]["name"] == "prod"
    assert new["metadata"]["product"]["name"] == "posture"
    assert new["metadata"]["product"]["vendor_name"]
    assert new["metadata"]["tenant_uid"] == "acme"
    assert new["metadata"]["version"].startswith("1.")
    assert "put-bucket-versioning" in new["remediation"]["desc"]
    assert new["evidences"][0]["data"]["actual"] == "Suspended"
    assert new["unmapped"]["compliance"] == []  # the policy maps to no framework
    assert new["unmapped"]["statement"]["en"] == "Bucket acme-logs keeps no versions"

    ongoing = events[ids["ongoing"]]
    assert (ongoing["activity_id"], ongoing["status"], ongoing["severity_id"]) == (
        2,
        "In Progress",
        5,
    )
    compliance = ongoing["unmapped"]["compliance"]
    # the catalogue frameworks follow CIS 2.5 through their crosswalks
    assert {"framework": "nist-800-53-r5", "control": "IA-2"}.items() <= next(
        c for c in compliance if c["control"] == "IA-2"
    ).items()
    (control,) = [c for c in compliance if c["framework"] == "cis-aws-7.0"]
    assert control == {
        "framework": "cis-aws-7.0",
        "standards": [catalog.frameworks["cis-aws-7.0"].name.ja],
        "control": "2.5",
        "status_id": 3,  # Fail
    }
    assert ongoing["finding_info"]["types"][1].endswith(
        "CIS Amazon Web Services Foundations Benchmark v7.0.0"
    )
    assert "enable-mfa-for-root" in ongoing["remediation"]["references"][0]
    resolved = events[ids["resolved_may"]]
    assert (resolved["activity_id"], resolved["type_uid"], resolved["status_id"]) == (3, 200403, 4)
    assert resolved["time"] == int(at(30.9).timestamp() * 1000)
    assert resolved["unmapped"]["compliance"][0]["status_id"] == 1  # Pass
    waived = events[ids["waived"]]
    assert (waived["status_id"], waived["status"]) == (3, "Suppressed")
    assert waived["cloud"]["provider"] == "Microsoft 365"
    assert waived["finding_info"]["title"] == "m365.entra.retired_policy"

    english = lines(export(ops, "ocsf", lang="en").text)
    assert english[0]["metadata"]["product"]["lang"] == "en"
    assert any(e["finding_info"]["desc"] == "Bucket acme-logs keeps no versions" for e in english)


def test_csv_cells_cannot_start_formulas(ops: Operations, seed: Seed) -> None:
    estate(seed)
    text = export(ops, "csv").text
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    names = {r["resource_name"] for r in records}
    assert {"'" + name for name in HOSTILE} <= names
    for record in records:
        for value in record.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    new = next(r for r in records if r["id"] == "f-new")
    assert new["statement_ja"] == "バケット acme-logs は版を保持しません"
    assert new["recommendation_en"] and new["recommendation_ja"]
    assert new["evidence"] == 'versioning.Status = "Suspended" (expected: eq "Enabled")'
    assert new["commands"] == "aws s3api put-bucket-versioning --bucket acme-logs"
    assert new["first_seen"] == at(10).isoformat() and new["status"] == "open"
    assert not export(ops, "csv", bom=False).text.startswith(BOM)


def test_json_document_round_trip(ops: Operations, seed: Seed, tmp_path: Path) -> None:
    ids = estate(seed)
    target = tmp_path / "exports" / "acme.json"
    outcome = export(ops, "json", month_text="2025-05", out=target)
    assert outcome.path == target
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document == json.loads(outcome.text)
    assert list(document) == ["tenant", "generated_at", "period", "findings"]
    assert document["tenant"] == {"slug": "acme", "name": "Acme Japan"}
    assert datetime.fromisoformat(document["generated_at"]) == NOW
    period = document["period"]
    assert period["label"] == "2025-05" and period["timezone"] == "Asia/Tokyo"
    assert datetime.fromisoformat(period["start"]) == at(0)
    keys = {frozenset(f) for f in document["findings"]}
    assert len(keys) == 1  # every finding has the same keys, null where empty
    by_id = {f["id"]: f for f in document["findings"]}
    new = by_id[ids["new"]]
    assert new["statement"] == {
        "en": "Bucket acme-logs keeps no versions",
        "ja": "バケット acme-logs は版を保持しません",
    }
    assert new["evidence"] == EVIDENCE and new["frameworks"] == {}
    ongoing_frameworks = by_id[ids["ongoing"]]["frameworks"]
    assert ongoing_frameworks["cis-aws-7.0"] == ["2.5"]
    assert "IA-2" in ongoing_frameworks["nist-800-53-r5"]
    assert new["recommendation"]["ja"] and new["connection"] == "prod"
    assert datetime.fromisoformat(new["first_seen"]) == at(10)
    assert new["resolved_at"] is None
    resolved = by_id[ids["resolved_may"]]
    assert datetime.fromisoformat(resolved["resolved_at"]) == at(30.9)
    assert by_id[ids["hostile0"]]["resource_name"] == HOSTILE[0]  # JSON keeps names as they are
    assert json.loads(export(ops, "json").text)["period"] is None


def test_month_selects_open_findings_and_those_resolved_in_it(ops: Operations, seed: Seed) -> None:
    ids = estate(seed)
    open_now = {ids["new"], ids["ongoing"], ids["after_may"], ids["waived"]}
    open_now |= {ids[f"hostile{n}"] for n in range(len(HOSTILE))}

    def exported(**kw: Any) -> set[str]:
        return {f["id"] for f in json.loads(export(ops, "json", **kw).text)["findings"]}

    assert exported() == open_now
    # May in Tokyo: the June-resolved one (31 May in UTC) and one first seen in June are out
    may = exported(month_text="2025-05")
    assert may == (open_now - {ids["after_may"]}) | {ids["resolved_may"]}
    assert exported(month_text="2025-06") == open_now | {ids["resolved_june"]}
    assert exported(month_text="2025-04") == {ids["ongoing"]} | {ids["resolved_april"]}
    assert export(ops, "csv", month_text="2025-05").findings == len(may)


@pytest.mark.parametrize("text", ["2025-07", "2030-01"])
def test_a_month_that_has_not_started_is_refused_in_both_languages(
    ops: Operations, seed: Seed, text: str
) -> None:
    estate(seed)
    with pytest.raises(UsageError) as info:
        export(ops, "ocsf", month_text=text)
    assert "has not started" in info.value.message
    assert "まだ始まっていません" in info.value.message


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"fmt": "xml"}, "--format takes one of csv, json, ocsf"),
        ({"fmt": "csv", "month_text": "2025/05"}, "--month takes YYYY-MM"),
        ({"fmt": "csv", "month_text": "2025-13"}, "--month takes YYYY-MM"),
        ({"fmt": "ocsf", "lang": "fr"}, "--lang takes one of ja, en"),
    ],
)
def test_bad_choices_are_refused(
    ops: Operations, seed: Seed, kw: dict[str, Any], message: str
) -> None:
    estate(seed)
    with pytest.raises(UsageError, match=message):
        export_findings(ops, "acme", now=NOW, **kw)


def test_cli_export(
    store: Store, seed: Seed, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    estate(seed)
    db = str(store.engine.url.render_as_string(hide_password=False))
    target = tmp_path / "acme.ocsf.jsonl"
    args = ["--db", db, "export", "--tenant", "acme", "--format", "ocsf"]
    assert run_app(app, [*args, "--month", "2025-05", "--out", str(target)]) == 0
    for event in lines(target.read_text(encoding="utf-8")):
        assert_valid_ocsf(event)
    assert "to " in capfd.readouterr().err
    assert run_app(app, [*args, "--lang", "en"]) == 0
    printed = lines(capfd.readouterr().out)
    assert printed and all(e["class_uid"] == 2004 for e in printed)
    assert run_app(app, [*args, "--month", "2999-01"]) == 2
    err = capfd.readouterr().err
    assert "has not started" in err and "まだ始まっていません" in err
