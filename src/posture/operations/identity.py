"""Users, sign-in, web sessions and API tokens.

Passwords are kept as argon2id hashes; session cookies and token secrets only as SHA-256
digests, so a copy of the store signs nobody in. An account is locked for a while after
too many failed sign-ins; a one-time password (given when a user is added or reset
without one) must be changed at the first sign-in. A web session expires after an idle
time and, at the latest, a fixed time after sign-in; each sign-in gets a fresh session id
(the previous one, when named, ends), so a planted cookie is worth nothing. API tokens
look like ``pst_<id>_<secret>``, carry scopes (a subset of their user's rights), expire
within a year and can be revoked.

Who manages whom: a provider administrator manages every user; an analyst manages the
customer users of every tenant; a customer administrator manages the customer users of
its own tenant. A tenant's number of customer administrators is limited by its option
``portal_admin_limit`` (2 unless set).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from posture.errors import (
    AccessDenied,
    AccountLocked,
    AuthenticationFailed,
    ConfigurationError,
    LimitExceeded,
    NotFound,
    SignInNotLinked,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    UsageError,
)
from posture.operations.access import (
    CUSTOMER_ROLES,
    RIGHTS,
    Principal,
    Role,
    check_permissions,
    require,
)
from posture.operations.audit import record
from posture.operations.context import Operations
from posture.operations.tenants import get_tenant
from posture.store import ApiToken, Tenant, UserAccount
from posture.store import WebSession as SessionRow
from posture.store.scope import in_scope
from posture.store.types import utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,199}$")
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[a-z0-9]([a-z0-9.-]{0,187}[a-z0-9])?\.[a-z]{2,63}$")
MIN_PASSWORD = 12
MAX_TOKEN_DAYS = 365
DEFAULT_ADMIN_LIMIT = 2
TOKEN_PREFIX = "pst_"
TOUCH_EVERY = timedelta(seconds=30)  # last-seen times are written at most this often
_WRONG = "wrong user name or password"

_hasher = PasswordHasher()  # argon2id with the library's recommended cost
_DUMMY_HASH = _hasher.hash("posture: no such user, compare anyway")


@dataclass(frozen=True)
class IdentityPolicy:
    """Lockout and session lifetimes; ``from_env`` reads ``POSTURE_LOCKOUT_ATTEMPTS``,
    ``POSTURE_LOCKOUT_MINUTES``, ``POSTURE_SESSION_IDLE_MINUTES`` and
    ``POSTURE_SESSION_HOURS``."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)

    @classmethod
    def from_env(cls) -> IdentityPolicy:
        def number(name: str, default: int) -> int:
            text = os.environ.get(name, "").strip()
            if not text:
                return default
            if not text.isdigit() or int(text) < 1:
                raise ConfigurationError(f"{name} must be a positive whole number, not '{text}'")
            return int(text)

        return cls(
            max_failures=number("POSTURE_LOCKOUT_ATTEMPTS", 5),
            lockout=timedelta(minutes=number("POSTURE_LOCKOUT_MINUTES", 15)),
            session_idle=timedelta(minutes=number("POSTURE_SESSION_IDLE_MINUTES", 30)),
            session_absolute=timedelta(hours=number("POSTURE_SESSION_HOURS", 12)),
        )


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    role: Role
    tenant: str | None  # the tenant's slug, for customer roles
    locale: str
    disabled: bool
    locked_until: datetime | None
    must_change_password: bool
    created_at: datetime | None
    last_login_at: datetime | None
    email: str | None = None
    sso_linked: bool = False  # a single sign-on identity is bound to the account


