"""Google Workspace fixes against the local Google server: Groups Settings fixes plan,
apply (resolved on re-scan), roll back to the API's own read and abort on drift; a write
service account refused by the API, or missing a scope in its delegation, leaves the
setting and the finding as they were; what only an administrator may decide or change
(a third-party grant, Admin console settings) is planned as a manual step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httplib2
import pytest
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp

from posture.catalog import Catalog
from posture.localapi.google import GROUP_SETTINGS, RunningGoogle, estate, google_server
from posture.store import Store

from .saas_support import SaasRepair

SALES = "01tuee743"  # sales@example.jp: open to the internet in every way
GRANT = "102/5678.apps.googleusercontent.com"  # carol's Mail Mover with full mail and Drive


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGoogle]:
    with google_server(tmp_path_factory.mktemp("google")) as running:
        running.fake.retry_after = "0"
        yield running


@pytest.fixture
def google(server: RunningGoogle) -> RunningGoogle:
    """The module's server with a fresh customer and nothing refused."""
    fake = server.fake
    fake.data = estate()
    fake.writes.clear()
    fake.read_only.clear()
    fake.forbidden.clear()
    return server


@pytest.fixture
def repair(store: Store, catalog: Catalog, google: RunningGoogle) -> SaasRepair:
    settings = {
        "customer_id": "my_customer",
        "admin_email": "alice@example.jp",
        "key_file": str(google.key_file),
        "root_url": google.url,
        "ca_bundle": str(google.ca_bundle),
        "write": {"key_file": str(google.writer_key_file)},
    }
    return SaasRepair(store, catalog, "gws", "example-jp", settings)


def _settings(google: RunningGoogle, group: str = "sales@example.jp") -> dict[str, Any]:
    """The Groups Settings API's own read of a group, as the scanning service account."""
    creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        str(google.key_file), scopes=[GROUP_SETTINGS], subject="alice@example.jp"
    )
    http = AuthorizedHttp(creds, http=httplib2.Http(ca_certs=str(google.ca_bundle)))
    url = f"{google.url}groups/v1/groups/{group}?alt=json"
    response, content = http.request(url, "GET")
    assert response.status == 200, content
    body: dict[str, Any] = json.loads(content)
    return body


@dataclass(frozen=True)
class Case:
    fix: str
    policy: str
    fields: tuple[str, ...]
    before: Any
    after: Any
    drift: dict[str, str]  # someone else changes the group after the plan


CASES = [
    Case(
        "gws.groupssettings.block_external_members",
        "gws.groupssettings.group_external_members",
        ("allowExternalMembers", "whoCanJoin"),
        {"allowExternalMembers": "true", "whoCanJoin": "ANYONE_CAN_JOIN"},
        {"allowExternalMembers": "false", "whoCanJoin": "ALL_IN_DOMAIN_CAN_JOIN"},
        {"whoCanJoin": "CAN_REQUEST_TO_JOIN"},
    ),
    Case(
        "gws.groupssettings.restrict_message_viewing",
        "gws.groupssettings.group_messages_public",
        ("whoCanViewGroup",),
        "ANYONE_CAN_VIEW",
        "ALL_IN_DOMAIN_CAN_VIEW",
        {"whoCanViewGroup": "ALL_MEMBERS_CAN_VIEW"},
    ),
    Case(
        "gws.groupssettings.restrict_posting",
        "gws.groupssettings.group_posting_open",
        ("whoCanPostMessage",),
        "ANYONE_CAN_POST",
        "ALL_IN_DOMAIN_CAN_POST",
        {"whoCanPostMessage": "ALL_MEMBERS_CAN_POST"},
    ),
    Case(
        "gws.groupssettings.restrict_owner_contact",
        "gws.groupssettings.group_owner_contact_public",
        ("whoCanContactOwner",),
        "ANYONE_CAN_CONTACT",
        "ALL_IN_DOMAIN_CAN_CONTACT",
        {"whoCanContactOwner": "ALL_MEMBERS_CAN_CONTACT"},
    ),
    Case(
        "gws.groupssettings.restrict_discovery",
        "gws.groupssettings.group_discoverable_by_anyone",
        ("whoCanDiscoverGroup",),
        "ANYONE_CAN_DISCOVER",
        "ALL_IN_DOMAIN_CAN_DISCOVER",
        {"whoCanDiscoverGroup": "ALL_MEMBERS_CAN_DISCOVER"},
    ),
]
IDS = [c.fix.split(".", 2)[2] for c in CASES]


