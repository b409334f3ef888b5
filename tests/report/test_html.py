"""The analyst HTML read back with the stdlib parser: content, escaping, self-containment."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

import posture.report.html as html_module
from posture.errors import UsageError
from posture.report import ReportData, render_html
from posture.report.html import unpack_rows
from tests.report.report_support import HOSTILE_ATTR, HOSTILE_SCRIPT, JAPANESE_BUCKET, Page


@pytest.fixture
def page_en(report_data: ReportData) -> Page:
    return Page(render_html(report_data, "en"))


@pytest.fixture
def page_ja(report_data: ReportData) -> Page:
    return Page(render_html(report_data, "ja"))


def report_json(page: Page) -> dict[str, Any]:
    (raw,) = [content for attrs, content in page.scripts if attrs.get("type")]
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def finding_rows(page: Page) -> list[dict[str, Any]]:
    """The embedded findings with their field names, policy and severity resolved."""
    data = report_json(page)["data"]
    out = []
    for row in unpack_rows(data):
        named = dict(zip(data["fields"], row, strict=True))
        policy = data["policies"][named["policy"]]
        named.update(
            policy_id=policy[0],
            title=policy[1],
            rationale=policy[2],
            recommendation=policy[3],
            controls=policy[4],
            severity=data["severities"][named["severity"]][0],
            state=data["states"][named["state"]][0],
            service=data["strings"][named["service"]],
        )
        out.append(named)
    return out


def test_every_finding_is_listed_once_with_its_severity(
    report_data: ReportData, page_en: Page
) -> None:
    rows = finding_rows(page_en)
    assert len(rows) == len(report_data.findings) + len(report_data.resolved_in_period)
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["severity"] for r in rows} == {"critical", "high", "medium", "low", "info"}
    assert [r["severity"] for r in rows[:3]] == ["critical"] * 3
    assert rows[-1]["state"] == "resolved"
    for finding in report_data.findings:
        (row,) = [r for r in rows if r["id"] == finding.finding_id]
        assert row["title"] == finding.title.en
        assert row["recommendation"] == finding.recommendation.en
        assert row["uid"] == finding.resource_uid


def test_policy_texts_are_stored_once(report_data: ReportData, page_en: Page) -> None:
    data = report_json(page_en)["data"]
    ids = [p[0] for p in data["policies"]]
    assert len(ids) == len(set(ids))
    assert len(ids) < len(data["rows"])  # two buckets share one policy
    assert sorted(ids) == sorted(
        {f.policy_id for f in report_data.findings} | {"aws.s3.bucket.block_public_access"}
    )


def test_summary_cards_count_open_findings_by_severity(page_en: Page) -> None:
    text = page_en.text
    for label, count in [("Critical", 3), ("High", 3), ("Medium", 3), ("Low", 2)]:
        assert f"{label} {count}" in text
    assert "Informational 2" in text
    assert "New in this period 7" in text
    assert "Resolved in this period 1" in text


def test_monthly_sections_are_present(page_en: Page, page_ja: Page) -> None:
    for section in (
        "summary",
        "history",
        "fixes",
        "compliance",
        "connections",
        "waivers",
        "findings",
    ):
        assert page_en.with_attr("id", section)
    assert "Top 10 recommended fixes" in page_en.text
    assert "No waiver records are available for this period." in page_en.text
    assert "推奨する対策トップ 10" in page_ja.text
    assert "この期間の例外承認の記録はありません。" in page_ja.text


def test_hostile_names_are_escaped_everywhere(report_data: ReportData) -> None:
    html = render_html(report_data, "en")
    page = Page(html)
    assert "<script>alert(1)" not in html
    assert len(page.scripts) == 2
    assert {a.get("type", "") for a, _ in page.scripts} == {"application/json", ""}
    handlers = [name for _, attrs in page.elements for name in attrs if name.startswith("on")]
    assert handlers == []
    names = {r["name"] for r in finding_rows(page)}
    assert {HOSTILE_SCRIPT, HOSTILE_ATTR} <= names  # the data keeps them intact
    (script,) = [content for attrs, content in page.scripts if not attrs.get("type")]
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script


def test_embedded_json_cannot_close_its_script(page_en: Page) -> None:
    (raw,) = [content for attrs, content in page_en.scripts if attrs.get("type")]
    assert not {"<", ">", "&"} & set(raw)
    assert HOSTILE_SCRIPT in {r["name"] for r in finding_rows(page_en)}
    assert report_json(page_en)["labels"]["showing"] == "Showing {shown} of {total} findings"


def test_large_lists_travel_compressed(
    report_data: ReportData, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = finding_rows(Page(render_html(report_data, "en")))
    monkeypatch.setattr(html_module, "COMPRESS_ABOVE", 100)
    page = Page(render_html(report_data, "en"))
    data = report_json(page)["data"]
    assert "rows" not in data and data["rowsGzip"]
    assert finding_rows(page) == plain


def test_only_the_report_script_may_run(page_en: Page) -> None:
    (csp,) = [a["content"] for t, a in page_en.elements if a.get("http-equiv")]
    (script,) = [content for attrs, content in page_en.scripts if not attrs.get("type")]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp


def test_report_is_self_contained(page_en: Page) -> None:
    tags = {tag for tag, _ in page_en.elements}
    assert not tags & {"link", "img", "iframe", "object"}
    for _, attrs in page_en.elements:
        assert "src" not in attrs
        assert attrs.get("href", "#").startswith("#")


def test_evidence_lines_read_as_sentences(page_en: Page) -> None:
    evidence = {line for r in finding_rows(page_en) for line in r["evidence"]}
    assert "mfa_active is false, expected equal to true" in evidence
    assert (
        "IpPermissions[0].IpRanges[0].CidrIp is 0.0.0.0/0, expected not equal to 0.0.0.0/0"
        in evidence
    )
    assert "public_access_block.BlockPublicAcls is not set, expected equal to true" in evidence


def test_details_show_controls_and_dates(page_en: Page) -> None:
    rows = finding_rows(page_en)
    assert any(
        c.startswith("CIS AWS Foundations Benchmark v7.0.0 2.8 IAM password policy requires")
        for r in rows
        for c in r["controls"]
    )
    assert "2025-06-03" in {r["firstSeen"] for r in rows}
    assert "2025-06-29" in {r["lastSeen"] for r in rows}
    assert report_json(page_en)["labels"]["firstSeen"] == "First seen"


def test_failed_collection_is_visible(page_en: Page) -> None:
    assert page_en.with_attr("role", "alert")
    assert "Collection issues: 1." in page_en.text
    assert (
        "aws-prod aws.s3.bucket ap-northeast-1 "
        "Access denied: grant the permission s3:GetBucketPublicAccessBlock."
    ) in page_en.text
    assert "failed: AccessDenied: Access Denied" in page_en.text  # the recorded error, as detail
    assert "Partially collected" in page_en.text
    assert "Some resource types could not be collected" in page_en.text
    assert "1 resource type(s) could not be collected" not in page_en.text


def test_compliance_scores_per_framework(page_en: Page) -> None:
    text = page_en.text
    assert "CIS AWS Foundations Benchmark v7.0.0 29%" in text
    assert "ISO/IEC 27001:2022 Annex A 33%" in text


def test_filters_offer_every_severity_service_and_state(page_en: Page) -> None:
    options = {
        select["data-filter"]: select
        for tag, select in page_en.elements
        if tag == "select" and "data-filter" in select
    }
    assert set(options) == {"severity", "service", "state"}
    values = [a["value"] for t, a in page_en.elements if t == "option" and a.get("value")]
    assert {"critical", "info", "s3", "entra", "admin", "open", "resolved"} <= set(values)


def test_japanese_report_uses_japanese_labels(page_ja: Page) -> None:
    (html_tag,) = [a for t, a in page_ja.elements if t == "html"]
    assert html_tag["lang"] == "ja"
    text = page_ja.text
    for label in ("セキュリティ態勢レポート", "検出事項", "重大度", "緊急", "未対応"):
        assert label in text
    assert report_json(page_ja)["labels"]["recommendation"] == "推奨対策"
    assert "ルートユーザーで MFA が有効になっていません" in text
    assert JAPANESE_BUCKET in {r["name"] for r in finding_rows(page_ja)}
    assert "2025年6月1日〜2025年6月30日" in text
    evidence = {line for r in finding_rows(page_ja) for line in r["evidence"]}
    assert "mfa_active の値は false ですが、true と等しいことが求められます" in evidence


def test_japanese_report_uses_japanese_control_titles(page_ja: Page) -> None:
    text = page_ja.text
    assert "IAM パスワードポリシーで最小文字数が 14 文字以上に設定されていることを確認する" in text
    assert "IAM password policy requires" not in text


def test_japanese_report_states_collection_problems_in_japanese(page_ja: Page) -> None:
    text = page_ja.text
    assert (
        "アクセスが拒否されました。s3:GetBucketPublicAccessBlock の権限を付与してください。" in text
    )
    assert "一部のリソース種別を収集できませんでした。" in text
    assert "resource type(s) could not be collected" not in text


def test_unsupported_language_is_refused(report_data: ReportData) -> None:
    with pytest.raises(UsageError):
        render_html(report_data, "../en")


def test_empty_report_renders(report_data: ReportData) -> None:
    empty = ReportData(
        tenant_name="Empty",
        tenant_slug="empty",
        period_start=report_data.period_start,
        period_end=report_data.period_end,
        generated_at=report_data.generated_at,
        scan_id=None,
    )
    page = Page(render_html(empty, "en"))
    assert "There are no open findings." in page.text
    assert "No scans finished in this period." in page.text
    assert "No compliance framework was evaluated." in page.text


def test_statement_commands_and_highlighted_configuration(report_data: ReportData) -> None:
    from dataclasses import replace

    from posture.report.model import ReportEvidence, Text

    first = report_data.findings[0]
    tailored = replace(
        first,
        statement=Text(
            en="Group sg-1 allows TCP 22 from 0.0.0.0/0", ja="グループ sg-1 は TCP 22 を許可"
        ),
        commands=("aws ec2 revoke-security-group-ingress --group-id sg-1 --region ap-northeast-1",),
        config={"GroupId": "sg-1", "IpPermissions": [{"FromPort": 22, "CidrIp": "<0.0.0.0/0>"}]},
        evidence=(
            ReportEvidence(
                "IpPermissions",
                "no_item",
                "item condition",
                {"matching": 1, "total": 1, "offending": [{"index": 0}]},
            ),
        ),
    )
    report_data.findings[0] = tailored
    rows = finding_rows(Page(render_html(report_data, "en")))
    (row,) = [r for r in rows if r["id"] == tailored.finding_id]
    assert row["statement"] == "Group sg-1 allows TCP 22 from 0.0.0.0/0"
    assert row["commands"] == [
        "aws ec2 revoke-security-group-ingress --group-id sg-1 --region ap-northeast-1"
    ]
    # the offending rule is marked, and the collected value is kept as text
    assert ["    {", 1] in row["config"]
    assert any("<0.0.0.0/0>" in text for text, _ in row["config"])
    ja_rows = finding_rows(Page(render_html(report_data, "ja")))
    assert "グループ sg-1 は TCP 22 を許可" in {r["statement"] for r in ja_rows}
