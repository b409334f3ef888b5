"""Organization connections against moto_server: member accounts read through a member role.

moto lets any role be assumed, even one that does not exist; the ``missing_roles`` fixture
makes STS answer as AWS does for a role that is not there (AccessDenied), by checking the
target account's IAM roles in moto's backend (the server runs in this process). moto also
knows only some of the services AWS lets a member account administer; the ``org`` fixture
adds Security Hub, Inspector, Config and CloudTrail, which AWS accepts.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlmodel import select

from posture.catalog import Catalog, load_catalog
from posture.connectors.aws import entry
from posture.connectors.aws.organization import MemberAccount, select_accounts
from posture.connectors.aws.session import AwsSettings
from posture.errors import ConfigurationError
from posture.scan import run_scan
from posture.store import Connection, Finding, ScanTarget, Store, Tenant

from .helpers import open_ssh_group

MANAGEMENT = "123456789012"  # moto's default account: the one the test credentials sign in to
ROLE = "PostureScan"
EXTERNAL_ID = "acme-7f3a"
REGION = "ap-northeast-1"
POLICIES = {
    "bucket_blocks_public_acls": """
        id: aws.orgtest.bucket_blocks_public_acls
        resource: aws.s3.bucket
        severity: high
        title: {en: Bucket allows public ACLs, ja: バケットがパブリック ACL を許可しています}
        rationale: {en: Public ACLs expose data., ja: パブリック ACL はデータを公開します。}
        recommendation: {en: Enable block public access., ja: パブリックアクセスのブロックを有効にしてください。}
        statement: {en: "Bucket {{ Name }} allows public ACLs", ja: "バケット {{ Name }} はパブリック ACL を許可しています"}
        condition: {path: public_access_block.BlockPublicAcls, eq: true}
        tests:
          - {name: blocked, expect: pass, resource: {public_access_block: {BlockPublicAcls: true}}}
          - name: open
            expect: fail
            statement: {en: "Bucket logs allows public ACLs", ja: "バケット logs はパブリック ACL を許可しています"}
            resource: {Name: logs, public_access_block: null}
        """,
    "sg_no_ssh_from_internet": """
        id: aws.orgtest.sg_no_ssh_from_internet
        resource: aws.ec2.security_group
        severity: critical
        title: {en: SSH open to the internet, ja: SSH がインターネットに公開されています}
        rationale: {en: Exposed SSH is attacked., ja: 公開された SSH は攻撃されます。}
        recommendation: {en: Restrict the source., ja: 送信元を制限してください。}
        statement: {en: "Group {{ GroupId }} allows SSH from anywhere", ja: "グループ {{ GroupId }} はどこからでも SSH を許可しています"}
        condition:
          path: IpPermissions
          no_item:
            all:
              - {path: FromPort, le: 22}
              - {path: ToPort, ge: 22}
              - {path: IpRanges, any_item: {path: CidrIp, eq: 0.0.0.0/0}}
        tests:
          - {name: closed, expect: pass, resource: {IpPermissions: []}}
          - name: open
            expect: fail
            statement: {en: "Group sg-1 allows SSH from anywhere", ja: "グループ sg-1 はどこからでも SSH を許可しています"}
            resource: {GroupId: sg-1, IpPermissions: [{FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 0.0.0.0/0}]}]}
        """,
}
ACCOUNT_POLICIES = ["aws.orgtest"]
ORG_POLICIES = [
    "aws.organizations.scp_enabled",
    "aws.organizations.scp_guardrails_attached",
    "aws.organizations.security_services_delegated",
    "aws.organizations.security_services_trusted_access",
]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        }
    ],
}


@pytest.fixture(scope="module")
def org_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("policies") / "aws" / "orgtest"
    folder.mkdir(parents=True)
    for name, text in POLICIES.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_catalog([], [folder.parent.parent])  # the built-in content plus these


@pytest.fixture
def missing_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """AssumeRole of a role that does not exist answers AccessDenied, as AWS does."""
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    original = STSBackend.assume_role

    def assume_role(self: STSBackend, **kwargs: Any) -> Any:
        arn = kwargs["role_arn"]
        account = arn.split(":")[4]
        name = arn.rsplit("/", 1)[-1]
        if account != MANAGEMENT and name not in {
            r.name for r in iam_backends[account]["aws"].roles.values()
        }:
            raise STSClientError(
                "AccessDenied",
                f"User: arn:aws:iam::{MANAGEMENT}:user/scanner is not authorized to perform: "
                f"sts:AssumeRole on resource: {arn}",
            )
        return original(self, **kwargs)

    monkeypatch.setattr(STSBackend, "assume_role", assume_role)


@dataclass
class Org:
    endpoint: str
    accounts: dict[str, str] = field(default_factory=dict)  # name -> id
    sandbox_ou: str = ""
    root: str = ""

    def session(self, name: str) -> boto3.session.Session:
        """Credentials inside a member account (moto keys them by the role's account)."""
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=self.endpoint)
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{self.accounts[name]}:role/OrganizationAccountAccessRole",
            RoleSessionName="setup",
        )["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        )

    def client(self, name: str, service: str, region: str = "us-east-1") -> Any:
        return self.session(name).client(service, region_name=region, endpoint_url=self.endpoint)

    def add_role(self, name: str) -> None:
        self.client(name, "iam").create_role(
            RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST)
        )

    def remove_role(self, name: str) -> None:
        self.client(name, "iam").delete_role(RoleName=ROLE)


