"""The one error hierarchy of posture.

::

    PostureError                      exit code 1 unless a subclass says otherwise
    ├── UsageError                    bad command-line use (exit 2)
    ├── ContentError                  a scanner, policy or report file is invalid (exit 2)
    ├── ConfigurationError            a tenant, connection or store setting is invalid (exit 2)
    ├── CredentialError               a connection's credentials are missing or rejected
    ├── CollectionError               an API call failed after retries (per resource type)
    └── StoreError                    the database could not be read or written

Every message names the thing the user has to fix: the file and line, the connection,
the missing permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class PostureError(Exception):
    """Base class; ``exit_code`` tells the CLI how to leave."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(PostureError):
    exit_code: ClassVar[int] = 2


class ContentError(PostureError):
    """A content file (scanner spec, policy, framework, catalog) is invalid.

    ``location`` is ``path:line`` where known, ``field`` the dotted field that is wrong.
    A file with several problems raises one error for the first and lists them all in
    ``problems``, so a validator can show every one of them at once.
    """

    exit_code: ClassVar[int] = 2

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


class CredentialError(PostureError):
    """Credentials of a named connection are missing, expired or rejected."""


class CollectionError(PostureError):
    """An API call could not be completed; carries the error code and the missing permission."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        permission: str | None = None,
        throttled: bool = False,
    ) -> None:
        self.code = code
        self.permission = permission
        self.throttled = throttled
        hint = f"grant the permission {permission}" if permission and _is_denied(code) else None
        super().__init__(message, hint=hint)


class StoreError(PostureError):
    pass


def _is_denied(code: str | None) -> bool:
    return bool(code) and ("AccessDenied" in str(code) or "Unauthorized" in str(code))