def _live(google: RunningGoogle, case: Case) -> Any:
    found = _settings(google)
    if len(case.fields) == 1:
        return found.get(case.fields[0])
    return {name: found.get(name) for name in case.fields}


def _ready(repair: SaasRepair, policy: str, *, write: bool = True) -> None:
    repair.setup([policy], write=write)
    repair.scan([policy])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_plan_shows_the_change_and_changes_nothing(
    repair: SaasRepair, google: RunningGoogle, case: Case
) -> None:
    _ready(repair, case.policy)
    run = repair.plan(case.policy, SALES)
    assert (run.fix_id, run.state) == (case.fix, "planned")
    assert run.before == case.before and run.after == case.after
    assert _live(google, case) == case.before
    assert google.fake.writes == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_apply_resolves_and_rollback_restores_the_apis_read(
    repair: SaasRepair, google: RunningGoogle, case: Case
) -> None:
    _ready(repair, case.policy)
    untouched = _settings(google)
    run = repair.plan(case.policy, SALES)
    repair.approve(run)
    outcome = repair.apply(run)
    assert outcome.run.state == "verified", outcome.run.reason
    assert _live(google, case) == case.after
    finding = repair.finding(case.policy, SALES)
    assert finding.state == "resolved"
    assert repair.events(finding.id)[-1] == ("resolved", "fixed")
    # the write went to the group's own settings, as a patch of the changed fields only
    (method, path, body) = google.fake.writes[0]
    assert (method, path) == ("PATCH", "/groups/v1/groups/sales@example.jp")
    assert set(body) <= set(case.fields)

    back = repair.rollback(outcome.run)
    assert back.run.state == "rolled_back", back.run.reason
    assert _settings(google) == untouched
    assert repair.finding(case.policy, SALES).state == "open"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_group_changed_after_the_plan_aborts_untouched(
    repair: SaasRepair, google: RunningGoogle, case: Case
) -> None:
    _ready(repair, case.policy)
    run = repair.plan(case.policy, SALES)
    repair.approve(run)
    google.fake.data["group_settings"]["sales@example.jp"].update(case.drift)
    changed = _settings(google)
    outcome = repair.apply(run)
    assert outcome.run.state == "aborted"
    assert "changed since the plan" in outcome.run.reason
    assert google.fake.writes == []
    assert _settings(google) == changed


def test_a_group_already_internal_is_not_planned(repair: SaasRepair) -> None:
    _ready(repair, CASES[0].policy)
    with pytest.raises(AssertionError):
        repair.finding(CASES[0].policy, "01tuee742")  # all@example.jp passes: no finding


def test_a_write_account_without_the_scope_changes_nothing_and_names_it(
    repair: SaasRepair, google: RunningGoogle
) -> None:
    case = CASES[0]
    _ready(repair, case.policy)
    run = repair.plan(case.policy, SALES)
    repair.approve(run)
    google.read_only()
    outcome = repair.apply(run)
    assert outcome.run.state in ("rolled_back", "failed")
    reason = outcome.run.reason
    assert "'example-jp'" in reason and "insufficientPermissions" in reason
    assert "fixer@posture-test.iam.gserviceaccount.com" in reason
    assert GROUP_SETTINGS in reason
    assert google.fake.writes == []
    assert _live(google, case) == case.before
    assert repair.finding(case.policy, SALES).state == "open"
    assert not repair.audit("fix.verify")


def test_a_scope_missing_from_the_delegation_is_named_at_plan(
    repair: SaasRepair, google: RunningGoogle
) -> None:
    from posture.errors import FixRefused
    from posture.operations.fixes import plan_fixes

    case = CASES[1]
    _ready(repair, case.policy)
    finding = repair.finding(case.policy, SALES)
    google.fake.writer_granted.discard(GROUP_SETTINGS)
    try:
        with pytest.raises(FixRefused) as refused:
            plan_fixes(repair.ops, repair.tenant, findings=[finding.id])
    finally:
        google.fake.writer_granted.add(GROUP_SETTINGS)
    text = str(refused.value)
    assert "'example-jp'" in text and "unauthorized_client" in text
    assert "fixer@posture-test.iam.gserviceaccount.com" in text and GROUP_SETTINGS in text
    assert google.fake.writes == []
    assert repair.audit("fix.refused")


