"""The demo's web front ends, messaging and data services, judged policy by policy.

Each kind is planted once wrong ("bad") and once right ("good") by ``estate_edge``; the bad
one must fail and the good one pass every policy listed for its type. A policy that moto
cannot let the good twin pass is listed apart, with the reason.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from posture.catalog import Catalog
from posture.connectors.aws import AwsCollector, AwsSettings, open_target
from posture.demo import estate_edge
from posture.engine import evaluate
from tests.demo.demo_support import REGIONS, PlantedEstate

JUDGED: dict[str, tuple[str, ...]] = {
    estate_edge.ALB: (
        "aws.elbv2.listener_tls_policy_current",
        "aws.elbv2.http_listener_redirects_to_https",
        "aws.elbv2.access_logs_enabled",
        "aws.elbv2.deletion_protection_enabled",
        "aws.elbv2.drop_invalid_header_fields_enabled",
    ),
    estate_edge.CLB: (
        "aws.elb.listeners_encrypted",
        "aws.elb.access_logs_enabled",
        "aws.elb.cross_zone_load_balancing_enabled",
        "aws.elb.tls_protocols_current",
    ),
    estate_edge.DISTRIBUTION: (
        "aws.cloudfront.viewer_protocol_https",
        "aws.cloudfront.custom_origin_https_only",
        "aws.cloudfront.waf_web_acl_attached",
        "aws.cloudfront.access_logging_enabled",
    ),
    estate_edge.REST_API: (
        "aws.apigateway.rest_stage_access_logging_enabled",
        "aws.apigateway.rest_stage_execution_logging_enabled",
    ),
    estate_edge.HTTP_API: (
        "aws.apigateway.http_api_stage_access_logging_enabled",
        "aws.apigateway.http_api_route_authorization",
    ),
    estate_edge.TOPIC: (
        "aws.sns.topic_encrypted",
        "aws.sns.topic_policy_no_public_principal",
        "aws.sns.subscriptions_https",
    ),
    estate_edge.QUEUE: ("aws.sqs.queue_encrypted", "aws.sqs.queue_policy_no_public_principal"),
    estate_edge.SECRET: (
        "aws.secretsmanager.rotation_enabled",
        "aws.secretsmanager.encrypted_with_cmk",
    ),
    estate_edge.TABLE: (
        "aws.dynamodb.table_point_in_time_recovery_enabled",
        "aws.dynamodb.table_deletion_protection_enabled",
        "aws.dynamodb.table_encrypted_with_cmk",
    ),
    estate_edge.BACKUP_PLAN: ("aws.backup.plan_retention_set",),
}
#: fail on both twins on moto: no web ACL can be associated with a stage through moto, and
#: moto drops a stage's clientCertificateId
FAIL_ON_MOTO = {
    estate_edge.REST_API: (
        "aws.apigateway.rest_stage_waf_web_acl_attached",
        "aws.apigateway.rest_stage_client_certificate",
    )
}


@pytest.fixture(scope="module")
def statuses(estate: PlantedEstate, catalog: Catalog) -> dict[tuple[str, str], dict[str, str]]:
    types = [*JUDGED, "aws.backup.account"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        target = open_target(
            "demo", AwsSettings(endpoint_url=estate.endpoint_url, regions=list(REGIONS))
        )
        specs = [catalog.specs[t] for t in (*types, "aws.backup.plan")]
        inventory = AwsCollector(target, specs).collect()
    assert inventory.failures == [], inventory.failures
    names = {r.uid: (r.type, r.name) for r in inventory.resources}
    out: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    policies = [p for p in catalog.policies.values() if p.resource in types]
    for result in evaluate(policies, inventory.resources):
        out[names[result.resource_uid]][result.policy_id] = result.status.value
    return out


def test_every_edge_kind_is_planted_wrong_and_right(estate: PlantedEstate) -> None:
    for rtype in JUDGED:
        verdicts = sorted(r.expected for r in estate.manifest.of_type(rtype))
        assert verdicts == ["bad", "good"], rtype


def test_bad_twins_fail_and_good_twins_pass(
    estate: PlantedEstate, statuses: dict[tuple[str, str], dict[str, str]]
) -> None:
    wrong = []
    for rtype, policies in JUDGED.items():
        for planted in estate.manifest.of_type(rtype):
            got = statuses.get((rtype, planted.identifier))
            assert got is not None, f"{rtype} {planted.identifier} was not collected"
            want = "fail" if planted.expected == "bad" else "pass"
            wrong += [
                f"{planted.identifier}: {p} {got.get(p)}" for p in policies if got.get(p) != want
            ]
            wrong += [
                f"{planted.identifier}: {p} {got.get(p)} on moto"
                for p in FAIL_ON_MOTO.get(rtype, ())
                if got.get(p) != "fail"
            ]
    assert wrong == []


def test_the_account_has_a_backup_plan(
    estate: PlantedEstate, statuses: dict[tuple[str, str], dict[str, str]]
) -> None:
    account = estate.manifest.account_id
    assert statuses[("aws.backup.account", account)]["aws.backup.plan_exists"] == "pass"
