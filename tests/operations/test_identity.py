"""Users, sign-in with lockout, web sessions and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from posture.errors import (
    AccessDenied,
    AccountLocked,
    AuthenticationFailed,
    ConfigurationError,
    LimitExceeded,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    UsageError,
)
from posture.operations import Operations
from posture.operations import identity as idm
from posture.operations.access import Principal, Role
from posture.operations.audit import AuditQuery, list_audit
from posture.operations.tenants import add_tenant
from posture.store import ApiToken, UserAccount, WebSession

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at a low cost: the same code path, without seconds per test."""
    monkeypatch.setattr(idm, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def tenants(ops: Operations) -> Operations:
    add_tenant(ops, "acme", name="Acme")
    add_tenant(ops, "globex", name="Globex")
    return ops


def _as(ops: Operations, username: str) -> Operations:
    with ops.session() as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == username)).one()
        return ops.acting_as(idm.principal_of(user))


def test_a_user_without_password_gets_a_one_time_password_to_change(ops: Operations) -> None:
    info, one_time = idm.add_user(ops, "Alice@Example.com", role=Role.PROVIDER_ADMIN)
    assert info.username == "alice@example.com" and info.must_change_password
    assert one_time and len(one_time) >= 12
    principal = idm.authenticate(ops, "alice@example.com", one_time)
    assert principal.must_change_password
    # a one-time password lets its holder do nothing but change it
    with pytest.raises(AccessDenied, match="one-time password"):
        idm.list_users(ops.acting_as(principal))
    changed = idm.set_password(
        ops.acting_as(principal), "alice@example.com", PASSWORD, current=one_time
    )
    assert not changed.must_change_password
    assert not idm.authenticate(ops, "alice@example.com", PASSWORD).must_change_password


