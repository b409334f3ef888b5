"""The Google Cloud specs against the discovery documents shipped with the client."""

from __future__ import annotations

from typing import Any

from posture.catalog import load_catalog
from posture.catalog.spec import ResourceSpec
from posture.connectors.gcp.validate import check_specs


def _spec(**overrides: Any) -> ResourceSpec:
    body: dict[str, Any] = {
        "type": "gcp.iam.thing",
        "service": "iam.v1",
        "scope": "project",
        "list": {
            "call": "projects.serviceAccounts.list",
            "args": {"name": "projects/{project_id}"},
            "items": "accounts",
        },
        "uid": "{name}",
        "permissions": ["iam.serviceAccounts.list"],
    }
    body.update(overrides)
    return ResourceSpec.model_validate(body)


def test_builtin_gcp_specs_match_discovery() -> None:
    catalog = load_catalog()
    assert any(s.provider == "gcp" for s in catalog.specs.values())
    assert check_specs(catalog.specs.values()) == []


def test_a_correct_spec_has_no_problem() -> None:
    assert check_specs([_spec()]) == []


def test_unknown_method_parameter_and_missing_required_parameter_are_named() -> None:
    problems = check_specs(
        [
            _spec(list={"call": "projects.serviceAccounts.lst", "items": "accounts"}),
            _spec(
                list={
                    "call": "projects.serviceAccounts.list",
                    "args": {"name": "projects/{project_id}", "pagesize": 10},
                    "items": "accounts",
                }
            ),
            _spec(list={"call": "projects.serviceAccounts.list", "items": "accounts"}),
        ]
    )
    assert "gcp.iam.thing: list: iam.v1 has no method 'projects.serviceAccounts.lst'" in problems
    assert any(
        "iam.v1 projects.serviceAccounts.list has no parameter 'pagesize'" in p for p in problems
    )
    assert (
        "gcp.iam.thing: list: iam.v1 projects.serviceAccounts.list needs the parameter 'name'"
        in problems
    )


def test_unknown_api_scope_filter_variable_and_permission_are_named() -> None:
    problems = check_specs(
        [
            _spec(service="iam.v9"),
            _spec(scope="regional"),
            _spec(uid="{name|lastpart}"),
            _spec(uid="{organization_id}/{name}"),
            _spec(permissions=[]),
            _spec(permissions=["roles/iam.securityReviewer"]),
            _spec(enrich=["nope"]),
        ]
    )
    text = "\n".join(problems)
    assert "no discovery document for the Google API 'iam.v9'" in text
    assert "scope must be project or organization, not 'regional'" in text
    assert "unknown template filter 'lastpart'" in text
    assert "'{organization_id}' is only known in organization scope" in text
    assert "declares no IAM permission under 'permissions'" in text
    assert "'roles/iam.securityReviewer' does not look like an IAM permission" in text
    assert "unknown enricher 'nope'" in text


def test_a_body_is_only_accepted_by_methods_taking_one() -> None:
    get = _spec(
        list={
            "call": "projects.getIamPolicy",
            "service": "cloudresourcemanager.v3",
            "args": {"resource": "projects/{project_id}", "body": {}},
            "single": True,
        }
    )
    listing = _spec(
        list={
            "call": "projects.serviceAccounts.list",
            "args": {"name": "projects/{project_id}", "body": {}},
            "items": "accounts",
        }
    )
    problems = check_specs([get, listing])
    assert problems == [
        "gcp.iam.thing: list: iam.v1 projects.serviceAccounts.list takes no request body"
    ]


def test_a_resource_region_names_its_collection_scope() -> None:
    from posture.connectors.inventory import collection_scope

    assert collection_scope("acme-prod") == "acme-prod"
    assert collection_scope("acme-prod/asia-northeast1") == "acme-prod"
    assert collection_scope("organizations/123") == "organizations/123"
    assert collection_scope("organizations/123/global") == "organizations/123"


def test_templates_filters_and_scan_variables() -> None:
    import pytest

    from posture.connectors.gcp.templates import SpecError, render

    name = "projects/p/locations/asia-northeast1/keyRings/r/cryptoKeys/k"
    doc = {
        "name": name,
        "zone": "https://www.googleapis.com/compute/v1/projects/p/zones/us-east1-b",
    }
    assert render("{name|basename}", doc, {}) == "k"
    assert render("{name|location}", doc, {}) == "asia-northeast1"
    assert render("{zone|basename}", doc, {}) == "us-east1-b"
    assert render("projects/{project_id}", doc, {"project_id": "p"}) == "projects/p"
    assert render("{parent.name}/x", {}, {"parent": {"name": "a/b"}}) == "a/b/x"
    assert render({"n": "{count}"}, {"count": 3}, {}) == {
        "n": 3
    }  # a lone placeholder keeps its type
    with pytest.raises(SpecError, match="field 'missing' is missing"):
        render("{missing}", doc, {})