def test_a_connection_without_write_credentials_is_refused(repair: SaasRepair) -> None:
    from posture.errors import FixRefused
    from posture.operations.fixes import plan_fixes

    _ready(repair, CASES[0].policy, write=False)
    finding = repair.finding(CASES[0].policy, SALES)
    with pytest.raises(FixRefused) as refused:
        plan_fixes(repair.ops, repair.tenant, findings=[finding.id])
    assert "'example-jp'" in str(refused.value) and "write credentials" in str(refused.value)


@pytest.mark.parametrize(
    ("policy", "uid", "fix"),
    [
        ("gws.directory.token_high_risk_scopes", GRANT, "gws.directory.revoke_token"),
        (
            "gws.policy.less_secure_apps_disabled",
            "id:03ph8a2z1",
            "gws.security.disable_less_secure_apps",
        ),
    ],
    ids=["third_party_grant", "admin_console_setting"],
)
def test_what_posture_does_not_change_is_a_manual_step(
    repair: SaasRepair, google: RunningGoogle, policy: str, uid: str, fix: str
) -> None:
    from posture.operations.fixes import plan_fixes

    _ready(repair, policy)
    finding = repair.finding(policy, uid)
    outcome = plan_fixes(repair.ops, repair.tenant, findings=[finding.id])
    assert not outcome.runs
    (step,) = outcome.manual
    assert step.fix_id == fix
    assert "Admin console" in step.recommendation["en"]
    assert "管理コンソール" in step.recommendation["ja"]
    assert google.fake.writes == []


def test_the_write_client_takes_only_documented_methods(google: RunningGoogle) -> None:
    from posture.connectors.gws.settings import GwsSettings
    from posture.connectors.settings import parse_settings
    from posture.remediate import ProviderCallError
    from posture.remediate.workspace import WorkspaceWriteClient

    settings = {
        "admin_email": "alice@example.jp",
        "key_file": str(google.key_file),
        "root_url": google.url,
        "ca_bundle": str(google.ca_bundle),
        "write": {"key_file": str(google.writer_key_file)},
    }
    client = WorkspaceWriteClient("example-jp", parse_settings(GwsSettings, "example-jp", settings))
    with pytest.raises(
        ProviderCallError, match=r"no Google API call groupssettings\.groups_remove"
    ):
        client.call("groupssettings", "groups_remove", {}, region="global")
    found = client.call(
        "groupssettings", "groups_get", {"groupUniqueId": "all@example.jp"}, region="global"
    )
    assert found["whoCanJoin"] == "INVITED_CAN_JOIN"
    assert google.fake.subjects[-1] == "alice@example.jp"  # acting as the administrator
    with pytest.raises(ProviderCallError) as missing:
        client.call(
            "groupssettings", "groups_get", {"groupUniqueId": "none@example.jp"}, region="global"
        )
    assert missing.value.code == "notFound"


def test_plan_and_apply_from_the_command_line(
    repair: SaasRepair, google: RunningGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    from posture.cli import app
    from posture.cli.runtime import run_app
    from posture.operations.fixes import list_fix_runs

    if repair.store.engine.dialect.name != "sqlite":
        pytest.skip("one store kind is enough for the command line")
    url = str(repair.store.engine.url)
    policy = "gws.groupssettings.group_messages_public"
    _ready(repair, policy)

    def cli(actor: str, *args: str) -> tuple[int, str]:
        code = run_app(app, ["--db", url, "--actor", actor, *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, out = cli("alice", "fix", "plan", "--tenant", "acme", "--policy", policy)
    assert code == 0, out
    assert '"ANYONE_CAN_VIEW"' in out and '"ALL_IN_DOMAIN_CAN_VIEW"' in out
    (run,) = list_fix_runs(repair.ops, "acme")
    assert cli("bob", "fix", "approve", run.id)[0] == 0
    code, out = cli("alice", "fix", "apply", run.id, "--yes")
    assert code == 0 and f"fix run {run.id}: verified" in out, out
    assert _settings(google)["whoCanViewGroup"] == "ALL_IN_DOMAIN_CAN_VIEW"