@dataclass(frozen=True)
class TokenInfo:
    id: str  # the public id: ``pst_<id>_...``
    name: str
    username: str
    scopes: tuple[str, ...] | None  # None: the user's role rights
    created_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def prefix(self) -> str:
        """What identifies the token when shown: ``pst_<id>``."""
        return f"{TOKEN_PREFIX}{self.id}"

    def state(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if (now or utcnow()) >= self.expires_at else "active"


@dataclass(frozen=True)
class WebSession:
    """A new session: ``token`` goes into the cookie, ``csrf_token`` into every form."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionState:
    """A live session: who it is for and its CSRF token."""

    principal: Principal
    csrf_token: str
    expires_at: datetime
    created_at: datetime = field(compare=False)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


# --- users ---------------------------------------------------------------------------


def _user(session: Session, username: str) -> UserAccount:
    user = session.exec(
        select(UserAccount).where(UserAccount.username == username.strip().lower())
    ).first()
    if user is None or (user.tenant_id is not None and not in_scope(session, user.tenant_id)):
        raise NotFound(f"unknown user '{username}'", hint="list users with: posture user list")
    return user


def _slug(session: Session, tenant_id: str | None) -> str | None:
    if tenant_id is None:
        return None
    return session.exec(select(Tenant.slug).where(Tenant.id == tenant_id)).first()


def _info(session: Session, user: UserAccount) -> UserInfo:
    return UserInfo(
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        tenant=_slug(session, user.tenant_id),
        locale=user.locale,
        disabled=user.disabled,
        locked_until=user.locked_until,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        email=user.email,
        sso_linked=user.oidc_subject is not None,
    )


def principal_of(user: UserAccount, scopes: frozenset[str] | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        tenant_id=user.tenant_id,
        scopes=scopes,
        must_change_password=user.must_change_password,
    )


def check_password(password: str, username: str) -> None:
    """The password rules: at least 12 characters, and not the user name."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")
    lowered = password.strip().lower()
    if lowered == username.lower() or lowered == username.lower().split("@", 1)[0]:
        raise UsageError("a password must not be the user name")