def test_only_hashes_are_stored(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.PROVIDER_ADMIN, password=PASSWORD)
    principal = idm.authenticate(ops, "alice", PASSWORD)
    web = idm.create_session(ops, principal)
    _, secret = idm.create_token(ops, "alice", name="ci", scopes=None, expires_days=30)
    with ops.session() as session:
        user = session.exec(select(UserAccount)).one()
        row = session.exec(select(WebSession)).one()
        token = session.exec(select(ApiToken)).one()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert row.token_hash == idm.digest(web.token) and web.token not in row.token_hash
    assert secret.startswith(f"pst_{token.public_id}_")
    assert secret.split("_", 2)[2] not in token.secret_hash


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short pass", "at least 12"), ("alice.example", "user name"), ("Alice.Example", "user name")],
)
def test_password_rules(ops: Operations, password: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        idm.add_user(ops, "alice.example", role=Role.ANALYST, password=password)


def test_roles_and_tenants_go_together(tenants: Operations) -> None:
    with pytest.raises(UsageError, match="belongs to a tenant"):
        idm.add_user(tenants, "carol", role=Role.CUSTOMER_VIEWER, password=PASSWORD)
    with pytest.raises(UsageError, match="belongs to no tenant"):
        idm.add_user(tenants, "dave", role=Role.ANALYST, tenant="acme", password=PASSWORD)
    idm.add_user(tenants, "carol", role=Role.CUSTOMER_VIEWER, tenant="acme", password=PASSWORD)
    with pytest.raises(ConfigurationError, match="already exists"):
        idm.add_user(tenants, "carol", role=Role.ANALYST, password=PASSWORD)


def test_five_failures_lock_the_account_for_fifteen_minutes(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    for attempt in range(4):
        with pytest.raises(AuthenticationFailed) as failed:
            idm.authenticate(ops, "alice", "wrong password!", now=T0 + timedelta(seconds=attempt))
        assert failed.value.code == "invalid_credentials"
    with pytest.raises(AccountLocked) as locked:
        idm.authenticate(ops, "alice", "wrong password!", now=T0 + timedelta(seconds=5))
    assert locked.value.code == "account_locked"
    # the right password does not help while locked
    with pytest.raises(AccountLocked):
        idm.authenticate(ops, "alice", PASSWORD, now=T0 + timedelta(minutes=14))
    assert idm.authenticate(ops, "alice", PASSWORD, now=T0 + timedelta(minutes=16)).username
    actions = [e.action for e in list_audit(ops, AuditQuery(actions=("user",)))]
    assert actions.count("user.login_failed") == 6 and actions.count("user.locked") == 1
    assert "user.login" in actions
    for entry in list_audit(ops):
        assert PASSWORD not in str(entry.details) and "wrong password!" not in str(entry.details)


def test_lockout_is_configurable(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    policy = idm.IdentityPolicy(max_failures=2, lockout=timedelta(minutes=1))
    with pytest.raises(AuthenticationFailed):
        idm.authenticate(ops, "alice", "nope", now=T0, policy=policy)
    with pytest.raises(AccountLocked):
        idm.authenticate(ops, "alice", "nope", now=T0, policy=policy)
    assert idm.authenticate(ops, "alice", PASSWORD, now=T0 + timedelta(minutes=2), policy=policy)


def test_unknown_user_and_wrong_password_look_alike(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    with pytest.raises(AuthenticationFailed) as unknown:
        idm.authenticate(ops, "mallory", PASSWORD)
    with pytest.raises(AuthenticationFailed) as wrong:
        idm.authenticate(ops, "alice", "not the password")
    assert unknown.value.message == wrong.value.message
    idm.disable_user(ops, "alice")
    with pytest.raises(AuthenticationFailed) as disabled:
        idm.authenticate(ops, "alice", PASSWORD)
    assert disabled.value.message == wrong.value.message


def test_sessions_expire_when_idle_and_at_the_absolute_limit(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    principal = idm.authenticate(ops, "alice", PASSWORD, now=T0)
    web = idm.create_session(ops, principal, now=T0)
    assert web.expires_at == T0 + timedelta(hours=12) and web.csrf_token
    # used every 20 minutes it lives, but not beyond 12 hours
    moment = T0
    while moment + timedelta(minutes=20) < T0 + timedelta(hours=12):
        moment += timedelta(minutes=20)
        state = idm.session_state(ops, web.token, now=moment)
        assert state is not None and state.principal.username == "alice"
        assert state.csrf_token == web.csrf_token
    assert idm.session_principal(ops, web.token, now=T0 + timedelta(hours=12)) is None
    # a session left alone for 30 minutes is over, and stays over
    other = idm.create_session(ops, principal, now=T0)
    assert idm.session_principal(ops, other.token, now=T0 + timedelta(minutes=29)) is not None
    assert idm.session_principal(ops, other.token, now=T0 + timedelta(minutes=60)) is None
    assert idm.session_principal(ops, other.token, now=T0 + timedelta(minutes=61)) is None


def test_each_sign_in_gets_a_fresh_session_and_the_old_one_ends(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    principal = idm.authenticate(ops, "alice", PASSWORD)
    planted = idm.create_session(ops, principal)
    fresh = idm.create_session(ops, principal, replaces=planted.token)
    assert fresh.token != planted.token and fresh.csrf_token != planted.csrf_token
    assert idm.session_principal(ops, planted.token) is None
    assert idm.session_principal(ops, fresh.token) == principal
    idm.end_session(ops, fresh.token)
    assert idm.session_principal(ops, fresh.token) is None
    assert idm.session_principal(ops, "") is None


def test_disabling_a_user_ends_its_sessions_and_tokens(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    web = idm.create_session(ops, idm.authenticate(ops, "alice", PASSWORD))
    _, secret = idm.create_token(ops, "alice", name="ci", scopes=None, expires_days=1)
    idm.disable_user(ops, "alice")
    assert idm.session_principal(ops, web.token) is None
    with pytest.raises(TokenInvalid, match="disabled"):
        idm.token_principal(ops, secret)


def test_tokens_carry_scopes_expire_and_can_be_revoked(tenants: Operations) -> None:
    ops = tenants
    idm.add_user(ops, "carol", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    carol = _as(ops, "carol")
    info, secret = idm.create_token(
        carol, "carol", name="siem", scopes=["finding.read"], expires_days=10, now=T0
    )
    assert info.prefix == f"pst_{info.id}" and info.scopes == ("finding.read",)
    principal = idm.token_principal(ops, secret, now=T0 + timedelta(days=9))
    assert principal.scopes == frozenset({"finding.read"}) and principal.role is Role.CUSTOMER_ADMIN
    assert principal.can("finding.read") and not principal.can("waiver.write")
    with pytest.raises(TokenExpired) as expired:
        idm.token_principal(ops, secret, now=T0 + timedelta(days=10))
    assert expired.value.code == "token_expired"
    idm.revoke_token(carol, info.id)
    with pytest.raises(TokenRevoked) as revoked:
        idm.token_principal(ops, secret, now=T0)
    assert revoked.value.code == "token_revoked"
    assert [t.state(T0) for t in idm.list_tokens(carol)] == ["revoked"]


def test_token_scopes_stay_within_the_role(tenants: Operations) -> None:
    ops = tenants
    idm.add_user(ops, "vic", role=Role.CUSTOMER_VIEWER, tenant="acme", password=PASSWORD)
    idm.add_user(ops, "carol", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    with pytest.raises(AccessDenied, match=r"scan\.run"):
        idm.create_token(ops, "carol", name="x", scopes=["scan.run"], expires_days=1)
    with pytest.raises(UsageError, match="unknown permission"):
        idm.create_token(ops, "carol", name="x", scopes=["finding.delete"], expires_days=1)
    with pytest.raises(UsageError, match="365"):
        idm.create_token(ops, "carol", name="x", scopes=None, expires_days=366)
    # a viewer has no token.manage; a user creates tokens for itself only
    with pytest.raises(AccessDenied, match=r"token\.manage"):
        idm.create_token(_as(ops, "vic"), "vic", name="x", scopes=None, expires_days=1)
    with pytest.raises(AccessDenied, match="for itself"):
        idm.create_token(_as(ops, "carol"), "vic", name="x", scopes=None, expires_days=1)


@pytest.mark.parametrize(
    "secret",
    ["", "pst_", "abc_def_ghi", "pst_nosuchid_secret", "Bearer pst_x_y"],
)
def test_malformed_or_unknown_tokens_are_invalid(ops: Operations, secret: str) -> None:
    with pytest.raises(TokenInvalid) as caught:
        idm.token_principal(ops, secret)
    assert caught.value.code == "token_invalid"


def test_a_wrong_secret_for_a_known_id_is_invalid(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    info, secret = idm.create_token(ops, "alice", name="ci", scopes=None, expires_days=1)
    with pytest.raises(TokenInvalid, match="unknown API token"):
        idm.token_principal(ops, f"pst_{info.id}_{'x' * 43}")
    assert idm.token_principal(ops, secret).username == "alice"


def test_portal_administrators_are_limited_per_tenant(tenants: Operations) -> None:
    ops = tenants
    idm.add_user(ops, "a1", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    idm.add_user(ops, "a2", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    with pytest.raises(LimitExceeded) as over:
        idm.add_user(ops, "a3", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    assert over.value.code == "limit_exceeded" and "2 portal administrators" in over.value.message
    # another tenant has its own count; a viewer cannot be promoted past the limit
    idm.add_user(ops, "g1", role=Role.CUSTOMER_ADMIN, tenant="globex", password=PASSWORD)
    idm.add_user(ops, "v1", role=Role.CUSTOMER_VIEWER, tenant="acme", password=PASSWORD)
    with pytest.raises(LimitExceeded):
        idm.set_role(ops, "v1", Role.CUSTOMER_ADMIN)
    # a disabled administrator frees its place; so does a demotion
    idm.disable_user(ops, "a2")
    assert idm.set_role(ops, "v1", Role.CUSTOMER_ADMIN).role is Role.CUSTOMER_ADMIN
    idm.set_role(ops, "a1", Role.CUSTOMER_VIEWER)
    idm.add_user(ops, "a3", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)


def test_the_limit_is_the_tenant_option(ops: Operations) -> None:
    add_tenant(ops, "solo", name="Solo", options={"portal_admin_limit": 1})
    idm.add_user(ops, "s1", role=Role.CUSTOMER_ADMIN, tenant="solo", password=PASSWORD)
    with pytest.raises(LimitExceeded, match="1 portal administrators"):
        idm.add_user(ops, "s2", role=Role.CUSTOMER_ADMIN, tenant="solo", password=PASSWORD)


def test_who_manages_whom(tenants: Operations) -> None:
    ops = tenants
    idm.add_user(ops, "root", role=Role.PROVIDER_ADMIN, password=PASSWORD)
    idm.add_user(ops, "ana", role=Role.ANALYST, password=PASSWORD)
    idm.add_user(ops, "carol", role=Role.CUSTOMER_ADMIN, tenant="acme", password=PASSWORD)
    idm.add_user(ops, "gina", role=Role.CUSTOMER_VIEWER, tenant="globex", password=PASSWORD)
    carol, ana, root = _as(ops, "carol"), _as(ops, "ana"), _as(ops, "root")
    # a customer administrator: customer users of its own tenant only
    idm.add_user(carol, "vic", role=Role.CUSTOMER_VIEWER, tenant="acme", password=PASSWORD)
    with pytest.raises(AccessDenied, match="provider users"):
        idm.add_user(carol, "eve", role=Role.ANALYST, password=PASSWORD)
    with pytest.raises(ConfigurationError, match="unknown tenant 'globex'"):
        idm.add_user(carol, "eve", role=Role.CUSTOMER_VIEWER, tenant="globex", password=PASSWORD)
    with pytest.raises(ConfigurationError, match="unknown user 'gina'"):
        idm.disable_user(carol, "gina")
    assert [u.username for u in idm.list_users(carol)] == ["carol", "vic"]
    # an analyst: customer users of every tenant, no provider users
    idm.reset_password(ana, "gina")
    with pytest.raises(AccessDenied, match="provider users"):
        idm.disable_user(ana, "root")
    assert "root" not in {u.username for u in idm.list_users(ana)}
    # a provider administrator: everyone
    idm.set_role(root, "ana", Role.AUDITOR)
    assert {u.username for u in idm.list_users(root)} >= {"root", "ana", "carol", "gina"}
    with pytest.raises(AccessDenied, match=r"user\.manage"):
        idm.list_users(_as(ops, "ana"))  # an auditor now


def test_a_password_change_needs_the_current_one_or_management_rights(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    alice = _as(ops, "alice")
    with pytest.raises(AuthenticationFailed, match="current password"):
        idm.set_password(alice, "alice", "another good password", current="bad guess")
    with pytest.raises(AuthenticationFailed):
        idm.set_password(alice, "alice", "another good password")
    with pytest.raises(UsageError, match="differ"):
        idm.set_password(alice, "alice", PASSWORD, current=PASSWORD)
    idm.set_password(alice, "alice", "another good password", current=PASSWORD)
    assert idm.authenticate(ops, "alice", "another good password")


def test_a_reset_unlocks_and_issues_a_one_time_password(ops: Operations) -> None:
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            idm.authenticate(ops, "alice", "nope nope nope")
    one_time = idm.reset_password(ops, "alice")
    principal = idm.authenticate(ops, "alice", one_time)
    assert isinstance(principal, Principal) and principal.must_change_password


def test_the_policy_comes_from_the_environment(
    ops: Operations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTURE_LOCKOUT_ATTEMPTS", "3")
    monkeypatch.setenv("POSTURE_SESSION_IDLE_MINUTES", "5")
    policy = idm.IdentityPolicy.from_env()
    assert (policy.max_failures, policy.session_idle) == (3, timedelta(minutes=5))
    assert policy.lockout == timedelta(minutes=15)
    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            idm.authenticate(ops, "alice", "nope nope nope", now=T0)
    with pytest.raises(AccountLocked):
        idm.authenticate(ops, "alice", "nope nope nope", now=T0)
    web = idm.create_session(ops, idm.authenticate(ops, "alice", PASSWORD, now=T0 + DAY), now=T0)
    assert idm.session_principal(ops, web.token, now=T0 + timedelta(minutes=6)) is None
    monkeypatch.setenv("POSTURE_LOCKOUT_MINUTES", "soon")
    with pytest.raises(ConfigurationError, match="POSTURE_LOCKOUT_MINUTES"):
        idm.IdentityPolicy.from_env()


def test_concurrent_failures_each_count(ops: Operations) -> None:
    from concurrent.futures import ThreadPoolExecutor

    idm.add_user(ops, "alice", role=Role.ANALYST, password=PASSWORD)
    policy = idm.IdentityPolicy(max_failures=50)

    def attempt(_: int) -> str:
        try:
            idm.authenticate(ops, "alice", "wrong password!", policy=policy)
        except AuthenticationFailed as exc:
            return exc.code
        return "signed in"

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(attempt, range(12)))
    assert codes == ["invalid_credentials"] * 12
    with ops.session() as session:
        user = session.exec(select(UserAccount)).one()
    assert user.failed_attempts == 12
