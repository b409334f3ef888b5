"""Reports API events, Policy API rules and group settings, and admin domains, collected by
the real google-api-python-client from the local Google server."""

from __future__ import annotations

from typing import Any

from posture.catalog.spec import ResourceSpec
from posture.connectors.gws.entry import collect, required_scopes
from posture.connectors.inventory import Inventory
from posture.localapi.google import REPORTS_RO, USAGE_RO, RunningGoogle

NEW = {
    "gws.reports.user_security_events",
    "gws.policy.rules",
    "gws.policy.group_settings",
    "gws.directory.role_assignment",
    "gws.reports.admin_setting_changes",
    "gws.reports.user_usage",
}


def docs(inventory: Inventory, kind: str) -> dict[str, dict[str, Any]]:
    return {r.name: r.data for r in inventory.resources if r.type == kind}


def only(specs: list[ResourceSpec], *kinds: str) -> list[ResourceSpec]:
    return [s for s in specs if s.type in kinds]


def test_security_events_per_user_within_the_window(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.page_size = 1  # every listing pages, the activities included
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.reports.user_security_events"))
    assert inventory.failures == []
    users = docs(inventory, "gws.reports.user_security_events")
    assert len(users) == 6
    carol = users["carol@example.jp"]
    assert carol["warning_event_names"] == ["suspicious_login"]
    assert carol["warning_events"][0]["parameters"]["affected_email_address"] == "carol@example.jp"
    assert carol["forwarding_destinations"] == ["carol.private@mail.example.org"]
    assert users["bob@example.jp"]["warning_event_names"] == ["gov_attack_warning"]
    # alice's suspicious login is 60 days old: outside the 30-day window; her login_success
    # is not a warning event
    assert users["alice@example.jp"]["warning_events"] == []
    assert users["alice@example.jp"]["forwarding_destinations"] == []
    made = google.fake.requests
    reports = [r for r in made if r.startswith("GET /admin/reports/v1/activity/users/all/")]
    # one listing per event name, each bounded by startTime
    login = [r for r in reports if "/applications/login?" in r]
    assert len({r.split("eventName=")[1].split("&")[0] for r in login}) == 6
    assert all("startTime=" in r for r in reports)
    assert any("pageToken=" in r for r in made if r.startswith("GET /admin/directory/v1/users?"))
    assert len(made) == len(set(made))


def test_activities_page_by_page_token(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.page_size = 1
    extra = dict(google.fake.data["activities"]["user_accounts"][0])
    extra["id"] = {**extra["id"], "uniqueQualifier": "42"}
    extra["actor"] = {"email": "bob@example.jp", "profileId": "2"}
    google.fake.data["activities"]["user_accounts"].append(extra)
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.reports.user_security_events"))
    users = docs(inventory, "gws.reports.user_security_events")
    assert users["bob@example.jp"]["forwarding_destinations"] == ["carol.private@mail.example.org"]
    assert users["carol@example.jp"]["forwarding_destinations"] == [
        "carol.private@mail.example.org"
    ]
    pages = [r for r in google.fake.requests if "/applications/user_accounts?" in r]
    assert len(pages) == 2 and any("pageToken=1" in r for r in pages)


def test_rules_are_one_document_and_left_out_of_org_unit_settings(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    kinds = ("gws.policy.rules", "gws.policy.org_unit_settings")
    inventory = collect("acme-gws", settings, only(gws_specs, *kinds))
    assert inventory.failures == []
    [rules] = docs(inventory, "gws.policy.rules").values()
    names = [a["displayName"] for a in rules["alerts"]]
    assert names == ["Government-backed attacks", "Suspicious login", "User's password changed"]
    assert rules["alerts"][1]["state"] == "ACTIVE"
    assert rules["alerts"][1]["orgUnit"] == "orgUnits/03ph8a2z0"
    assert rules["dlp"][0]["triggers"] == ["google.workspace.drive.file.v1.share"]
    root = docs(inventory, "gws.policy.org_unit_settings")["/"]
    assert "rule" not in root["settings"]
    # the listing is shared: made once for both types
    assert len([r for r in google.fake.requests if r.startswith("GET /v1/policies")]) == 7


def test_group_settings_hold_only_group_scoped_values(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.policy.group_settings"))
    groups = docs(inventory, "gws.policy.group_settings")
    assert groups["sales@example.jp"]["settings"] == {
        "gmail": {"auto_forwarding": {"enableAutoForwarding": True}},
        "security": {"less_secure_apps": {"allowLessSecureApps": True}},
    }
    assert groups["all@example.jp"]["settings"] == {
        "drive_and_docs": {"external_sharing": {"externalSharingMode": "DISALLOWED"}}
    }
    assert "policies" not in groups["sales@example.jp"]


def test_role_assignments_know_the_customer_domains(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.directory.role_assignment"))
    found = {r.uid: r.data for r in inventory.resources}
    assert found["91705169967841"]["assignee_in_customer_domains"] is True
    assert found["91705169967841"]["customer_domains"] == [
        "example.co.jp",
        "example.jp",
        "example.net",
        "example.org",
    ]
    outsider = found["91705169967844"]
    assert outsider["assignee_domain"] == "contractor.example.com"
    assert outsider["assignee_in_customer_domains"] is False
    assert "domains" not in outsider


def test_missing_reports_scope_fails_only_the_reports_type(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.forbidden.add("/admin/reports/")
    inventory = collect("acme-gws", settings, gws_specs)
    assert {f.resource_type for f in inventory.failures} == {
        "gws.reports.user_security_events",
        "gws.reports.admin_setting_changes",
        "gws.reports.user_usage",
    }
    for failure in inventory.failures:
        assert failure.code == "insufficient_scope"
        if failure.resource_type == "gws.reports.user_usage":
            assert failure.permission == USAGE_RO
            assert "userUsageReport.get" in failure.message
            continue
        assert failure.permission == REPORTS_RO  # not the users scope the type also has
        assert REPORTS_RO in failure.message and "activities.list" in failure.message
    assert "gws.directory.user" in {r.type for r in inventory.resources}


def test_new_scopes_are_listed_for_the_delegation(gws_specs: list[ResourceSpec]) -> None:
    assert {REPORTS_RO, USAGE_RO} <= set(required_scopes(gws_specs))
    assert {s.type for s in gws_specs} >= NEW


def test_admin_setting_changes_keep_the_latest_per_org_unit(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.reports.admin_setting_changes"))
    assert inventory.failures == []
    [doc] = docs(inventory, "gws.reports.admin_setting_changes").values()
    found = {(c["setting"].split()[0], c["target"]): c for c in doc["changes"]}
    assert set(found) == {
        ("OutOfDomainWarningProto", "/Sales"),
        ("OutOfDomainWarningProto", "/"),
        ("AttachmentDeepScanningSettingsProto", "/"),
    }  # the 200-day-old change is outside the window
    assert found[("OutOfDomainWarningProto", "/Sales")]["new_value"] == "true"
    assert found[("AttachmentDeepScanningSettingsProto", "/")]["event"] == (
        "CREATE_APPLICATION_SETTING"
    )
    admin = [r for r in google.fake.requests if "/applications/admin?" in r]
    assert {r.split("eventName=")[1].split("&")[0] for r in admin} == {
        "CHANGE_APPLICATION_SETTING",
        "CREATE_APPLICATION_SETTING",
        "DELETE_APPLICATION_SETTING",
    }


def test_no_admin_changes_still_give_one_document(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.data["activities"]["admin"] = []
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.reports.admin_setting_changes"))
    [doc] = docs(inventory, "gws.reports.admin_setting_changes").values()
    assert doc["changes"] == []


def test_usage_report_of_one_day_per_user(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.reports.user_usage"))
    assert inventory.failures == []
    users = docs(inventory, "gws.reports.user_usage")
    assert users["alice@example.jp"]["emails_sent"] == 12
    assert users["bob@example.jp"]["emails_sent"] == 0  # omitted by the report: zero
    pages = [r for r in google.fake.requests if "/usage/users/all/dates/" in r]
    assert len(pages) == 3  # six reports in pages of two, followed by pageToken
    request = pages[0]
    day = request.split("/dates/")[1].split("?")[0]
    assert users["alice@example.jp"]["usage_date"] == day
    assert "parameters=gmail%3Anum_emails_sent" in request


def test_usage_not_yet_available_is_null_not_zero(
    google: RunningGoogle, settings: dict[str, Any], gws_specs: list[ResourceSpec]
) -> None:
    google.fake.usage_available = False
    inventory = collect("acme-gws", settings, only(gws_specs, "gws.reports.user_usage"))
    assert inventory.failures == []
    users = docs(inventory, "gws.reports.user_usage")
    assert users["alice@example.jp"]["emails_sent"] is None
    assert users["alice@example.jp"]["usage"] is None
