"""The test documents of the storage, Cloud SQL, BigQuery, Dataproc, GKE and Artifact Registry
policies use only fields Google's APIs send.

Each case's resource is walked against the discovery document the client ships: the listed
item's schema for the top-level fields, and the detail's response schema for the fields under a
detail's name. A misspelt or invented field would let a case pass on a shape Google never
returns.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from googleapiclient.discovery_cache import get_static_doc

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies" / "gcp"

# resource type -> (API, schema of a listed item, {detail: schema of its answer, list item if [])})
SHAPES: dict[str, tuple[str, str, dict[str, str]]] = {
    "gcp.storage.bucket": ("storage.v1", "Bucket", {"iam_policy": "Policy"}),
    "gcp.sqladmin.instance": ("sqladmin.v1beta4", "DatabaseInstance", {"users": "[]User"}),
    "gcp.container.cluster": ("container.v1", "Cluster", {}),
    "gcp.bigquery.dataset": ("bigquery.v2", "DatasetList.datasets[]", {"dataset": "Dataset"}),
    "gcp.bigquery.table": ("bigquery.v2", "TableList.tables[]", {"table": "Table"}),
    "gcp.dataproc.cluster": ("dataproc.v1", "Cluster", {}),
    "gcp.artifactregistry.repository": (
        "artifactregistry.v1",
        "Repository",
        {"iam_policy": "Policy"},
    ),
}


@cache
def _schemas(api: str) -> dict[str, Any]:
    name, _, version = api.partition(".")
    text = get_static_doc(name, version)
    assert text, f"no discovery document for {api}"
    schemas: dict[str, Any] = json.loads(text)["schemas"]
    return schemas


def _schema(api: str, ref: str) -> dict[str, Any]:
    """``Name`` or ``Name.property[]`` (the items of an inline list property)."""
    name, _, prop = ref.partition(".")
    node: dict[str, Any] = _schemas(api)[name]
    if prop:
        node = node["properties"][prop.rstrip("[]")]["items"]
    return node


def _unknown(api: str, schema: dict[str, Any], value: Any, path: str) -> list[str]:
    """Paths in ``value`` that ``schema`` does not define."""
    if "$ref" in schema:
        schema = _schemas(api)[schema["$ref"]]
    if isinstance(value, list):
        items = schema.get("items")
        if items is None:
            return [f"{path} is a list, the API sends {schema.get('type')}"]
        return [p for i, v in enumerate(value) for p in _unknown(api, items, v, f"{path}[{i}]")]
    if not isinstance(value, dict):
        return []
    props = schema.get("properties")
    if props is None:  # a map (additionalProperties) or a free-form object
        return []
    out = []
    for key, inner in value.items():
        if key not in props:
            out.append(f"{path}.{key}".lstrip("."))
        else:
            out += _unknown(api, props[key], inner, f"{path}.{key}".lstrip("."))
    return out


def _cases() -> list[Any]:
    out = []
    for path in sorted(POLICIES.rglob("*.yaml")):
        policy = yaml.safe_load(path.read_text())
        if policy["resource"] not in SHAPES:
            continue
        for case in policy["tests"]:
            out.append(
                pytest.param(
                    policy["resource"], case["resource"], id=f"{path.stem}::{case['name']}"
                )
            )
    return out


CASES = _cases()


def test_every_data_type_has_cases() -> None:
    assert {c.values[0] for c in CASES} == set(SHAPES)


@pytest.mark.parametrize(("resource_type", "document"), CASES)
def test_case_fields_exist_in_the_api(resource_type: str, document: dict[str, Any]) -> None:
    api, item, details = SHAPES[resource_type]
    problems = []
    for key, value in document.items():
        if key in details:
            if value is None:
                continue
            ref = details[key]
            schema = {"items": _schema(api, ref[2:])} if ref.startswith("[]") else _schema(api, ref)
            problems += _unknown(api, schema, value, key)
        else:
            problems += _unknown(api, _schema(api, item), {key: value}, "")
    assert not problems, f"fields the API does not send: {problems}"


def test_the_walker_flags_an_invented_field() -> None:
    api, item, _ = SHAPES["gcp.container.cluster"]
    found = _unknown(api, _schema(api, item), {"nodePools": [{"config": {"secureBoot": True}}]}, "")
    assert found == ["nodePools[0].config.secureBoot"]
