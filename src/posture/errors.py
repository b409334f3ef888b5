"""The one error hierarchy of posture.

::

    PostureError                      exit code 1 unless a subclass says otherwise
    ├── UsageError                    bad command-line use (exit 2)
    ├── ContentError                  a scanner, policy or report file is invalid (exit 2)
    ├── ConfigurationError            a tenant, connection or store setting is invalid (exit 2)
    ├── ConnectionFailure             a connection could not be opened; ``reason`` says why
    │   └── CredentialError           ... because its credentials are missing, expired or rejected
    ├── CollectionError               an API call failed after retries (per resource type)
    ├── StoreError                    the database could not be read or written
    ├── AccessDenied                  the signed-in user's role or token lacks a permission
    ├── AuthenticationFailed          wrong user name or password
    │   └── AccountLocked             ... or the account is locked after too many failures
    ├── TokenInvalid                  an API token is malformed or unknown
    │   ├── TokenExpired              ... or past its expiry
    │   └── TokenRevoked              ... or revoked
    ├── TenantPaused                  the tenant's service is paused
    ├── LimitExceeded                 a limit of the tenant's plan would be exceeded
    └── FixRefused                    a fix may not run (not subscribed, not approved, drifted)

Every message names the thing the user has to fix: the file and line, the connection,
the missing permission. Every class has a stable ``code`` (snake_case) that a face maps
to its own signal (an HTTP status, an exit code); the message is for people, the code for
programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar


class PostureError(Exception):
    """Base class; ``exit_code`` tells the CLI how to leave."""

    exit_code: ClassVar[int] = 1
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(PostureError):
    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "usage_error"


class ContentError(PostureError):
    """A content file (scanner spec, policy, framework, catalog) is invalid.

    ``location`` is ``path:line`` where known, ``field`` the dotted field that is wrong.
    A file with several problems raises one error for the first and lists them all in
    ``problems``, so a validator can show every one of them at once.
    """

    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "content_error"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
        problems: Sequence[ContentError] = (),
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.detail = message  # the message without its location
        self._problems = tuple(problems)
        where = path or ""
        if path and line:
            where = f"{path}:{line}"
        prefix = where + (f": field '{field}'" if field else "")
        super().__init__(f"{prefix}: {message}" if prefix else message, hint=hint)

    @property
    def problems(self) -> tuple[ContentError, ...]:
        """Every problem found in the file, this one alone when there was just one."""
        return self._problems or (self,)


class ConfigurationError(PostureError):
    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "configuration_error"


class NotFound(ConfigurationError):
    """A named or numbered thing (tenant, scan, user, token) does not exist or is not visible."""

    code: ClassVar[str] = "not_found"


class ConnectionReason(StrEnum):
    """Why a connection failed, as a stable code: stored with the scan, translated by reports.

    Each reason has a text ``connection_reason.<reason>`` in the report message catalogs.
    """

    ENDPOINT_UNREACHABLE = "endpoint_unreachable"  # refused, DNS, timeout, proxy
    TLS_ERROR = "tls_error"  # handshake or certificate failure
    NOT_AWS = "not_aws"  # the endpoint answered, but not like the provider's API
    CREDENTIALS_REJECTED = "credentials_rejected"  # the provider refused the credentials
    TOKEN_EXPIRED = "token_expired"  # session or SSO token expired, or the clock is off
    CREDENTIALS_MISSING = "credentials_missing"  # no credentials found at all
    PROFILE_NOT_FOUND = "profile_not_found"  # the named profile does not exist
    PERMISSION_DENIED = "permission_denied"  # signed in, but a sign-in step was not allowed
    PROVIDER_ERROR = "provider_error"  # the provider answered with another error
    INVALID_SETTINGS = "invalid_settings"  # the connection's stored settings are invalid
    INTERNAL_ERROR = "internal_error"  # an unexpected error inside posture


class ConnectionFailure(PostureError):
    """A named connection could not be opened; ``reason`` is machine-readable.

    One connection failing never stops a scan of the others: the scan records it as that
    connection's outcome with the reason code.
    """

    code: ClassVar[str] = "connection_failure"

    def __init__(
        self,
        message: str,
        *,
        reason: ConnectionReason,
        connection: str,
        endpoint: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.connection = connection
        self.endpoint = endpoint


class CredentialError(ConnectionFailure):
    """Credentials of a named connection are missing, expired or rejected."""

    code: ClassVar[str] = "credential_error"

    def __init__(
        self,
        message: str,
        *,
        reason: ConnectionReason = ConnectionReason.CREDENTIALS_REJECTED,
        connection: str = "",
        endpoint: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(
            message, reason=reason, connection=connection, endpoint=endpoint, hint=hint
        )


def failure_reason(exc: BaseException) -> ConnectionReason:
    """The reason code of any error that ended a connection's scan or check."""
    if isinstance(exc, ConnectionFailure):
        return exc.reason
    if isinstance(exc, ConfigurationError):
        return ConnectionReason.INVALID_SETTINGS
    return ConnectionReason.INTERNAL_ERROR


