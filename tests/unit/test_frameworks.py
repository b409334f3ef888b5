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
}
ID_FORMS = {
    "cis-m365-7.0": r"^\d+(\.\d+)+$",
    "cis-gws-1.3": r"^\d+(\.\d+)+$",
    "cis-gke-1.6": r"^5\.\d+\.\d+$",
    "scuba-m365": r"^MS\.[A-Z]+\.\d+\.\d+v\d+$",
    "scuba-gws": r"^GWS\.[A-Z]+\.\d+\.\d+v\d+$",
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
    }


def test_saas_frameworks_stay_out_of_an_aws_report(catalog: Catalog) -> None:
    """A report scores only frameworks with evaluated controls: AWS scans show CIS AWS."""
    from posture.report.build import framework_scores

    ran = {p.id for p in catalog.select(provider="aws")}
    scores = framework_scores(catalog, ran, [], set())
    assert [s.framework_id for s in scores] == ["cis-aws-7.0"]
