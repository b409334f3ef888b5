"""The built-in framework files: every control listed, titled in both languages, ids as
the frameworks number them, and every manual control saying why."""

from __future__ import annotations

import re

import pytest

from posture.catalog import Catalog

SIZES = {
    "cis-aws-7.0": 70,
    "cis-m365-7.0": 160,
    "cis-gws-1.3": 89,
    "scuba-m365": 128,
    "scuba-gws": 138,
    "cis-gke-1.6": 34,  # section 5 (managed services) only
    "nist-800-53-r5": 299,  # base controls of the 20 families in 5.1.1, withdrawn ones left out
    "nist-csf-2.0": 106,
    "iso-27001-2022": 93,
    "iso-27017": 23,
}
ID_FORMS = {
    "cis-m365-7.0": r"^\d+(\.\d+)+$",
    "cis-gws-1.3": r"^\d+(\.\d+)+$",
    "cis-gke-1.6": r"^5\.\d+\.\d+$",
    "scuba-m365": r"^MS\.[A-Z]+\.\d+\.\d+v\d+$",
    "scuba-gws": r"^GWS\.[A-Z]+\.\d+\.\d+v\d+$",
    "nist-800-53-r5": r"^(AC|AT|AU|CA|CM|CP|IA|IR|MA|MP|PE|PL|PM|PS|PT|RA|SA|SC|SI|SR)-\d+$",
    "nist-csf-2.0": r"^(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-\d{2}$",
    "iso-27001-2022": r"^A\.[5-8]\.\d+$",
    "iso-27017": r"^(CLD\.)?\d+\.\d+\.\d+$",
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize(("framework_id", "size"), SIZES.items())
def test_framework_lists_every_control_with_a_japanese_title(
    catalog: Catalog, framework_id: str, size: int
) -> None:
    fw = catalog.frameworks[framework_id]
    assert len(fw.controls) == size
    for control in fw.controls:
        assert JAPANESE.search(control.title.ja), control.id
        assert control.title.en and control.section, control.id
        if framework_id in ID_FORMS:
            assert re.match(ID_FORMS[framework_id], control.id), control.id


def test_control_ids_appear_as_the_frameworks_number_them(catalog: Catalog) -> None:
    assert "5.2.2.1" in catalog.frameworks["cis-m365-7.0"].control_ids()
    assert "MS.AAD.3.1v1" in catalog.frameworks["scuba-m365"].control_ids()
    assert "4.1.1.3" in catalog.frameworks["cis-gws-1.3"].control_ids()
    assert "GWS.COMMONCONTROLS.1.1v1" in catalog.frameworks["scuba-gws"].control_ids()


def test_manual_controls_name_what_they_need(catalog: Catalog) -> None:
    m365 = {c.id: c for c in catalog.frameworks["cis-m365-7.0"].controls}
    assert m365["6.5.4"].manual and m365["6.5.4"].reason is not None
    assert "Exchange Online PowerShell" in m365["6.5.4"].reason.en
    assert "Exchange Online PowerShell が必要です" in m365["6.5.4"].reason.ja
    assert "Teams PowerShell" in (m365["8.5.1"].reason.en if m365["8.5.1"].reason else "")
    # answerable from Microsoft Graph, or from DNS, which posture queries itself
    assert not m365["5.2.2.1"].manual and not m365["2.1.8"].manual
    gws = {c.id: c for c in catalog.frameworks["cis-gws-1.3"].controls}
    assert gws["1.2.1.1"].manual and not gws["4.1.1.3"].manual
    for fw in catalog.frameworks.values():
        for control in fw.controls:
            assert control.manual == (control.reason is not None), (fw.id, control.id)


def test_manual_counts_follow_the_api_each_control_needs(catalog: Catalog) -> None:
    manual = {fw.id: sum(1 for c in fw.controls if c.manual) for fw in catalog.frameworks.values()}
    # CIS M365: 160 less 70 from Graph and 2 from DNS; CIS GWS: the 14 console-only ones;
    # SCuBA: not automated, or needing Exchange/Teams/Purview/Power BI/Power Platform APIs
    gcp = catalog.frameworks["cis-gcp-5.0"]
    # CIS GCP section 1: judgement, Workspace / Cloud Identity settings, or secret values
    section_1 = {c.id for c in gcp.controls if c.manual and c.section.startswith("1 ")}
    assert section_1 == {"1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.3", "1.4", "1.18"}
    assert len(gcp.controls) == 93
    manual.pop("cis-gcp-5.0")
    # CIS AWS: 6.8, since no API tells which AWS services a VPC's workloads reach; 2.1.3
    # (workloads in the management account) and 2.1.4 (OU design) are judgements
    assert manual == {
        "cis-aws-7.0": 3,
        "cis-m365-7.0": 88,
        "cis-gws-1.3": 14,
        "scuba-m365": 90,
        "scuba-gws": 17,
        # CIS GKE section 5: the controls needing the Kubernetes API or a judgement
        "cis-gke-1.6": 8,
        "nist-800-53-r5": 220,
        "nist-csf-2.0": 76,
        "iso-27001-2022": 51,
        "iso-27017": 5,
    }


def test_saas_frameworks_stay_out_of_an_aws_report(catalog: Catalog) -> None:
    """A report scores only frameworks with evaluated controls: AWS scans show CIS AWS and
    the catalogue frameworks, those with only the controls AWS policies answer."""
    from posture.report.build import framework_scores

    ran = {p.id for p in catalog.select(provider="aws")}
    scores = {s.framework_id: s for s in framework_scores(catalog, ran, [], set())}
    assert sorted(scores) == ["cis-aws-7.0", *sorted(CATALOGUES)]
    for fid in CATALOGUES:
        evaluated = {c.control_id for c in scores[fid].controls}
        answered = {c for pid in ran for c in catalog.policies[pid].frameworks.get(fid, [])}
        assert evaluated == answered and 0 < len(evaluated) < scores[fid].controls_total
    nist = {c.control_id for c in scores["nist-800-53-r5"].controls}
    assert {"AC-6", "AU-2", "SC-28", "SC-7"} <= nist
    # answered only by Microsoft 365 or Google Workspace policies
    assert not {"AC-7", "IA-8", "SI-8"} & nist


CATALOGUES = ("iso-27001-2022", "iso-27017", "nist-800-53-r5", "nist-csf-2.0")


@pytest.mark.parametrize("framework_id", CATALOGUES)
def test_catalogue_frameworks_are_for_every_provider(catalog: Catalog, framework_id: str) -> None:
    fw = catalog.frameworks[framework_id]
    assert fw.provider == "any"
    sections = {c.section for c in fw.controls}
    assert all(sections)
    for control in fw.controls:
        assert not (control.manual and control.maps), control.id
        if control.reason is not None:
            assert JAPANESE.search(control.reason.ja) and control.reason.en, control.id


def test_catalogue_sections_follow_the_frameworks(catalog: Catalog) -> None:
    nist = catalog.frameworks["nist-800-53-r5"]
    families = {c.id.split("-")[0] for c in nist.controls}
    assert len(families) == 20
    # withdrawn in Rev. 5
    assert not {"AC-13", "AC-15", "SC-9", "SC-19", "SI-9", "SA-12", "PE-7"} & nist.control_ids()
    csf = catalog.frameworks["nist-csf-2.0"]
    assert {c.id.split(".")[0] for c in csf.controls} == {"GV", "ID", "PR", "DE", "RS", "RC"}
    assert "ID.AM-06" not in csf.control_ids()  # withdrawn in 2.0
    iso = {c.id: c for c in catalog.frameworks["iso-27001-2022"].controls}
    per_theme = {t: sum(1 for c in iso if c.startswith(f"A.{t}.")) for t in ("5", "6", "7", "8")}
    assert per_theme == {"5": 37, "6": 8, "7": 14, "8": 34}
    assert iso["A.8.5"].title.ja == "セキュリティを保った認証"
    assert iso["A.7.1"].manual and "SOC 2" in (
        iso["A.7.1"].reason.en if iso["A.7.1"].reason else ""
    )
    cloud = catalog.frameworks["iso-27017"].control_ids()
    assert {
        "CLD.6.3.1",
        "CLD.8.1.5",
        "CLD.9.5.1",
        "CLD.9.5.2",
        "CLD.12.1.5",
        "CLD.12.4.5",
        "CLD.13.1.4",
    } <= cloud


@pytest.mark.parametrize("framework_id", CATALOGUES)
def test_every_mapped_catalogue_control_gets_a_policy(catalog: Catalog, framework_id: str) -> None:
    """A control that claims benchmark controls answer it is answered by a loaded policy."""
    answered = {c for p in catalog.policies.values() for c in p.frameworks.get(framework_id, [])}
    for control in catalog.frameworks[framework_id].controls:
        if control.maps:
            assert control.id in answered, control.id


@pytest.mark.parametrize(
    ("framework_id", "control_id", "policy_id"),
    [
        ("nist-800-53-r5", "AC-6", "aws.iam.policy_full_admin"),
        ("nist-800-53-r5", "IA-2", "m365.entra.mfa_required_for_admins"),
        ("nist-800-53-r5", "IA-2", "gws.directory.user_2sv_enforced"),
        ("nist-800-53-r5", "IA-2", "aws.iam.user_console_mfa"),
        ("nist-800-53-r5", "IA-5", "aws.iam.password_policy_min_length"),
        ("nist-800-53-r5", "AU-2", "aws.cloudtrail.multi_region_trail_logging"),
        ("nist-800-53-r5", "SC-28", "aws.rds.db_instance_storage_encrypted"),
        ("nist-800-53-r5", "SC-7", "aws.ec2.security_group_default_restricts_all_traffic"),
        ("nist-800-53-r5", "SC-8", "aws.s3.bucket_secure_transport_required"),
        ("nist-800-53-r5", "SC-12", "aws.kms.key_rotation_enabled"),
        ("nist-800-53-r5", "SI-4", "aws.securityhub.enabled"),
        ("iso-27001-2022", "A.8.5", "m365.entra.legacy_authentication_blocked"),
        ("iso-27001-2022", "A.8.15", "aws.cloudtrail.log_file_validation_enabled"),
        ("iso-27001-2022", "A.8.2", "m365.entra.global_admin_count"),
        ("iso-27001-2022", "A.8.24", "aws.efs.file_system_encrypted"),
        ("nist-csf-2.0", "PR.AA-01", "aws.iam.root_access_keys"),
        ("nist-csf-2.0", "PR.AA-03", "gws.directory.admin_2sv_enforced"),
        ("nist-csf-2.0", "DE.CM-01", "aws.ec2.vpc_flow_logs_enabled"),
        ("iso-27017", "CLD.12.4.5", "aws.cloudtrail.monitoring_root_account_usage"),
        ("iso-27017", "CLD.9.5.1", "aws.ec2.security_group_default_restricts_all_traffic"),
        ("iso-27017", "CLD.9.5.2", "aws.ec2.instance_imdsv2_required"),
    ],
)
def test_important_controls_are_answered_through_the_crosswalk(
    catalog: Catalog, framework_id: str, control_id: str, policy_id: str
) -> None:
    assert control_id in catalog.policies[policy_id].frameworks[framework_id]


def test_coverage_json_lists_the_catalogue_frameworks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from tests.cli.test_cli import cli

    assert cli("frameworks", "coverage", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    for fid in CATALOGUES:
        row = rows[fid]
        assert row["total"] == SIZES[fid]
        assert row["automated"] > 0
        assert row["automated"] + row["manual"] + row["uncovered"] == row["total"]
    assert rows["nist-800-53-r5"]["manual"] == 220