class CollectionError(PostureError):
    """An API call could not be completed; carries the provider's error code
    (``provider_code``) and the missing permission."""

    code: ClassVar[str] = "collection_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        permission: str | None = None,
        throttled: bool = False,
    ) -> None:
        self.provider_code = code
        self.permission = permission
        self.throttled = throttled
        hint = f"grant the permission {permission}" if permission and _is_denied(code) else None
        super().__init__(message, hint=hint)


class StoreError(PostureError):
    code: ClassVar[str] = "store_error"


class AccessDenied(PostureError):
    """The acting user (or its API token) lacks the permission an operation needs."""

    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "forbidden"

    def __init__(self, message: str, *, permission: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.permission = permission


class AuthenticationFailed(PostureError):
    """Sign-in refused. One message for an unknown user and a wrong password, so a guess
    reveals nothing."""

    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "invalid_credentials"
    locked: ClassVar[bool] = False


class AccountLocked(AuthenticationFailed):
    """Sign-in refused because the account is locked after too many failures."""

    code: ClassVar[str] = "account_locked"
    locked: ClassVar[bool] = True


class SignInNotLinked(AuthenticationFailed):
    """A single sign-on identity that no account here is linked to (no self-provisioning:
    an administrator gives the account the person's e-mail address first)."""

    code: ClassVar[str] = "sso_not_linked"


class SignOnFailed(AuthenticationFailed):
    """An OpenID provider's answer that could not be trusted or used (a forged, expired or
    misaddressed ID token, a refused code): logged in detail, the person sees that single
    sign-on failed."""

    code: ClassVar[str] = "sso_failed"


class ProviderUnavailable(SignOnFailed):
    """The OpenID provider could not be reached or answered nonsense."""

    code: ClassVar[str] = "sso_unavailable"


class TokenInvalid(PostureError):
    """An API token that is malformed or unknown (subclasses: expired, revoked)."""

    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "token_invalid"


class TokenExpired(TokenInvalid):
    code: ClassVar[str] = "token_expired"


class TokenRevoked(TokenInvalid):
    code: ClassVar[str] = "token_revoked"


class LimitExceeded(PostureError):
    """A limit of the tenant's service menu would be exceeded."""

    exit_code: ClassVar[int] = 2
    code: ClassVar[str] = "limit_exceeded"


def is_denied(code: str | None) -> bool:
    """Does a provider's error code say a permission is missing?"""
    return _is_denied(code)


def _is_denied(code: str | None) -> bool:
    return bool(code) and ("AccessDenied" in str(code) or "Unauthorized" in str(code))


class TenantPaused(PostureError):
    """The tenant is paused: no scans, scheduled jobs, fixes or notifications until resumed."""

    code: ClassVar[str] = "tenant_paused"

    def __init__(self, message: str, *, tenant: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tenant = tenant


class OptionNotSubscribed(PostureError):
    """The tenant's service menu lacks the option an action needs; ``option`` names it."""

    code: ClassVar[str] = "option_not_subscribed"

    def __init__(self, message: str, *, option: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.option = option


class FixRefused(PostureError):
    """A fix may not run: a guard rail (option, policy, tag, kill switch, write credentials,
    rate limit) or the live state refused it. ``reason`` is a stable code the message
    catalogs translate under ``fix.refused.<reason>``."""

    code: ClassVar[str] = "fix_refused"

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
