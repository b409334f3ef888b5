"""Effective org-unit settings from Cloud Identity policies: inheritance and overrides."""

from __future__ import annotations

from typing import Any

from posture.connectors.gws.inheritance import resolve, with_root


def unit(
    path: str, uid: str, parent: str | None = None, parent_id: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"orgUnitPath": path, "orgUnitId": f"id:{uid}", "name": path}
    if parent:
        out |= {"parentOrgUnitPath": parent, "parentOrgUnitId": f"id:{parent_id}"}
    return out


def policy(ou: str, setting: str, value: dict[str, Any], **query: Any) -> dict[str, Any]:
    return {
        "policyQuery": {"orgUnit": f"orgUnits/{ou}", **query},
        "setting": {"type": f"settings/{setting}", "value": value},
    }


TREE = [
    unit("/", "r"),
    unit("/Sales", "s", "/", "r"),
    unit("/Sales/EMEA", "e", "/Sales", "s"),
    unit("/Engineering", "g", "/", "r"),
]
POLICIES = [
    policy("r", "drive_and_docs.external_sharing", {"externalSharingMode": "DISALLOWED"}),
    policy("s", "drive_and_docs.external_sharing", {"externalSharingMode": "ALLOWED"}),
    {
        "policyQuery": {"group": "groups/x", "sortOrder": 9},
        "setting": {
            "type": "settings/drive_and_docs.external_sharing",
            "value": {"externalSharingMode": "ALLOWED"},
        },
    },
]


def resolved(units: list[dict[str, Any]], policies: list[dict[str, Any]]) -> dict[str, Any]:
    docs = [{**u, "policies": policies} for u in units]
    return {d["orgUnitPath"]: d for d in resolve(with_root(docs, "C1"))}


def mode(doc: dict[str, Any]) -> str:
    return str(doc["settings"]["drive_and_docs"]["external_sharing"]["externalSharingMode"])


def test_child_without_its_own_policy_inherits_the_parent() -> None:
    out = resolved(TREE, POLICIES)
    assert mode(out["/Engineering"]) == "DISALLOWED"
    assert out["/Engineering"]["inherited_from"] == {"drive_and_docs": {"external_sharing": "/"}}


def test_child_override_wins_and_is_passed_down() -> None:
    out = resolved(TREE, POLICIES)
    assert mode(out["/Sales"]) == "ALLOWED"
    assert out["/Sales"]["inherited_from"] == {}
    assert mode(out["/Sales/EMEA"]) == "ALLOWED"
    assert out["/Sales/EMEA"]["inherited_from"]["drive_and_docs"]["external_sharing"] == "/Sales"


def test_group_policies_do_not_change_org_units_and_raw_policies_are_dropped() -> None:
    out = resolved(TREE, POLICIES)
    assert mode(out["/"]) == "DISALLOWED"
    assert all("policies" not in d for d in out.values())


def test_a_missing_root_is_added_so_its_defaults_resolve() -> None:
    out = resolved(TREE[1:], POLICIES)
    assert set(out) == {"/", "/Sales", "/Sales/EMEA", "/Engineering"}
    assert mode(out["/Engineering"]) == "DISALLOWED"


def test_unset_settings_stay_absent() -> None:
    out = resolved(TREE, [])
    assert out["/Sales/EMEA"]["settings"] == {}