@pytest.fixture
def org(moto_url: str, missing_roles: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    """An organisation of three members: dev and prod with the member role, sandbox (in an
    OU of its own) without it; each has an open bucket and an open SSH group."""
    from moto.organizations.models import FakeDelegatedAdministrator

    added = [f"{s}.amazonaws.com" for s in ("securityhub", "inspector2", "config", "cloudtrail")]
    supported = [*FakeDelegatedAdministrator.SUPPORTED_SERVICES, *added]
    monkeypatch.setattr(FakeDelegatedAdministrator, "SUPPORTED_SERVICES", supported)
    orgs = boto3.client("organizations", region_name="us-east-1", endpoint_url=moto_url)
    orgs.create_organization(FeatureSet="ALL")
    found = Org(moto_url)
    found.root = orgs.list_roots()["Roots"][0]["Id"]
    for name in ("dev", "prod", "sandbox"):
        status = orgs.create_account(AccountName=name, Email=f"{name}@example.com")
        found.accounts[name] = status["CreateAccountStatus"]["AccountId"]
    ou = orgs.create_organizational_unit(ParentId=found.root, Name="Sandbox")
    found.sandbox_ou = ou["OrganizationalUnit"]["Id"]
    orgs.move_account(
        AccountId=found.accounts["sandbox"],
        SourceParentId=found.root,
        DestinationParentId=found.sandbox_ou,
    )
    for name in found.accounts:
        found.client(name, "s3").create_bucket(Bucket=f"acme-{name}-open")
        open_ssh_group(found.client(name, "ec2", REGION), f"{name}-bastion")
    found.add_role("dev")
    found.add_role("prod")
    yield found


def settings(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "regions": [REGION],
        "organization": True,
        "member_role_name": ROLE,
        "external_id": EXTERNAL_ID,
        **extra,
    }


def make_tenant(store: Store, connection_settings: dict[str, Any]) -> None:
    with store.session() as session:
        tenant = Tenant(slug="acme", name="Acme Japan")
        session.add(tenant)
        session.flush()
        session.add(
            Connection(
                tenant_id=tenant.id, name="org", provider="aws", settings=connection_settings
            )
        )


def open_findings(store: Store) -> dict[str, Finding]:
    with store.session() as session:
        return {f.resource_uid: f for f in session.exec(select(Finding)) if f.state == "open"}


def bucket(name: str) -> str:
    return f"arn:aws:s3:::acme-{name}-open"


def test_unreachable_account_is_a_failed_scope_of_that_account_only(
    store: Store, org: Org, org_catalog: Catalog
) -> None:
    make_tenant(store, settings(org.endpoint))
    outcome = run_scan(store, org_catalog, "acme", policy_ids=ACCOUNT_POLICIES)
    target = outcome.targets[0]
    assert outcome.status == "partial" and target.status == "partial"
    found = open_findings(store)
    buckets = {uid for uid, f in found.items() if f.resource_type == "aws.s3.bucket"}
    assert buckets == {bucket("dev"), bucket("prod")}
    groups = {
        f.resource_uid.split(":")[4] for f in found.values() if "security-group" in f.resource_uid
    }
    assert groups == {org.accounts["dev"], org.accounts["prod"]}
    sandbox = org.accounts["sandbox"]
    role = f"arn:aws:iam::{sandbox}:role/{ROLE}"
    # the failed scope names the account, its name, the role and the error code
    assert any(
        f"{sandbox}/*" in line and "(sandbox)" in line and role in line and "AccessDenied" in line
        for line in target.failures
    )
    assert "3 of 4 account(s) read" in target.message and sandbox in target.message
    with store.session() as session:
        (row,) = session.exec(select(ScanTarget))
        accounts = {a["id"]: a for a in row.stats["accounts"]}
        conn = session.exec(select(Connection)).one()
        assert conn.health == "partial" and sandbox in conn.health_message
        assert conn.account == MANAGEMENT
    assert set(accounts) == {MANAGEMENT, *org.accounts.values()}
    assert accounts[sandbox]["status"] == "failed" and accounts[sandbox]["code"] == "AccessDenied"
    assert accounts[sandbox]["role_arn"] == role
    assert accounts[org.accounts["dev"]]["status"] == "scanned"
    assert accounts[org.accounts["dev"]]["regions"] == [REGION]
    assert accounts[MANAGEMENT]["role_arn"] == ""  # read with the connection's credentials
    # each policy reports an error for the unreadable account, not a pass
    assert target.results["error"] == 2
    # usage counts the member accounts read: the management account, dev and prod
    from posture.operations.context import Operations
    from posture.operations.usage import tenant_usage

    (usage,) = tenant_usage(Operations.using(store), "acme")
    assert usage.aws_accounts == 3 and usage.connections_scanned == 1


def test_findings_of_an_account_that_becomes_unreachable_stay_open(
    store: Store, org: Org, org_catalog: Catalog
) -> None:
    org.add_role("sandbox")
    make_tenant(store, settings(org.endpoint))
    first = run_scan(store, org_catalog, "acme", policy_ids=ACCOUNT_POLICIES)
    assert first.status == "succeeded", first.targets[0].failures
    before = open_findings(store)
    assert bucket("sandbox") in before and len(before) == 6

    org.remove_role("sandbox")
    # dev fixes its bucket: judged and resolved; sandbox is not read: kept as it was
    org.client("dev", "s3").put_public_access_block(
        Bucket="acme-dev-open",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    second = run_scan(store, org_catalog, "acme", policy_ids=ACCOUNT_POLICIES)
    assert second.status == "partial"
    after = open_findings(store)
    assert bucket("dev") not in after
    sandbox_uids = {uid for uid in before if org.accounts["sandbox"] in uid} | {bucket("sandbox")}
    assert sandbox_uids <= set(after)
    assert all(after[uid].last_scan_id == before[uid].last_scan_id for uid in sandbox_uids)
    assert second.targets[0].lifecycle.resolved == 1


def test_concurrent_accounts_do_not_duplicate_findings(
    store: Store, org: Org, org_catalog: Catalog
) -> None:
    org.add_role("sandbox")
    make_tenant(store, settings(org.endpoint, max_concurrent_accounts=3))
    for _ in range(2):
        outcome = run_scan(store, org_catalog, "acme", policy_ids=ACCOUNT_POLICIES)
        assert outcome.status == "succeeded"
    with store.session() as session:
        every = list(session.exec(select(Finding)))
    assert len(every) == 6 == len({f.id for f in every})
    assert outcome.targets[0].lifecycle.still_open == 6 and outcome.targets[0].lifecycle.new == 0


def test_include_and_exclude_filters(store: Store, org: Org, org_catalog: Catalog) -> None:
    inventory = entry.collect(
        "org",
        settings(org.endpoint, exclude_ous=[org.sandbox_ou], exclude_accounts=[MANAGEMENT]),
        [org_catalog.specs["aws.s3.bucket"]],
    )
    assert {r.uid for r in inventory.resources} == {bucket("dev"), bucket("prod")}
    assert not inventory.failures  # sandbox, below the excluded OU, is not even tried
    assert {a["id"] for a in inventory.accounts} == {org.accounts["dev"], org.accounts["prod"]}
    only = entry.collect(
        "org",
        settings(org.endpoint, include_accounts=[org.accounts["prod"]]),
        [org_catalog.specs["aws.s3.bucket"]],
    )
    assert {r.uid for r in only.resources} == {bucket("prod")}


def test_select_accounts_combines_the_filters() -> None:
    accounts = [
        MemberAccount("111111111111", "a"),
        MemberAccount("222222222222", "b", ("ou-ab12-11111111",)),
        MemberAccount("333333333333", "c", ("ou-ab12-11111111", "ou-ab12-22222222")),
    ]
    base = {"organization": True, "member_role_name": ROLE}
    pick = lambda **kw: [a.id for a in select_accounts(accounts, AwsSettings(**base, **kw))]  # noqa: E731
    assert pick() == ["111111111111", "222222222222", "333333333333"]
    assert pick(exclude_ous=["ou-ab12-22222222"]) == ["111111111111", "222222222222"]
    assert pick(exclude_ous=["ou-ab12-11111111"]) == ["111111111111"]
    assert pick(
        include_accounts=["333333333333", "111111111111"], exclude_accounts=["111111111111"]
    ) == ["333333333333"]


def test_organisation_settings_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="member_role_name"):
        entry.parse_settings("org", {"organization": True})
    with pytest.raises(ConfigurationError, match="only used by an organization"):
        entry.parse_settings("acct", {"exclude_accounts": ["111111111111"]})
    with pytest.raises(ConfigurationError, match="12-digit"):
        entry.parse_settings(
            "org", {"organization": True, "member_role_name": ROLE, "include_accounts": ["1234"]}
        )
    with pytest.raises(ConfigurationError, match="organizational unit"):
        entry.parse_settings(
            "org", {"organization": True, "member_role_name": ROLE, "exclude_ous": ["r-ab12"]}
        )


def test_check_lists_accounts_and_roles(org: Org) -> None:
    info = entry.check("org", settings(org.endpoint))
    accounts = {a["id"]: a for a in info["accounts"]}
    assert accounts[org.accounts["dev"]]["status"] == "scanned"
    assert accounts[org.accounts["sandbox"]]["status"] == "failed"
    assert accounts[org.accounts["sandbox"]]["code"] == "AccessDenied"
    assert info["healthy"] is False
    assert "4 active account(s), 4 selected, member role usable in 3 of 4" in info["summary"]


def test_organisation_level_policies(store: Store, org: Org, org_catalog: Catalog) -> None:
    make_tenant(store, settings(org.endpoint, include_accounts=[MANAGEMENT]))
    outcome = run_scan(store, org_catalog, "acme", policy_ids=ORG_POLICIES)
    assert outcome.status == "succeeded", outcome.targets[0].failures
    with store.session() as session:
        rows = [f for f in session.exec(select(Finding)) if f.state == "open"]
    failing = {f.policy_id for f in rows}
    # the root has no policy type enabled, only FullAWSAccess exists, nothing is delegated
    assert failing == set(ORG_POLICIES)
    (delegated,) = (f for f in rows if f.policy_id.endswith("security_services_delegated"))
    assert delegated.statement["en"].endswith(
        "no delegated administrator for GuardDuty, Security Hub, Inspector, Macie, "
        "IAM Access Analyzer, Config, CloudTrail"
    )

    orgs = boto3.client("organizations", region_name="us-east-1", endpoint_url=org.endpoint)
    scp = orgs.create_policy(
        Name="deny-leave-org",
        Description="guardrail",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
                ],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    orgs.enable_policy_type(RootId=org.root, PolicyType="SERVICE_CONTROL_POLICY")
    orgs.attach_policy(PolicyId=scp, TargetId=org.root)
    security = org.accounts["prod"]
    for principal in (
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "inspector2.amazonaws.com",
        "macie.amazonaws.com",
        "access-analyzer.amazonaws.com",
        "config.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ):
        orgs.enable_aws_service_access(ServicePrincipal=principal)
        orgs.register_delegated_administrator(AccountId=security, ServicePrincipal=principal)
    outcome = run_scan(store, org_catalog, "acme", policy_ids=ORG_POLICIES)
    assert outcome.status == "succeeded"
    assert open_findings(store) == {}
    assert outcome.targets[0].lifecycle.resolved == 4


def test_single_account_connection_does_not_read_the_organisation(
    store: Store, org: Org, org_catalog: Catalog
) -> None:
    make_tenant(store, {"endpoint_url": org.endpoint, "regions": [REGION]})
    outcome = run_scan(store, org_catalog, "acme", policy_ids=ORG_POLICIES)
    target = outcome.targets[0]
    assert target.status == "succeeded" and target.api_calls <= 2  # sign-in only
    assert target.results == {"not_applicable": len(ORG_POLICIES)}
    with store.session() as session:
        (row,) = session.exec(select(ScanTarget))
    assert "organizations" not in json.dumps(row.stats["types"])
    assert {n["resource_type"] for n in row.stats["not_applicable"]} >= {
        "aws.organizations.organization",
        "aws.organizations.scps",
    }


def test_listing_the_accounts_denied_fails_the_connection(
    store: Store, org: Org, org_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judging only some accounts would resolve the others' findings: the connection fails."""
    from moto.organizations.exceptions import OrganizationsClientError
    from moto.organizations.models import OrganizationsBackend

    def denied(self: OrganizationsBackend, **_: Any) -> Any:
        raise OrganizationsClientError(
            "AccessDeniedException", "You don't have permissions to access this resource."
        )

    monkeypatch.setattr(OrganizationsBackend, "list_accounts", denied)
    make_tenant(store, settings(org.endpoint))
    outcome = run_scan(store, org_catalog, "acme", policy_ids=ACCOUNT_POLICIES)
    target = outcome.targets[0]
    assert target.status == "failed" and target.reason == "permission_denied"
    assert "could not be listed" in target.message and "AccessDeniedException" in target.message


def cli(*args: str, db: str | None = None) -> int:
    from posture.cli import app
    from posture.cli.runtime import run_app

    return run_app(app, [*(["--db", db] if db else []), *args])


def test_permissions_name_both_sides(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli("connection", "permissions", "aws", "--organization", "--member-role-name", ROLE) == 0
    )
    management, _, member = capsys.readouterr().out.partition("# member role")
    assert "organizations:ListAccounts" in management
    assert "organizations:ListDelegatedAdministrators" in management
    assert "iam:ListOrganizationsFeatures" in management
    assert f"sts:AssumeRole on arn:aws:iam::*:role/{ROLE}" in management
    assert "s3:ListAllMyBuckets" in member and "organizations:" not in member
    assert cli("connection", "permissions", "aws", "--organization", "--json") == 0
    docs = json.loads(capsys.readouterr().out)
    assume = docs["management"]["Statement"][1]
    assert assume["Action"] == ["sts:AssumeRole"]
    assert assume["Resource"] == "arn:aws:iam::*:role/ROLE_NAME"
    assert not any(a.startswith("organizations:") for a in docs["member"]["Statement"][0]["Action"])
    assert cli("connection", "permissions", "m365", "--organization") == 2


def test_cli_adds_and_checks_an_organisation(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli("tenant", "add", "acme", "--name", "Acme", db=db) == 0
    added = cli(
        "connection", "add", "aws", "--tenant", "acme", "--name", "org",
        "--endpoint-url", org.endpoint, "--region", REGION, "--organization",
        "--member-role-name", ROLE, "--external-id", EXTERNAL_ID,
        "--exclude-account", org.accounts["dev"], db=db,
    )  # fmt: skip
    assert added == 0
    capsys.readouterr()
    assert cli("connection", "check", "--tenant", "acme", db=db) == 1  # sandbox's role is missing
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert "3 selected, member role usable in 2 of 3" in text
    assert (
        f"{org.accounts['prod']} (prod): ok - role arn:aws:iam::{org.accounts['prod']}:role/{ROLE} assumed"
        in text
    )
    assert f"{org.accounts['sandbox']} (sandbox): failed - AccessDenied" in text
    assert org.accounts["dev"] not in text
    assert (
        cli(
            "connection", "add", "aws", "--tenant", "acme", "--name", "bad", "--organization", db=db
        )
        == 2
    )


def test_one_resource_per_uid_prefers_the_account_named_in_the_arn() -> None:
    from posture.connectors.aws.organization import _keep_one
    from posture.models import Resource

    arn = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/org-trail"
    seen: dict[tuple[str, str], Resource] = {}
    shadow = Resource(
        "aws.cloudtrail.trail", arn, "us-east-1", "org-trail", {"shadow": True}, {}, "222233334444"
    )
    home = Resource(
        "aws.cloudtrail.trail", arn, "us-east-1", "org-trail", {"shadow": False}, {}, MANAGEMENT
    )
    _keep_one(seen, shadow)
    _keep_one(seen, home)
    _keep_one(seen, shadow)
    assert list(seen.values()) == [home]


def test_ou_path_is_read_from_paths_when_aws_sends_them() -> None:
    from posture.connectors.aws.organization import _ous_of
    from posture.connectors.inventory import Inventory

    class NoCalls:
        def list_parents(self, **_: Any) -> Any:
            raise AssertionError("ListParents is not needed when Paths are present")

    item = {
        "Id": "222233334444",
        "Paths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"],
    }
    ous = _ous_of(NoCalls(), item, {}, Inventory("org", "aws", MANAGEMENT, []))
    assert ous == ("ou-ab12-11111111", "ou-ab12-22222222")
