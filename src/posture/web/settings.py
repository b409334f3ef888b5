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
    # single sign-on through an OpenID provider (Entra ID, Google, Okta, Keycloak, ...): on
    # when an issuer and a client id are set; the client secret is read from the variable
    # named by oidc_client_secret_env (none: a public client, PKCE only)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret_env: str | None = None
    oidc_name: str = "SSO"  # the button reads "Sign in with <oidc_name>"
    oidc_scopes: str = "openid email profile"
    oidc_ca_bundle: Path | None = None  # CA certificates for the provider (a private PKI)
    # treat the provider's "email" as verified though it sends no email_verified claim: only
    # for a provider whose addresses the organisation alone assigns (a single-tenant Entra
    # ID application, say); otherwise an unverified address links no account
    oidc_trust_email: bool = False
    max_page_size: int = 500
    # scans started through the API are run (in-process) or watched until their connections
    # are done (Celery workers) by this many background threads; None: 2 in-process, 16 with
    # workers, whose threads only wait
    scan_threads: int | None = None
    json_logs: bool = True

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def oidc_client_secret(self) -> str | None:
        """The OIDC client secret, from ``oidc_client_secret_env``; None for a public client."""
        if not self.oidc_client_secret_env:
            return None
        value = os.environ.get(self.oidc_client_secret_env, "")
        if not value:
            raise ConfigurationError(
                f"single sign-on: the variable {self.oidc_client_secret_env} named for the "
                "OIDC client secret is not set"
            )
        return value

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
            ("POSTURE_WEB_OIDC_NAME", "oidc_name"),
            ("POSTURE_WEB_OIDC_SCOPES", "oidc_scopes"),
            ("POSTURE_WEB_OIDC_CA_BUNDLE", "oidc_ca_bundle"),
        ):
            if env.get(name):
                values[key] = env[name]
        if env.get("POSTURE_WEB_OIDC_TRUST_EMAIL"):
            values["oidc_trust_email"] = _flag("POSTURE_WEB_OIDC_TRUST_EMAIL")
        return cls.model_validate(values)


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError(f"{name} takes true or false, got '{value}'")
