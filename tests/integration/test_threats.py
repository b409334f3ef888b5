"""Inspector and GuardDuty findings through the real collector and policies.

moto keeps GuardDuty detectors but implements neither GuardDuty's ListFindings/GetFindings
nor Inspector findings, so those answers are given at the botocore seam, in the shapes the
API references document (fields omitted where AWS omits them); everything else is moto.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.engine import evaluate
from posture.models import Status

REGION = "ap-northeast-1"
TYPES = ("aws.guardduty.detector", "aws.inspector2.finding", "aws.inspector2.coverage")

LOG4SHELL = {
    "findingArn": "arn:aws:inspector2:ap-northeast-1:123456789012:finding/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "awsAccountId": "123456789012",
    "type": "PACKAGE_VULNERABILITY",
    "title": "CVE-2021-44228 - org.apache.logging.log4j:log4j-core",
    "description": "Apache Log4j2 JNDI features ... (long text, dropped)",
    "severity": "CRITICAL",
    "status": "ACTIVE",
    "inspectorScore": 10.0,
    "exploitAvailable": "YES",
    "fixAvailable": "YES",
    "firstObservedAt": "2026-09-01T00:00:00Z",
    "lastObservedAt": "2026-11-30T00:00:00Z",
    "updatedAt": "2026-11-30T00:00:00Z",
    "remediation": {"recommendation": {"text": "Update log4j-core to 2.17.1"}},
    "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-2021-44228",
        "source": "NVD",
        "vulnerablePackages": [
            {
                "name": "log4j-core",
                "version": "2.14.1",
                "fixedInVersion": "2.17.1",
                "packageManager": "JAR",
            }
        ],
    },
    "resources": [
        {
            "type": "AwsEc2Instance",
            "id": "i-0a1b2c3d4e5f67890",
            "region": REGION,
            "partition": "aws",
        }
    ],
}
PATCHED_RECENTLY = {  # a high finding without exploit, fix omitted by the API (reads as NO)
    "findingArn": "arn:aws:inspector2:ap-northeast-1:123456789012:finding/aa",
    "awsAccountId": "123456789012",
    "type": "PACKAGE_VULNERABILITY",
    "title": "CVE-2024-0002 - zlib",
    "severity": "HIGH",
    "status": "ACTIVE",
    "firstObservedAt": "2026-11-28T00:00:00Z",
    "lastObservedAt": "2026-11-30T00:00:00Z",
    "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-0002", "source": "NVD"},
    "resources": [
        {
            "type": "AwsLambdaFunction",
            "id": "arn:aws:lambda:ap-northeast-1:123456789012:function:billing",
        }
    ],
}
ROOT_USE = {
    "Id": "7ec6a5f0e1d2c3b4a5968778695a4b3c",
    "Type": "Policy:IAMUser/RootCredentialUsage",
    "Severity": 2,
    "Title": "API GetCallerIdentity was invoked using root credentials.",
    "Resource": {"ResourceType": "AccessKey",
                 "AccessKeyDetails": {"AccessKeyId": "ASIAROOTEXAMPLE", "UserType": "Root",
                                      "UserName": "Root"}},
    "Service": {"Archived": False, "Count": 3},
    "UpdatedAt": "2026-11-29T10:00:00.000Z",
}  # fmt: skip
MINER = {
    "Id": "3c2b1a09f8e7d6c5b4a3928170f6e5d4",
    "Type": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "Severity": 8,
    "Title": "EC2 instance is querying a domain name that is associated with Bitcoin-related activity.",
    "Resource": {"ResourceType": "Instance", "InstanceDetails": {"InstanceId": "i-0feedc0ffee"}},
    "Service": {"Archived": False, "Count": 41},
    "UpdatedAt": "2026-11-30T01:00:00.000Z",
}


def answer(target: Any, service: str, operation: str, reply: Any) -> list[dict[str, Any]]:
    """Answer ``operation`` with ``reply(params)``; returns the parameters it was called with.

    The API parameters are seen before they are serialised; the answer replaces the HTTP
    call, as a parsed response.
    """
    seen: list[dict[str, Any]] = []

    def on_params(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == operation:
            seen.append(dict(params))

    def on_call(model: Any, **_: Any) -> Any:
        if model.name != operation:
            return None
        body = reply(seen[-1])
        body["ResponseMetadata"] = {"HTTPStatusCode": 200, "RetryAttempts": 0}
        return AWSResponse("https://answered.invalid", 200, {}, None), body

    target.session.events.register(f"before-parameter-build.{service}.{operation}", on_params)
    target.session.events.register(f"before-call.{service}.{operation}", on_call)
    return seen


@pytest.fixture
def collected(catalog: Catalog, moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    gd = boto3.client("guardduty", region_name=REGION, endpoint_url=moto_url)
    detector = gd.create_detector(Enable=True)["DetectorId"]
    target = open_target("prod", AwsSettings(endpoint_url=moto_url, regions=[REGION]))

    def list_findings(params: dict[str, Any]) -> dict[str, Any]:
        criterion = params["FindingCriteria"]["Criterion"]
        if "severity" in criterion:
            return {"FindingIds": [MINER["Id"]]}
        return {"FindingIds": [ROOT_USE["Id"]]}

    by_id = {f["Id"]: f for f in (ROOT_USE, MINER)}
    gd_lists = answer(target, "guardduty", "ListFindings", list_findings)
    answer(
        target,
        "guardduty",
        "GetFindings",
        lambda p: {"Findings": [by_id[i] for i in p["FindingIds"]]},
    )
    pages = iter(
        [
            {"findings": [LOG4SHELL], "nextToken": "page-2"},
            {"findings": [PATCHED_RECENTLY]},
        ]
    )
    inspector = answer(target, "inspector2", "ListFindings", lambda p: next(pages))
    specs = [catalog.specs[t] for t in TYPES]
    inventory = AwsCollector(target, specs).collect()
    return inventory, detector, gd_lists, inspector


def test_findings_are_collected_paged_and_trimmed(collected: Any) -> None:
    inventory, detector, gd_lists, inspector = collected
    assert inventory.failures == []
    findings = [r for r in inventory.resources if r.type == "aws.inspector2.finding"]
    assert [f.uid for f in findings] == [LOG4SHELL["findingArn"], PATCHED_RECENTLY["findingArn"]]
    first = findings[0].data
    assert (
        first["vulnerability_id"] == "CVE-2021-44228"
        and first["resource_id"] == "i-0a1b2c3d4e5f67890"
    )
    assert "description" not in first and "remediation" not in first  # bulk is dropped
    assert findings[1].data["fixAvailable"] == "NO"  # omitted by the API
    assert [p.get("nextToken") for p in inspector if "filterCriteria" in p] == [None, "page-2"]
    assert inspector[0]["filterCriteria"]["findingStatus"] == [
        {"comparison": "EQUALS", "value": "ACTIVE"}
    ]
    (region,) = [r for r in inventory.resources if r.type == "aws.guardduty.detector"]
    assert region.data["detector"]["Status"] == "ENABLED"
    assert [f["Type"] for f in region.data["high_findings"]] == [MINER["Type"]]
    assert region.data["indicators"][0]["user_type"] == "Root"
    assert all(p["DetectorId"] == detector for p in gd_lists if "FindingCriteria" in p)


def test_policies_judge_the_collected_findings(catalog: Catalog, collected: Any) -> None:
    from datetime import UTC, datetime

    inventory = collected[0]
    policies = [p for p in catalog.policies.values() if p.resource in TYPES]
    results = evaluate(policies, inventory.resources, now=datetime(2026, 12, 1, tzinfo=UTC))
    status = {(r.policy_id, r.resource_uid): r.status for r in results}
    log4shell, zlib = LOG4SHELL["findingArn"], PATCHED_RECENTLY["findingArn"]
    assert status[("aws.inspector2.critical_vulnerability_exploitable", log4shell)] is Status.FAIL
    assert status[("aws.inspector2.critical_fix_not_applied", log4shell)] is Status.FAIL
    assert status[("aws.inspector2.high_vulnerability_exploitable", zlib)] is Status.PASS
    assert status[("aws.inspector2.critical_fix_not_applied", zlib)] is Status.NOT_APPLICABLE
    detector = f"arn:aws:guardduty:{REGION}:123456789012:detector"
    assert status[("aws.guardduty.detector_enabled", detector)] is Status.PASS
    assert status[("aws.guardduty.no_high_severity_findings", detector)] is Status.FAIL
    assert status[("aws.guardduty.no_credential_misuse_findings", detector)] is Status.FAIL
    coverage = f"arn:aws:inspector2:{REGION}:123456789012:coverage"
    assert status[("aws.inspector2.scanning_enabled", coverage)] is Status.FAIL  # never enabled


def test_a_region_without_guardduty_makes_no_finding_calls(catalog: Catalog, moto_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    target = open_target("prod", AwsSettings(endpoint_url=moto_url, regions=[REGION]))
    calls = answer(target, "guardduty", "ListFindings", lambda p: {"FindingIds": []})
    inventory = AwsCollector(target, [catalog.specs["aws.guardduty.detector"]]).collect()
    assert inventory.failures == [] and calls == []
    (region,) = inventory.resources
    assert region.data["detector"] is None and region.data["high_findings"] == []
