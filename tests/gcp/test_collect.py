"""The Google Cloud connector against the local server, through the real client."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from posture.catalog.spec import ResourceSpec
from posture.connectors.gcp.entry import check, collect
from posture.demo import saas_gcp
from posture.errors import ConnectionFailure, CredentialError
from posture.localapi.gcp import RunningGcp
from posture.models import Resource


def by_type(resources: list[Resource]) -> Counter[str]:
    return Counter(r.type for r in resources)


def test_organisation_discovery_follows_folders_and_pages(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    inventory = collect("cloud", org_settings, gcp_specs)
    assert inventory.failures == []
    # ACTIVE projects only: acme-legacy waits for deletion; acme-hardened sits two folders down
    assert inventory.regions == [
        f"organizations/{saas_gcp.ORGANIZATION_ID}",
        "acme-hardened",
        "acme-prod",
    ]
    projects = {r.name for r in inventory.resources if r.type == "gcp.cloudresourcemanager.project"}
    assert projects == {"acme-hardened", "acme-prod"}
    requests = gcp.fake.requests
    # three ACTIVE folders under the organisation, in pages of two
    folder_pages = [r for r in requests if "/v3/folders?parent=organizations" in r]
    assert len(folder_pages) == 2 and "pageToken=2" in folder_pages[1]
    # a deleted folder is not descended into; the nested one is
    assert any("parent=folders%2F1003" in r for r in requests)
    assert not any("parent=folders%2F1004" in r for r in requests)
    # three service accounts in pages of two: the listing followed nextPageToken
    accounts = [r for r in requests if r.startswith("GET /v1/projects/acme-prod/serviceAccounts?")]
    assert len(accounts) == 2 and "pageToken=2" in accounts[1]
    counts = by_type(inventory.resources)
    assert counts["gcp.iam.service_account"] == 4
    assert counts["gcp.cloudkms.crypto_key"] == 3
    assert counts["gcp.apikeys.project_keys"] == 2  # one per project, also the one without keys
    assert counts["gcp.essentialcontacts.organization_contacts"] == 1


def test_documents_regions_and_omitted_fields(
    org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    inventory = collect("cloud", org_settings, gcp_specs)
    keys = [r for r in inventory.resources if r.type == "gcp.cloudkms.crypto_key"]
    assert {r.region for r in keys} == {
        "acme-prod/asia-northeast1",
        "acme-hardened/asia-northeast1",
    }
    prod = next(r for r in keys if r.account == "acme-prod" and r.name == "customer-data")
    assert "rotationPeriod" not in prod.data and prod.data["rotation_period_days"] is None
    assert prod.data["iam_principals"] == [
        {"member": "allUsers", "roles": ["roles/cloudkms.cryptoKeyDecrypter"]}
    ]
    assert prod.tags == {"env": "prod"}
    accounts = {r.name: r.data for r in inventory.resources if r.type == "gcp.iam.service_account"}
    # "disabled": false is omitted by the API; a service account without keys has keys: []
    assert "disabled" not in accounts["batch@acme-prod.iam.gserviceaccount.com"]
    assert accounts["app-runtime@acme-hardened.iam.gserviceaccount.com"]["keys"] == []
    settings = {
        r.account: r.data for r in inventory.resources if r.type == "gcp.accessapproval.settings"
    }
    assert settings["acme-prod"] == {}  # NOT_FOUND: never configured
    assert settings["acme-hardened"]["enrolledServices"][0]["cloudProduct"] == "all"


def test_each_distinct_call_is_made_once(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    collect("cloud", org_settings, gcp_specs)
    seen = Counter(gcp.fake.requests)
    assert [r for r, n in seen.items() if n > 1] == []
    # projects.get serves both the project type and nothing else: once per project
    assert seen["GET /v3/projects/acme-prod?alt=json"] == 1


def test_concurrent_collection_equals_sequential(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    def snapshot(concurrency: int) -> str:
        inventory = collect("cloud", {**org_settings, "concurrency": concurrency}, gcp_specs)
        rows = [(r.type, r.uid, r.region, r.name, r.data) for r in inventory.resources]
        return json.dumps([rows, inventory.regions, inventory.api_calls], sort_keys=True)

    assert snapshot(1) == snapshot(8)


def test_explicit_projects_and_organisation_types_not_applicable(
    gcp: RunningGcp, gcp_specs: list[ResourceSpec]
) -> None:
    settings = {
        "projects": ["acme-hardened"],
        "key_file": str(gcp.key_file),
        "root_url": gcp.url,
        "ca_bundle": str(gcp.ca_bundle),
    }
    inventory = collect("twin", settings, gcp_specs)
    assert inventory.failures == []
    assert {r.account for r in inventory.resources} == {"acme-hardened"}
    reasons = inventory.not_applicable_scopes()
    assert ("gcp.essentialcontacts.organization_contacts", "organization") in reasons
    assert (
        "not an organisation" in reasons[("gcp.cloudresourcemanager.organization", "organization")]
    )
    assert not any("/v3/folders" in r for r in gcp.fake.requests)


def test_service_disabled_fails_that_project_and_api_only(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    gcp.fake.disabled.add(("acme-prod", "apikeys"))
    inventory = collect("cloud", org_settings, gcp_specs)
    failed = {(f.resource_type, f.region): f for f in inventory.failures}
    assert set(failed) == {
        ("gcp.apikeys.key", "acme-prod"),
        ("gcp.apikeys.project_keys", "acme-prod"),
    }
    failure = failed[("gcp.apikeys.key", "acme-prod")]
    assert failure.code == "SERVICE_DISABLED"
    assert "apikeys.googleapis.com is not enabled in projects/415104041262" in failure.message
    assert "gcloud services enable apikeys.googleapis.com" in failure.message
    # the other project's keys and the other types of acme-prod were collected
    assert any(
        r.type == "gcp.apikeys.project_keys" and r.account == "acme-hardened"
        for r in inventory.resources
    )
    assert any(
        r.type == "gcp.iam.service_account" and r.account == "acme-prod"
        for r in inventory.resources
    )


def test_permission_denied_names_the_permission(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    gcp.fake.denied["v1/projects/acme-hardened/serviceAccounts"] = "iam.serviceAccounts.list"
    inventory = collect("cloud", org_settings, gcp_specs)
    [failure] = inventory.failures
    assert (failure.resource_type, failure.region) == ("gcp.iam.service_account", "acme-hardened")
    assert failure.permission == "iam.serviceAccounts.list"
    assert "lacks the IAM permission iam.serviceAccounts.list" in failure.message


def test_throttling_is_retried_and_counted(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    gcp.fake.throttle_once.add("v2/projects/acme-prod/locations/global/keys")
    inventory = collect("cloud", org_settings, gcp_specs)
    assert inventory.failures == []
    assert inventory.stats["gcp.apikeys.key"].throttles == 1
    assert by_type(inventory.resources)["gcp.apikeys.key"] == 2


def test_throttling_that_never_ends_fails_the_scope(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    gcp.fake.throttle_always.add("v1/organizations/")
    waits: list[float] = []
    inventory = collect("cloud", {**org_settings, "max_attempts": 3}, gcp_specs, sleep=waits.append)
    failed = {f.resource_type: f for f in inventory.failures}
    assert "still throttled after every retry" in failed["gcp.essentialcontacts.contact"].message
    assert waits and all(w == 0.0 for w in waits)  # Retry-After: 0 was honoured


def test_a_bad_key_file_names_the_connection(tmp_path: Path, gcp: RunningGcp) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "service_account"}')
    settings = {"projects": ["acme-prod"], "root_url": gcp.url, "ca_bundle": str(gcp.ca_bundle)}
    with pytest.raises(
        CredentialError,
        match=r"connection 'cloud': the key file .*broken.json is not a service account key",
    ):
        collect("cloud", {**settings, "key_file": str(broken)}, [])
    with pytest.raises(
        CredentialError, match=r"connection 'cloud': the key file .*missing.json does not exist"
    ):
        collect("cloud", {**settings, "key_file": str(tmp_path / "missing.json")}, [])


def test_a_key_the_token_endpoint_rejects(tmp_path: Path, gcp: RunningGcp) -> None:
    from posture.localapi.google import write_key_file

    other, _public = write_key_file(tmp_path, gcp.url + "token", name="other.json")
    settings = {
        "projects": ["acme-prod"],
        "key_file": str(other),
        "root_url": gcp.url,
        "ca_bundle": str(gcp.ca_bundle),
    }
    with pytest.raises(CredentialError, match=r"rejected the service account key .*invalid_grant"):
        check("cloud", settings)


def test_application_default_credentials(
    monkeypatch: pytest.MonkeyPatch, gcp: RunningGcp, gcp_specs: list[ResourceSpec]
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(gcp.key_file))
    settings = {"projects": ["acme-prod"], "root_url": gcp.url, "ca_bundle": str(gcp.ca_bundle)}
    info = check("cloud", settings)
    assert info["regions"] == ["acme-prod"]
    assert "scanner@posture-test.iam.gserviceaccount.com" in info["summary"]


def test_check_reports_each_project(gcp: RunningGcp) -> None:
    settings = {
        "projects": ["acme-prod", "acme-missing"],
        "key_file": str(gcp.key_file),
        "root_url": gcp.url,
        "ca_bundle": str(gcp.ca_bundle),
    }
    info = check("cloud", settings)
    assert info["projects"]["acme-prod"] == "ok"
    assert "resourcemanager.projects.get" in info["projects"]["acme-missing"]
    assert "not readable: acme-missing" in info["summary"]
    with pytest.raises(ConnectionFailure, match="no ACTIVE project"):
        check("cloud", {**settings, "projects": ["acme-missing"]})


def test_organisation_discovery_denied_fails_the_connection(
    gcp: RunningGcp, org_settings: dict[str, Any], gcp_specs: list[ResourceSpec]
) -> None:
    gcp.fake.denied["v3/folders"] = "resourcemanager.folders.list"
    with pytest.raises(ConnectionFailure, match=r"resourcemanager\.folders\.list"):
        collect("cloud", org_settings, gcp_specs)
