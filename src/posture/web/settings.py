"""Settings of the web face: where the store is, how cookies behave, where files go.

Read once when the app is created, from arguments or ``POSTURE_WEB_*`` environment
variables (``posture serve`` fills them from its options). Nothing here is a secret:
the signing secret, when set, is read from the environment variable it names.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from posture.errors import ConfigurationError


def _home() -> Path:
    return Path(os.environ.get("POSTURE_HOME", Path.home() / ".posture"))


class WebSettings(BaseModel):
    """What ``create_app`` needs; every field has a default that works on one machine."""

    model_config = ConfigDict(frozen=True)

    db_url: str | None = None  # None: POSTURE_DATABASE_URL, else the SQLite file in POSTURE_HOME
    policy_dirs: tuple[Path, ...] = ()
    scanner_dirs: tuple[Path, ...] = ()
    base_url: str = "http://127.0.0.1:8000"  # how users reach the service (links, OIDC)
    secure_cookies: bool = False  # set behind HTTPS: Secure cookies and HSTS
    session_cookie: str = "posture_session"
    csrf_header: str = "X-CSRF-Token"
    csrf_field: str = "csrf_token"
    secret_env: str = "POSTURE_WEB_SECRET"  # the variable holding the signing secret
    files_dir: Path = Field(default_factory=lambda: _home() / "web-files")  # reports, exports
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret_env: str | None = None
    max_page_size: int = 500
    # scans started through the API are run (in-process) or watched until their connections
    # are done (Celery workers) by this many background threads; None: 2 in-process, 16 with
    # workers, whose threads only wait
    scan_threads: int | None = None
    json_logs: bool = True

    @property
    def secret(self) -> str:
        """The signing secret (from ``secret_env``); empty when none is configured."""
        return os.environ.get(self.secret_env, "")

    @classmethod
    def from_env(cls) -> WebSettings:
        """Settings from ``POSTURE_WEB_*`` variables; the rest keep their defaults."""
        env = os.environ
        values: dict[str, object] = {}
        if env.get("POSTURE_DATABASE_URL"):
            values["db_url"] = env["POSTURE_DATABASE_URL"]
        if env.get("POSTURE_WEB_BASE_URL"):
            values["base_url"] = env["POSTURE_WEB_BASE_URL"]
        if env.get("POSTURE_WEB_FILES_DIR"):
            values["files_dir"] = Path(env["POSTURE_WEB_FILES_DIR"])
        if env.get("POSTURE_WEB_SCAN_THREADS"):
            values["scan_threads"] = env["POSTURE_WEB_SCAN_THREADS"]
        if env.get("POSTURE_WEB_SECURE_COOKIES"):
            values["secure_cookies"] = _flag("POSTURE_WEB_SECURE_COOKIES")
        for name, key in (
            ("POSTURE_WEB_OIDC_ISSUER", "oidc_issuer"),
            ("POSTURE_WEB_OIDC_CLIENT_ID", "oidc_client_id"),
            ("POSTURE_WEB_OIDC_CLIENT_SECRET_ENV", "oidc_client_secret_env"),
        ):
            if env.get(name):
                values[key] = env[name]
        return cls.model_validate(values)


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError(f"{name} takes true or false, got '{value}'")