def normal_email(value: str | None) -> str | None:
    """An e-mail address as kept (trimmed, lower case), None for none; a malformed one is
    refused."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if len(text) > 254 or not EMAIL.match(text):
        raise UsageError(f"invalid e-mail address '{value}'")
    return text


def _one_time_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters


def _check_manage(ops: Operations, role: Role, tenant_id: str | None) -> None:
    """May the acting principal manage a user of ``role`` in ``tenant_id``?"""
    principal = ops.principal
    require(ops, "user.manage", tenant_id)
    if principal is None or principal.role is Role.PROVIDER_ADMIN:
        return
    if role not in CUSTOMER_ROLES:
        raise AccessDenied(
            f"{principal.username} may not manage provider users (role {role})",
            permission="user.manage",
            hint="a provider administrator manages provider users",
        )


def _check_role_tenant(role: Role, tenant_id: str | None) -> None:
    if role in CUSTOMER_ROLES and tenant_id is None:
        raise UsageError(f"a {role} user belongs to a tenant", hint="pass --tenant SLUG")
    if role not in CUSTOMER_ROLES and tenant_id is not None:
        raise UsageError(f"a {role} user belongs to no tenant; leave out --tenant")


def admin_limit(tenant: Tenant) -> int:
    value = tenant.options.get("portal_admin_limit", DEFAULT_ADMIN_LIMIT)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"tenant '{tenant.slug}': option portal_admin_limit must be a whole number >= 0"
        )
    return value


def _check_admin_limit(session: Session, tenant: Tenant, exclude: str | None = None) -> None:
    query = (
        select(func.count())
        .select_from(UserAccount)
        .where(
            UserAccount.tenant_id == tenant.id,
            UserAccount.role == Role.CUSTOMER_ADMIN.value,
            col(UserAccount.disabled).is_(False),
        )
    )
    if exclude:
        query = query.where(UserAccount.id != exclude)
    limit = admin_limit(tenant)
    if session.exec(query).one() >= limit:
        raise LimitExceeded(
            f"tenant '{tenant.slug}' already has {limit} portal administrators, "
            "the most its plan allows",
            hint="disable one, give it another role, or raise the tenant's portal_admin_limit",
        )


def add_user(
    ops: Operations,
    username: str,
    *,
    role: Role,
    tenant: str | None = None,
    display_name: str = "",
    locale: str = "ja",
    password: str | None = None,
    email: str | None = None,
) -> tuple[UserInfo, str | None]:
    """Add a user; without a password it gets a one-time password (returned, shown once)
    that must be changed at the first sign-in. With an e-mail address the user may also
    sign in through the configured single sign-on."""
    name = username.strip().lower()
    address = normal_email(email)
    if not USERNAME.match(name):
        raise UsageError(
            f"invalid user name '{username}': use letters, digits and . _ @ + -, "
            "starting with a letter or digit"
        )
    if locale not in ("ja", "en"):
        raise UsageError(f"invalid locale '{locale}': use ja or en")
    role = Role(role)
    one_time = None
    if password is None:
        one_time = password = _one_time_password()
    else:
        check_password(password, name)
    try:
        with ops.session() as session:
            row = get_tenant(session, tenant) if tenant else None
            tenant_id = row.id if row else None
            _check_role_tenant(role, tenant_id)
            _check_manage(ops, role, tenant_id)
            if row is not None and role is Role.CUSTOMER_ADMIN:
                _check_admin_limit(session, row)
            _check_email_free(session, address)
            user = UserAccount(
                username=name,
                display_name=display_name.strip(),
                password_hash=_hasher.hash(password),
                role=role.value,
                tenant_id=tenant_id,
                locale=locale,
                must_change_password=one_time is not None,
                password_changed_at=utcnow(),
                email=address,
            )
            session.add(user)
            session.flush()
            details = {"role": role.value, "one_time_password": one_time is not None}
            record(
                ops, "user.add", tenant=tenant or "", target=name, details=details, session=session
            )
            info = _info(session, user)
    except IntegrityError as exc:
        raise ConfigurationError(f"user '{name}' already exists") from exc
    return info, one_time


def _check_email_free(session: Session, email: str | None, user_id: str | None = None) -> None:
    if email is None:
        return
    query = select(UserAccount.id).where(UserAccount.email == email)
    if user_id is not None:
        query = query.where(UserAccount.id != user_id)
    if session.exec(query).first() is not None:
        raise ConfigurationError(f"the e-mail address '{email}' already belongs to another user")


def set_email(ops: Operations, username: str, email: str | None) -> UserInfo:
    """Give a user an e-mail address (None: none). The single sign-on identity bound
    through the previous address, if any, is let go: the next sign-on with the new
    address binds again."""
    address = normal_email(email)
    with ops.session() as session:
        user = _managed(ops, session, username)
        if address == user.email:
            return _info(session, user)
        _check_email_free(session, address, user.id)
        unbound = user.oidc_subject is not None
        user.email, user.oidc_subject = address, None
        session.add(user)
        slug = _slug(session, user.tenant_id) or ""
        details = {"email": address or "", "sso_unlinked": unbound}
        record(
            ops, "user.email", tenant=slug, target=user.username, details=details, session=session
        )
        return _info(session, user)


def list_users(ops: Operations, tenant: str | None = None) -> list[UserInfo]:
    """Users the acting principal may manage, optionally of one tenant only."""
    with ops.session() as session:
        query = select(UserAccount).order_by(col(UserAccount.username))
        if tenant:
            row = get_tenant(session, tenant)
            require(ops, "user.manage", row.id)
            query = query.where(UserAccount.tenant_id == row.id)
        else:
            require(ops, "user.manage")
        principal = ops.principal
        users = []
        for user in session.exec(query):
            if principal is not None and principal.role is not Role.PROVIDER_ADMIN:
                if Role(user.role) not in CUSTOMER_ROLES:
                    continue
                if user.tenant_id is None or not principal.sees(user.tenant_id):
                    continue
            users.append(_info(session, user))
        return users


def _managed(ops: Operations, session: Session, username: str) -> UserAccount:
    user = _user(session, username)
    _check_manage(ops, Role(user.role), user.tenant_id)
    return user


def disable_user(ops: Operations, username: str) -> UserInfo:
    """Disable a user: its sessions end and its tokens stop working."""
    with ops.session() as session:
        user = _managed(ops, session, username)
        user.disabled = True
        session.add(user)
        session.execute(delete(SessionRow).where(col(SessionRow.user_id) == user.id))
        slug = _slug(session, user.tenant_id) or ""
        record(ops, "user.disable", tenant=slug, target=user.username, session=session)
        return _info(session, user)


def set_role(ops: Operations, username: str, role: Role) -> UserInfo:
    """Give a user another role within the same kind (provider or customer of its tenant)."""
    role = Role(role)
    with ops.session() as session:
        user = _managed(ops, session, username)
        _check_role_tenant(role, user.tenant_id)
        _check_manage(ops, role, user.tenant_id)
        if role is Role.CUSTOMER_ADMIN and user.role != role.value and user.tenant_id:
            tenant = session.get(Tenant, user.tenant_id)
            assert tenant is not None
            _check_admin_limit(session, tenant, exclude=user.id)
        before = user.role
        user.role = role.value
        session.add(user)
        session.execute(delete(SessionRow).where(col(SessionRow.user_id) == user.id))
        slug = _slug(session, user.tenant_id) or ""
        details = {"from": before, "to": role.value}
        record(
            ops, "user.role", tenant=slug, target=user.username, details=details, session=session
        )
        return _info(session, user)


def reset_password(ops: Operations, username: str) -> str:
    """A new one-time password (returned, shown once); the user must change it at sign-in.
    Unlocks the account and ends its sessions."""
    one_time = _one_time_password()
    with ops.session() as session:
        user = _managed(ops, session, username)
        user.password_hash = _hasher.hash(one_time)
        user.must_change_password = True
        user.password_changed_at = utcnow()
        user.failed_attempts, user.locked_until = 0, None
        session.add(user)
        session.execute(delete(SessionRow).where(col(SessionRow.user_id) == user.id))
        slug = _slug(session, user.tenant_id) or ""
        record(ops, "user.password_reset", tenant=slug, target=user.username, session=session)
    return one_time


def set_password(
    ops: Operations,
    username: str,
    new: str,
    *,
    current: str | None = None,
    now: datetime | None = None,
) -> UserInfo:
    """Change a password: one's own with the current one, another user's with the right to
    manage it. Every session of the user ends (sign in again with the new password)."""
    moment = _now(now)
    with ops.session() as session:
        user = _user(session, username)
        own = ops.principal is not None and ops.principal.user_id == user.id
        if own or current is not None:
            if current is None or not _verify(user.password_hash, current):
                raise AuthenticationFailed("the current password is wrong")
        else:
            _check_manage(ops, Role(user.role), user.tenant_id)
        check_password(new, user.username)
        if _verify(user.password_hash, new):
            raise UsageError("the new password must differ from the current one")
        user.password_hash = _hasher.hash(new)
        user.must_change_password = False
        user.password_changed_at = moment
        session.add(user)
        session.execute(delete(SessionRow).where(col(SessionRow.user_id) == user.id))
        slug = _slug(session, user.tenant_id) or ""
        record(ops, "user.password", tenant=slug, target=user.username, session=session)
        return _info(session, user)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


# --- sign-in ---------------------------------------------------------------------------


def authenticate(
    ops: Operations,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    policy: IdentityPolicy | None = None,
) -> Principal:
    """The principal of a user name and password, or ``AuthenticationFailed``
    (``AccountLocked`` while the account is locked). Every attempt is audited, never the
    password."""
    rules = policy or IdentityPolicy.from_env()
    moment = _now(now)
    name = username.strip().lower()
    failure: AuthenticationFailed | None = None
    with ops.session() as session:
        # lock the row first (SQLite: the database) so concurrent attempts count one by one
        session.execute(
            update(UserAccount)
            .where(col(UserAccount.username) == name)
            .values(failed_attempts=UserAccount.failed_attempts)
        )
        user = session.exec(
            select(UserAccount).where(UserAccount.username == name).with_for_update()
        ).first()
        slug = _slug(session, user.tenant_id) if user else None

        def audit(action: str, **details: Any) -> None:
            record(
                ops, action, tenant=slug or "", target=name[:200], details=details, session=session
            )

        if user is None:
            _verify(_DUMMY_HASH, password)  # the same work as for a real user
            audit("user.login_failed", reason="unknown_user")
            failure = AuthenticationFailed(_WRONG)
        elif user.locked_until is not None and moment < user.locked_until:
            audit("user.login_failed", reason="locked")
            failure = _locked(user.locked_until)
        elif not _verify(user.password_hash, password):
            user.failed_attempts += 1
            audit("user.login_failed", reason="wrong_password", attempts=user.failed_attempts)
            failure = AuthenticationFailed(_WRONG)
            if user.failed_attempts >= rules.max_failures:
                user.locked_until = moment + rules.lockout
                user.failed_attempts = 0
                minutes = int(rules.lockout.total_seconds() // 60)
                audit("user.locked", minutes=minutes)
                failure = _locked(user.locked_until)
            session.add(user)
        elif user.disabled:
            audit("user.login_failed", reason="disabled")
            failure = AuthenticationFailed(_WRONG)
        else:
            user.failed_attempts, user.locked_until = 0, None
            user.last_login_at = moment
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            session.add(user)
            audit("user.login", must_change_password=user.must_change_password)
            return principal_of(user)
    assert failure is not None
    raise failure


def sign_in_oidc(
    ops: Operations,
    *,
    issuer: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    now: datetime | None = None,
) -> Principal:
    """The principal of an identity an OpenID provider vouched for (its ID token already
    validated by the caller), or ``SignInNotLinked`` / ``AuthenticationFailed`` /
    ``AccountLocked``.

    The account is the one bound to ``issuer|subject``; before the first single sign-on,
    the one whose e-mail address an administrator set equals the provider's *verified*
    address, which the sign-in then binds (an unverified address binds nothing). Nobody is
    added here: a person without an account is refused. A disabled or locked account is
    refused as at the password sign-in; a one-time password not yet changed stops working
    (the account now signs in through the provider). Every attempt is audited with
    ``method: oidc``."""
    moment = _now(now)
    key = f"{issuer}|{subject}"
    address = (email or "").strip().lower() or None
    failure: AuthenticationFailed | None = None
    with ops.session() as session:
        user = session.exec(
            select(UserAccount).where(UserAccount.oidc_subject == key).with_for_update()
        ).first()
        binding = False
        if user is None and address is not None and email_verified:
            user = session.exec(
                select(UserAccount)
                .where(UserAccount.email == address, col(UserAccount.oidc_subject).is_(None))
                .with_for_update()
            ).first()
            binding = user is not None
        slug = _slug(session, user.tenant_id) if user else None
        target = user.username if user else (address or subject)[:200]

        def audit(action: str, **details: Any) -> None:
            details = {"method": "oidc", "issuer": issuer[:300], **details}
            record(ops, action, tenant=slug or "", target=target, details=details, session=session)

        if user is None:
            reason = "unverified_email" if address and not email_verified else "not_linked"
            audit("user.login_failed", reason=reason)
            failure = SignInNotLinked(
                "no account here is linked to this single sign-on identity",
                hint="an administrator sets the person's e-mail address on their account "
                "(posture user email USER ADDRESS); the provider must vouch for that address",
            )
        elif user.locked_until is not None and moment < user.locked_until:
            audit("user.login_failed", reason="locked")
            failure = _locked(user.locked_until)
        elif user.disabled:
            audit("user.login_failed", reason="disabled")
            failure = AuthenticationFailed("this account is disabled")
        else:
            voided = user.must_change_password
            if binding:
                user.oidc_subject = key
            if voided:
                # the one-time password was for a first sign-in, which this is
                user.password_hash = _hasher.hash(secrets.token_urlsafe(32))
                user.must_change_password = False
            user.failed_attempts, user.locked_until = 0, None
            user.last_login_at = moment
            session.add(user)
            audit("user.login", linked=binding, one_time_password_voided=voided)
            return principal_of(user)
    assert failure is not None
    raise failure


def refuse_oidc(ops: Operations, *, issuer: str, reason: str) -> None:
    """Audit a single sign-on whose provider answer was not trusted (a forged, expired or
    misaddressed ID token, a refused code): nobody is known, the reason is kept."""
    details = {"method": "oidc", "issuer": issuer[:300], "reason": reason[:500]}
    record(ops, "user.login_failed", details=details)


def _locked(until: datetime) -> AccountLocked:
    return AccountLocked(
        f"the account is locked after too many failed sign-ins, until {until:%Y-%m-%d %H:%M} UTC",
        hint="wait, or ask an administrator to reset the password",
    )


def create_session(
    ops: Operations,
    principal: Principal,
    *,
    replaces: str | None = None,
    now: datetime | None = None,
    policy: IdentityPolicy | None = None,
) -> WebSession:
    """A new session for a signed-in principal: always a fresh id (``replaces``, the
    cookie the browser came with, ends)."""
    rules = policy or IdentityPolicy.from_env()
    moment = _now(now)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = moment + rules.session_absolute
    with ops.session() as session:
        if replaces:
            session.execute(
                delete(SessionRow).where(col(SessionRow.token_hash) == digest(replaces))
            )
        session.add(
            SessionRow(
                token_hash=digest(token),
                user_id=principal.user_id,
                csrf_token=csrf,
                created_at=moment,
                last_seen_at=moment,
                expires_at=expires,
                source=ops.source[:300],
            )
        )
    return WebSession(token=token, csrf_token=csrf, expires_at=expires)


def session_state(
    ops: Operations,
    token: str,
    *,
    now: datetime | None = None,
    policy: IdentityPolicy | None = None,
) -> SessionState | None:
    """The live session of a cookie value, or None (unknown, idle too long, past its
    absolute expiry, or its user disabled); a live one's idle clock restarts."""
    if not token:
        return None
    rules = policy or IdentityPolicy.from_env()
    moment = _now(now)
    with ops.session() as session:
        row = session.exec(select(SessionRow).where(SessionRow.token_hash == digest(token))).first()
        if row is None:
            return None
        user = session.get(UserAccount, row.user_id)
        idle = moment - row.last_seen_at >= rules.session_idle
        if user is None or user.disabled or idle or moment >= row.expires_at:
            session.delete(row)
            return None
        if moment - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = moment
            session.add(row)
        return SessionState(
            principal=principal_of(user),
            csrf_token=row.csrf_token,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


def session_principal(
    ops: Operations,
    token: str,
    *,
    now: datetime | None = None,
    policy: IdentityPolicy | None = None,
) -> Principal | None:
    state = session_state(ops, token, now=now, policy=policy)
    return state.principal if state else None


def end_session(ops: Operations, token: str) -> None:
    """Sign out: the session is gone (unknown cookies are ignored)."""
    with ops.session() as session:
        session.execute(delete(SessionRow).where(col(SessionRow.token_hash) == digest(token)))


# --- API tokens ------------------------------------------------------------------------


def _token_info(token: ApiToken, username: str) -> TokenInfo:
    return TokenInfo(
        id=token.public_id,
        name=token.name,
        username=username,
        scopes=tuple(token.scopes) if token.scopes is not None else None,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def create_token(
    ops: Operations,
    username: str,
    *,
    name: str,
    scopes: Sequence[str] | None,
    expires_days: int,
    now: datetime | None = None,
) -> tuple[TokenInfo, str]:
    """A token for ``username`` (a signed-in user creates its own only); ``scopes`` must be
    within the user's rights (None: all of them). The secret is returned once."""
    if not name.strip() or len(name.strip()) > 100:
        raise UsageError("a token needs a name of at most 100 characters")
    if not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise UsageError(f"a token expires within 1 to {MAX_TOKEN_DAYS} days")
    wanted = check_permissions(scopes) if scopes is not None else None
    if wanted is not None and not wanted:
        raise UsageError("a token needs at least one scope (or none named for the role's rights)")
    moment = _now(now)
    with ops.session() as session:
        user = _user(session, username)
        require(ops, "token.manage", user.tenant_id)
        principal = ops.principal
        if principal is not None and principal.user_id != user.id:
            raise AccessDenied(
                f"{principal.username} may create API tokens for itself only",
                permission="token.manage",
            )
        if user.disabled:
            raise UsageError(f"user '{user.username}' is disabled")
        allowed = RIGHTS[Role(user.role)]
        if principal is not None:
            allowed = allowed & principal.permissions
        beyond = sorted((wanted or allowed) - allowed)
        if beyond:
            raise AccessDenied(
                f"scopes beyond the rights of {user.username}: {', '.join(beyond)}",
                permission=beyond[0],
            )
        public_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        row = ApiToken(
            public_id=public_id,
            secret_hash=digest(secret),
            user_id=user.id,
            name=name.strip(),
            scopes=sorted(wanted) if wanted is not None else None,
            created_at=moment,
            expires_at=moment + timedelta(days=expires_days),
        )
        session.add(row)
        session.flush()
        slug = _slug(session, user.tenant_id) or ""
        details = {"user": user.username, "name": row.name, "scopes": row.scopes}
        details["expires_at"] = row.expires_at.isoformat()
        record(ops, "token.create", tenant=slug, target=public_id, details=details, session=session)
        return _token_info(row, user.username), f"{TOKEN_PREFIX}{public_id}_{secret}"


def token_principal(ops: Operations, secret: str, *, now: datetime | None = None) -> Principal:
    """The principal an API token acts as; ``TokenInvalid`` (or ``TokenExpired``,
    ``TokenRevoked``) when it cannot be used."""
    moment = _now(now)
    parts = secret.strip().split("_", 2)
    if len(parts) != 3 or parts[0] + "_" != TOKEN_PREFIX or not parts[1] or not parts[2]:
        raise TokenInvalid("not a posture API token (they look like pst_<id>_<secret>)")
    with ops.session() as session:
        row = session.exec(select(ApiToken).where(ApiToken.public_id == parts[1])).first()
        if row is None or not hmac.compare_digest(row.secret_hash, digest(parts[2])):
            raise TokenInvalid("unknown API token", hint="create one with: posture token create")
        if row.revoked_at is not None:
            raise TokenRevoked(f"API token {TOKEN_PREFIX}{row.public_id} was revoked")
        if moment >= row.expires_at:
            raise TokenExpired(
                f"API token {TOKEN_PREFIX}{row.public_id} expired on {row.expires_at:%Y-%m-%d}",
                hint="create a new one with: posture token create",
            )
        user = session.get(UserAccount, row.user_id)
        if user is None or user.disabled:
            raise TokenInvalid(f"the user of API token {TOKEN_PREFIX}{row.public_id} is disabled")
        if row.last_used_at is None or moment - row.last_used_at >= TOUCH_EVERY:
            row.last_used_at = moment
            session.add(row)
        scopes = frozenset(row.scopes) if row.scopes is not None else None
        # a token is its own credential: a pending one-time password does not hold it back
        return replace(principal_of(user, scopes), must_change_password=False)


def _token_row(session: Session, token_id: str) -> ApiToken:
    public_id = token_id.strip().removeprefix(TOKEN_PREFIX).split("_", 1)[0]
    row = session.exec(select(ApiToken).where(ApiToken.public_id == public_id)).first()
    if row is None:
        raise NotFound(f"unknown API token '{token_id}'", hint="list them with: posture token list")
    return row


def revoke_token(ops: Operations, token_id: str, *, now: datetime | None = None) -> TokenInfo:
    """Revoke a token (its own user, or whoever manages that user)."""
    moment = _now(now)
    with ops.session() as session:
        row = _token_row(session, token_id)
        user = session.get(UserAccount, row.user_id)  # None: a user outside the scope
        if user is None or (user.tenant_id is not None and not in_scope(session, user.tenant_id)):
            raise NotFound(f"unknown API token '{token_id}'")
        principal = ops.principal
        if principal is None or principal.user_id == user.id:
            require(ops, "token.manage", user.tenant_id)
        else:
            _check_manage(ops, Role(user.role), user.tenant_id)
        if row.revoked_at is None:
            row.revoked_at = moment
            session.add(row)
            slug = _slug(session, user.tenant_id) or ""
            details = {"user": user.username, "name": row.name}
            record(
                ops, "token.revoke", tenant=slug, target=row.public_id, details=details,
                session=session,
            )  # fmt: skip
        return _token_info(row, user.username)


def list_tokens(ops: Operations, username: str | None = None) -> list[TokenInfo]:
    """Tokens of one user, or of every user the acting principal may see tokens of (a
    principal without user management sees its own only)."""
    with ops.session() as session:
        query = (
            select(ApiToken, UserAccount)
            .join(UserAccount, col(UserAccount.id) == col(ApiToken.user_id))
            .order_by(col(UserAccount.username), col(ApiToken.created_at))
        )
        principal = ops.principal
        if username:
            user = _user(session, username)
            if principal is None or principal.user_id == user.id:
                require(ops, "token.manage", user.tenant_id)
            else:
                _check_manage(ops, Role(user.role), user.tenant_id)
            query = query.where(ApiToken.user_id == user.id)
        tokens = []
        for token, owner in session.exec(query):
            mine = principal is None or owner.id == principal.user_id
            if not mine and principal is not None and not _may_manage(principal, owner):
                continue
            tokens.append(_token_info(token, owner.username))
        return tokens


def _may_manage(principal: Principal, user: UserAccount) -> bool:
    if not principal.can("user.manage"):
        return False
    if principal.role is Role.PROVIDER_ADMIN:
        return True
    return Role(user.role) in CUSTOMER_ROLES and (
        user.tenant_id is not None and principal.sees(user.tenant_id)
    )
