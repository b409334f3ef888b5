"""The storage, Cloud SQL, BigQuery, Dataproc, GKE and Artifact Registry types collected with
the real google-api-python-client from the local Google Cloud server: paged listings, nested
listings (per dataset, region, location), details, Google's omitted empty fields, and a
disabled API failing only its own type."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.catalog import Catalog, load_catalog
from posture.connectors.gcp.entry import collect
from posture.connectors.inventory import Inventory
from posture.engine.conditions import EvalContext
from posture.engine.evaluate import judge
from posture.engine.testing import DEFAULT_TEST_NOW
from posture.localapi.gcp import APIS, FakeGcp, GcpProject, RunningGcp, gcp_server

PROJECT = "acme-data"
NUMBER = "520000000001"
DATA_APIS = [
    "storage.v1",
    "sqladmin.v1beta4",
    "bigquery.v2",
    "compute.v1",
    "dataproc.v1",
    "container.v1",
    "artifactregistry.v1",
]
TYPES = [
    "gcp.storage.bucket",
    "gcp.sqladmin.instance",
    "gcp.bigquery.dataset",
    "gcp.bigquery.table",
    "gcp.dataproc.cluster",
    "gcp.container.cluster",
    "gcp.artifactregistry.repository",
]
BQ = f"bigquery/v2/projects/{PROJECT}"
AR = f"v1/projects/{PROJECT}/locations"


def _bucket(name: str, uniform: bool, prevention: str = "inherited") -> dict[str, Any]:
    return {
        "kind": "storage#bucket",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "id": name,
        "name": name,
        "projectNumber": NUMBER,
        "location": "ASIA-NORTHEAST1",
        "locationType": "region",
        "storageClass": "STANDARD",
        "iamConfiguration": {
            "bucketPolicyOnly": {"enabled": uniform},
            "uniformBucketLevelAccess": {"enabled": uniform},
            "publicAccessPrevention": prevention,
        },
        "labels": {},
    }


def _iam(*bindings: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "kind": "storage#policy",
        "version": 1,
        "etag": "CAE=",
        "bindings": [{"role": r, "members": m} for r, m in bindings],
    }


def _instance(
    name: str, version: str, flags: list[tuple[str, str]], **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "sql#instance",
        "name": name,
        "project": PROJECT,
        "region": "asia-northeast1",
        "databaseVersion": version,
        "instanceType": "CLOUD_SQL_INSTANCE",
        "state": "RUNNABLE",
        "backendType": "SECOND_GEN",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{PROJECT}/instances/{name}",
        "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.0.0.5"}],
        "settings": {
            "tier": "db-custom-2-7680",
            "databaseFlags": [{"name": n, "value": v} for n, v in flags],
            "ipConfiguration": {
                "ipv4Enabled": False,
                "sslMode": "ENCRYPTED_ONLY",
                "authorizedNetworks": [],
                "requireSsl": False,
            },
            "backupConfiguration": {"enabled": True, "startTime": "18:00"},
            "deletionProtectionEnabled": True,
        },
    }
    doc.update(extra)
    return doc


def _cluster(name: str, **changes: Any) -> dict[str, Any]:
    pool = {
        "name": "default-pool",
        "config": {
            "imageType": "COS_CONTAINERD",
            "serviceAccount": f"gke-nodes@{PROJECT}.iam.gserviceaccount.com",
            "workloadMetadataConfig": {"mode": "GKE_METADATA"},
            "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        },
        "management": {"autoUpgrade": True, "autoRepair": True},
        "status": "RUNNING",
    }
    doc: dict[str, Any] = {
        "name": name,
        "location": "asia-northeast1",
        "selfLink": f"https://container.googleapis.com/v1/projects/{PROJECT}/locations/asia-northeast1/clusters/{name}",
        "status": "RUNNING",
        "currentMasterVersion": "1.33.5-gke.1201000",
        "legacyAbac": {"enabled": False},
        "masterAuth": {"clusterCaCertificate": "LS0t"},
        "nodePools": [pool],
        "shieldedNodes": {"enabled": True},
        "releaseChannel": {"channel": "REGULAR"},
        "networkConfig": {
            "datapathProvider": "ADVANCED_DATAPATH",
            "enableIntraNodeVisibility": True,
        },
    }
    doc.update(changes)
    return doc


def _populate(fake: FakeGcp) -> None:
    assert set(DATA_APIS) <= set(APIS)  # the local server routes these APIs by default
    project = fake.add_project(GcpProject(PROJECT, NUMBER, "organizations/123456789012"))
    c = project.collections
    # storage: three buckets, so the listing pages (two items a page); buckets.list names the
    # project in its query
    c[f"storage/v1/b?project={PROJECT}"] = [
        _bucket("acme-invoices", uniform=True, prevention="enforced"),
        _bucket("acme-assets", uniform=True),
        _bucket("acme-logs", uniform=False),
    ]
    c["storage/v1/b/acme-invoices/iam"] = _iam(("roles/storage.admin", ["group:ops@example.jp"]))
    c["storage/v1/b/acme-assets/iam"] = _iam(("roles/storage.objectViewer", ["allUsers"]))
    c["storage/v1/b/acme-logs/iam"] = _iam(
        ("roles/storage.legacyBucketOwner", ["projectOwner:acme-data"])
    )
    # Cloud SQL: a MySQL instance with an anonymous user, a PostgreSQL one without flags,
    # a stopped MySQL instance (its users are not listed)
    sql = f"sql/v1beta4/projects/{PROJECT}/instances"
    c[sql] = [
        _instance("orders", "MYSQL_8_0", [("skip_show_database", "on"), ("local_infile", "off")]),
        _instance("ledger", "POSTGRES_16", []),
        _instance("idle", "MYSQL_8_0", [], state="SUSPENDED"),
    ]
    c[f"{sql}/orders/users"] = [
        {"kind": "sql#user", "name": "root", "host": "%", "instance": "orders", "project": PROJECT},
        {"kind": "sql#user", "name": "", "host": "%", "instance": "orders", "project": PROJECT},
    ]
    # BigQuery: datasets.list has references only; access and keys come from datasets.get
    refs = [
        {
            "kind": "bigquery#dataset",
            "id": f"{PROJECT}:{d}",
            "location": "asia-northeast1",
            "datasetReference": {"projectId": PROJECT, "datasetId": d},
        }
        for d in ("sales", "open_data", "scratch")
    ]
    c[f"{BQ}/datasets"] = refs
    key = "projects/acme-sec/locations/asia-northeast1/keyRings/bq/cryptoKeys/sales"
    c[f"{BQ}/datasets/sales"] = {
        **refs[0],
        "access": [{"role": "OWNER", "specialGroup": "projectOwners"}],
        "defaultEncryptionConfiguration": {"kmsKeyName": key},
    }
    c[f"{BQ}/datasets/open_data"] = {
        **refs[1],
        "access": [{"role": "READER", "specialGroup": "allAuthenticatedUsers"}],
    }
    c[f"{BQ}/datasets/scratch"] = {**refs[2], "access": []}
    tables = [("sales", "orders"), ("sales", "customers"), ("sales", "v_orders")]
    c[f"{BQ}/datasets/sales/tables"] = [
        {
            "kind": "bigquery#table",
            "id": f"{PROJECT}:{d}.{t}",
            "tableReference": {"projectId": PROJECT, "datasetId": d, "tableId": t},
            "type": "VIEW" if t.startswith("v_") else "TABLE",
        }
        for d, t in tables
    ]
    c[f"{BQ}/datasets/sales/tables/orders"] = {
        "tableReference": {"projectId": PROJECT, "datasetId": "sales", "tableId": "orders"},
        "type": "TABLE",
        "location": "asia-northeast1",
        "encryptionConfiguration": {"kmsKeyName": key},
    }
    c[f"{BQ}/datasets/sales/tables/customers"] = {
        "tableReference": {"projectId": PROJECT, "datasetId": "sales", "tableId": "customers"},
        "type": "TABLE",
        "location": "asia-northeast1",
    }
    c[f"{BQ}/datasets/sales/tables/v_orders"] = {
        "tableReference": {"projectId": PROJECT, "datasetId": "sales", "tableId": "v_orders"},
        "type": "VIEW",
        "location": "asia-northeast1",
    }
    # Dataproc, per compute region: one cluster in asia-northeast1, none elsewhere
    c[f"compute/v1/projects/{PROJECT}/regions"] = [
        {"kind": "compute#region", "name": r, "status": "UP"}
        for r in ("asia-northeast1", "us-central1", "europe-west1")
    ]
    c[f"v1/projects/{PROJECT}/regions/asia-northeast1/clusters"] = [
        {
            "clusterName": "etl",
            "clusterUuid": "0b5e-etl",
            "projectId": PROJECT,
            "config": {"configBucket": "dataproc-staging", "encryptionConfig": {}},
            "status": {"state": "RUNNING"},
        },
    ]
    # GKE: one listing for every location
    c[f"v1/projects/{PROJECT}/locations/-/clusters"] = [
        _cluster("shop"),
        _cluster("legacy", legacyAbac={"enabled": True}, releaseChannel={}),
    ]
    # Artifact Registry, per location
    c[AR] = [
        {"name": f"projects/{PROJECT}/locations/{loc}", "locationId": loc}
        for loc in ("asia-northeast1", "us", "europe-west1")
    ]
    c[f"{AR}/asia-northeast1/repositories"] = [
        {
            "name": f"projects/{PROJECT}/locations/asia-northeast1/repositories/apps",
            "format": "DOCKER",
            "mode": "STANDARD_REPOSITORY",
            "vulnerabilityScanningConfig": {
                "enablementConfig": "INHERITED",
                "enablementState": "SCANNING_ACTIVE",
            },
        },
        {
            "name": f"projects/{PROJECT}/locations/asia-northeast1/repositories/libs",
            "format": "MAVEN",
            "mode": "STANDARD_REPOSITORY",
            "vulnerabilityScanningConfig": {"enablementState": "SCANNING_UNSUPPORTED"},
        },
    ]
    c[f"{AR}/us/repositories"] = [
        {
            "name": f"projects/{PROJECT}/locations/us/repositories/web",
            "format": "DOCKER",
            "mode": "STANDARD_REPOSITORY",
            "vulnerabilityScanningConfig": {
                "enablementState": "SCANNING_DISABLED",
                "enablementStateReason": "API containerscanning.googleapis.com is not enabled.",
            },
        },
    ]
    for repo, members in (
        ("asia-northeast1/repositories/apps", ["group:dev@example.jp"]),
        ("asia-northeast1/repositories/libs", ["group:dev@example.jp"]),
        ("us/repositories/web", ["allUsers"]),
    ):
        c[f"{AR}/{repo}:getIamPolicy"] = {
            "version": 1,
            "etag": "BwYg",
            "bindings": [{"role": "roles/artifactregistry.reader", "members": members}],
        }


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGcp]:
    with gcp_server(tmp_path_factory.mktemp("gcpdata"), _populate) as running:
        yield running


def _collect(server: RunningGcp, catalog: Catalog) -> Inventory:
    settings = {
        "projects": [PROJECT],
        "key_file": str(server.key_file),
        "root_url": server.url,
        "ca_bundle": str(server.ca_bundle),
    }
    specs = [catalog.specs[t] for t in TYPES]
    return collect("acme-gcp", settings, specs, sleep=lambda _s: None)


@pytest.fixture(scope="module")
def inventory(server: RunningGcp, catalog: Catalog) -> Inventory:
    return _collect(server, catalog)


def _docs(inventory: Inventory, resource_type: str) -> dict[str, dict[str, Any]]:
    return {r.name: r.data for r in inventory.resources if r.type == resource_type}


def _outcome(catalog: Catalog, inventory: Inventory, policy_id: str, name: str) -> str:
    policy = catalog.policies[policy_id]
    resource = next(r for r in inventory.resources if r.type == policy.resource and r.name == name)
    identity = {
        "name": resource.name,
        "uid": resource.uid,
        "region": resource.region,
        "account": resource.account,
        "type": resource.type,
    }
    return judge(policy, resource.data, EvalContext(now=DEFAULT_TEST_NOW), identity).status.value


def test_every_type_is_collected_without_failures(inventory: Inventory) -> None:
    assert inventory.failures == []
    counts = {t: len(_docs(inventory, t)) for t in TYPES}
    assert counts == {
        "gcp.storage.bucket": 3,  # two pages
        "gcp.sqladmin.instance": 3,
        "gcp.bigquery.dataset": 3,
        "gcp.bigquery.table": 3,  # tables of the one dataset that has any
        "gcp.dataproc.cluster": 1,  # found in the first of three regions
        "gcp.container.cluster": 2,
        "gcp.artifactregistry.repository": 3,  # two locations of three hold repositories
    }


def test_documents_have_details_and_omit_empty_fields(inventory: Inventory) -> None:
    buckets = _docs(inventory, "gcp.storage.bucket")
    assert buckets["acme-assets"]["iam_policy"]["bindings"][0]["members"] == ["allUsers"]
    # false booleans and the objects they leave empty are omitted
    assert "uniformBucketLevelAccess" not in buckets["acme-logs"]["iamConfiguration"]
    sql = _docs(inventory, "gcp.sqladmin.instance")
    assert "databaseFlags" not in sql["ledger"]["settings"]
    assert "authorizedNetworks" not in sql["orders"]["settings"]["ipConfiguration"]
    assert [u.get("name") for u in sql["orders"]["users"]] == ["root", None]
    assert sql["ledger"]["users"] is None and sql["idle"]["users"] is None  # no call made
    datasets = _docs(inventory, "gcp.bigquery.dataset")
    assert datasets["sales"]["dataset"]["defaultEncryptionConfiguration"]["kmsKeyName"]
    assert "access" not in datasets["scratch"]["dataset"]
    tables = _docs(inventory, "gcp.bigquery.table")
    assert set(tables) == {"sales.orders", "sales.customers", "sales.v_orders"}
    assert "encryptionConfiguration" not in tables["sales.customers"]["table"]
    repos = _docs(inventory, "gcp.artifactregistry.repository")
    assert set(repos) == {"apps", "libs", "web"}
    assert repos["web"]["iam_policy"]["bindings"][0]["members"] == ["allUsers"]


def test_resources_are_named_and_scoped(inventory: Inventory) -> None:
    by_type = {(r.type, r.name): r for r in inventory.resources}
    bucket = by_type[("gcp.storage.bucket", "acme-assets")]
    assert bucket.uid == "https://www.googleapis.com/storage/v1/b/acme-assets"
    assert bucket.region == f"{PROJECT}/ASIA-NORTHEAST1" and bucket.account == PROJECT
    table = by_type[("gcp.bigquery.table", "sales.orders")]
    assert table.uid == f"//bigquery.googleapis.com/projects/{PROJECT}/datasets/sales/tables/orders"
    assert by_type[("gcp.container.cluster", "shop")].region == f"{PROJECT}/asia-northeast1"
    assert by_type[("gcp.dataproc.cluster", "etl")].uid.endswith("/clusters/0b5e-etl")


@pytest.mark.parametrize(
    ("policy_id", "name", "expected"),
    [
        ("gcp.storage.bucket_not_public", "acme-assets", "fail"),
        ("gcp.storage.bucket_not_public", "acme-invoices", "pass"),
        ("gcp.storage.uniform_bucket_level_access", "acme-logs", "fail"),
        ("gcp.storage.uniform_bucket_level_access", "acme-assets", "pass"),
        ("gcp.sql.mysql_no_anonymous_users", "orders", "fail"),
        ("gcp.sql.mysql_no_anonymous_users", "idle", "not_applicable"),
        ("gcp.sql.mysql_local_infile_off", "orders", "pass"),
        ("gcp.sql.postgres_log_connections_on", "ledger", "fail"),  # unset: default off
        ("gcp.sql.postgres_log_min_duration_statement_disabled", "ledger", "pass"),  # default -1
        ("gcp.sql.postgres_log_connections_on", "orders", "not_applicable"),
        ("gcp.sql.no_open_authorized_networks", "orders", "pass"),
        ("gcp.sql.ssl_required", "orders", "pass"),
        ("gcp.bigquery.dataset_not_public", "open_data", "fail"),
        ("gcp.bigquery.dataset_not_public", "scratch", "pass"),
        ("gcp.bigquery.dataset_default_cmek", "sales", "pass"),
        ("gcp.bigquery.dataset_default_cmek", "scratch", "fail"),
        ("gcp.bigquery.table_cmek", "sales.orders", "pass"),
        ("gcp.bigquery.table_cmek", "sales.customers", "fail"),
        ("gcp.bigquery.table_cmek", "sales.v_orders", "not_applicable"),
        ("gcp.dataproc.cluster_cmek", "etl", "fail"),
        ("gcp.gke.legacy_abac_disabled", "legacy", "fail"),
        ("gcp.gke.legacy_abac_disabled", "shop", "pass"),
        ("gcp.gke.release_channel", "legacy", "fail"),
        ("gcp.gke.node_auto_upgrade", "shop", "pass"),
        ("gcp.artifactregistry.repository_vulnerability_scanning", "web", "fail"),
        ("gcp.artifactregistry.repository_vulnerability_scanning", "apps", "pass"),
        ("gcp.artifactregistry.repository_vulnerability_scanning", "libs", "not_applicable"),
        ("gcp.artifactregistry.repository_not_public", "web", "fail"),
        ("gcp.artifactregistry.repository_not_public", "apps", "pass"),
    ],
)
def test_policies_judge_collected_documents(
    catalog: Catalog, inventory: Inventory, policy_id: str, name: str, expected: str
) -> None:
    assert _outcome(catalog, inventory, policy_id, name) == expected


def test_a_disabled_api_fails_only_its_type(server: RunningGcp, catalog: Catalog) -> None:
    server.fake.disabled.add((PROJECT, "sqladmin"))
    try:
        inventory = _collect(server, catalog)
    finally:
        server.fake.disabled.discard((PROJECT, "sqladmin"))
    failed = {f.resource_type: f for f in inventory.failures}
    assert set(failed) == {"gcp.sqladmin.instance"}
    assert "sqladmin.googleapis.com" in failed["gcp.sqladmin.instance"].message
    assert not _docs(inventory, "gcp.sqladmin.instance")
    assert len(_docs(inventory, "gcp.container.cluster")) == 2


def test_buckets_are_listed_per_project(tmp_path: Path, catalog: Catalog) -> None:
    """buckets.list names its project in the query: each project lists only its own buckets,
    and the storage API disabled in one project fails only that project (the local server
    keys the listing by its query)."""

    def setup(fake: FakeGcp) -> None:
        _populate(fake)
        fake.add_project(GcpProject("acme-empty", "520000000002", "organizations/123456789012"))
        fake.add_project(GcpProject("acme-off", "520000000003", "organizations/123456789012"))
        fake.disabled.add(("acme-off", "storage"))

    with gcp_server(tmp_path, setup) as running:
        settings = {
            "projects": [PROJECT, "acme-empty", "acme-off"],
            "key_file": str(running.key_file),
            "root_url": running.url,
            "ca_bundle": str(running.ca_bundle),
        }
        specs = [catalog.specs["gcp.storage.bucket"]]
        inventory = collect("acme-gcp", settings, specs, sleep=lambda _s: None)
    accounts = sorted(r.account for r in inventory.resources)
    assert accounts == [PROJECT] * 3
    assert [(f.resource_type, f.region) for f in inventory.failures] == [
        ("gcp.storage.bucket", "acme-off")
    ]
    assert "storage.googleapis.com" in inventory.failures[0].message
