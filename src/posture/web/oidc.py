"""Single sign-on through an OpenID provider: the authorization code flow with PKCE.

The provider's metadata comes from its discovery document (``<issuer>/.well-known/
openid-configuration``), whose ``issuer`` must equal the configured one. A sign-in starts
with fresh ``state``, ``nonce`` and PKCE ``code_verifier`` values, kept only in the
browser's short-lived, HTTP-only ``posture_oidc`` cookie (scoped to ``/login/oidc``); the
callback must bring back the same ``state``. The code is exchanged at the token endpoint
with the verifier and the client's credentials; the ID token is then checked: signature
against the provider's published keys (JWKS, fetched again once when a token names a key
not seen yet, as after a rotation), an asymmetric algorithm the provider announces (never
``none`` nor a shared-secret one), ``iss``, ``aud`` (and ``azp``), ``exp``/``iat`` with a
minute of clock skew, the ``nonce`` and, when present, ``at_hash``. Only then is the
identity handed to :func:`posture.operations.identity.sign_in_oidc`, which finds the
account and never creates one.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from posture.errors import ConfigurationError, ProviderUnavailable, SignOnFailed
from posture.web.settings import WebSettings

CALLBACK_PATH = "/login/oidc/callback"
COOKIE = "posture_oidc"
COOKIE_PATH = "/login/oidc"
PENDING_SECONDS = 600  # a sign-in must come back from the provider within ten minutes
METADATA_SECONDS = 3600  # discovery document and keys are fetched again after an hour
LEEWAY_SECONDS = 60  # clock skew allowed on exp / iat
# asymmetric signatures only: never "none", never an HMAC keyed with a shared secret
ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
ALGORITHMS += ("ES256", "ES384", "ES512", "EdDSA")


@dataclass(frozen=True)
class Pending:
    """One sign-in on its way through the provider (the cookie's content)."""

    state: str
    nonce: str
    verifier: str
    after: str
    started: int

    def cookie(self) -> str:
        raw = json.dumps(
            [self.state, self.nonce, self.verifier, self.after, self.started],
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def from_cookie(cls, value: str, now: float | None = None) -> Pending | None:
        """The pending sign-in of a cookie value; None when absent, malformed or stale."""
        try:
            raw = base64.urlsafe_b64decode(_pad(value))
            state, nonce, verifier, after, started = json.loads(raw)
        except (ValueError, TypeError, binascii.Error):
            return None
        fields = (state, nonce, verifier, after)
        if not all(isinstance(f, str) for f in fields) or not isinstance(started, int):
            return None
        if (now or time.time()) - started > PENDING_SECONDS:
            return None
        return cls(state, nonce, verifier, after, started)


@dataclass(frozen=True)
class Identity:
    """What a validated ID token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool


class OidcClient:
    """The relying party of one configured provider; safe to share between requests."""

    def __init__(self, settings: WebSettings) -> None:
        if not settings.oidc_enabled:
            raise ConfigurationError("single sign-on is not configured")
        assert settings.oidc_issuer is not None and settings.oidc_client_id is not None
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.settings = settings
        self.client_secret = settings.oidc_client_secret  # raises when its variable is unset
        self.redirect_uri = settings.base_url.rstrip("/") + CALLBACK_PATH
        scopes = settings.oidc_scopes.split()
        self.scope = " ".join(["openid", *[s for s in scopes if s != "openid"]])
        verify: Any = str(settings.oidc_ca_bundle) if settings.oidc_ca_bundle else True
        self._http = httpx.Client(verify=verify, timeout=10.0, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def close(self) -> None:
        self._http.close()

    # --- the provider's documents ----------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the OpenID provider's {what} ({url}): {exc}") from exc
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"the OpenID provider's {what} ({url}) answered HTTP {response.status_code}"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"the OpenID provider's {what} is not JSON") from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"the OpenID provider's {what} is not a JSON object")
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            cached = self._metadata
        if cached is not None and time.monotonic() - cached[0] < METADATA_SECONDS:
            return cached[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "discovery document")
        if document.get("issuer") != self.issuer:
            raise ProviderUnavailable(
                f"the discovery document names issuer {document.get('issuer')!r}, "
                f"not the configured {self.issuer!r}"
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str) or not document[key].startswith("http"):
                raise ProviderUnavailable(f"the discovery document has no usable {key}")
        with self._lock:
            self._metadata = (time.monotonic(), document)
        return document

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys
        if not refresh and cached is not None and time.monotonic() - cached[0] < METADATA_SECONDS:
            return cached[1]
        document = self._get_json(self.metadata()["jwks_uri"], "key set (JWKS)")
        keys = [
            k
            for k in document.get("keys", [])
            if isinstance(k, dict) and k.get("use", "sig") == "sig" and k.get("kty") != "oct"
        ]
        try:
            key_set = KeySet.import_key_set({"keys": keys})
        except (JoseError, ValueError, TypeError) as exc:
            raise ProviderUnavailable(f"the provider's key set is unusable: {exc}") from exc
        with self._lock:
            self._keys = (time.monotonic(), key_set)
        return key_set

    # --- the flow --------------------------------------------------------------------

    def begin(self, after: str, *, now: float | None = None) -> tuple[str, Pending]:
        """Where to send the browser, and what its cookie keeps until it comes back."""
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),  # 86 characters: within PKCE's 43..128
            after=after,
            started=int(now or time.time()),
        )
        endpoint = self.metadata()["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": self.scope,
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": create_s256_code_challenge(pending.verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", pending

    def finish(self, pending: Pending, code: str) -> Identity:
        """Exchange the code and validate the ID token; the identity it vouches for."""
        tokens = self._exchange(code, pending.verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise SignOnFailed("the token endpoint answered without an ID token")
        access = tokens.get("access_token")
        claims = self.validate(
            id_token, nonce=pending.nonce, access_token=access if isinstance(access, str) else None
        )
        email = claims.get("email")
        verified = claims.get("email_verified") in (True, "true")
        if isinstance(email, str) and email and self.settings.oidc_trust_email:
            verified = True
        return Identity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
            email_verified=verified,
        )

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        metadata = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        secret = self.client_secret
        auth: httpx.BasicAuth | None = None
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if secret is None:
            form["client_id"] = self.client_id
        elif "client_secret_basic" in methods:
            # RFC 6749 2.3.1: id and secret are form-encoded before HTTP Basic
            auth = httpx.BasicAuth(quote_plus(self.client_id), quote_plus(secret))
        elif "client_secret_post" in methods:
            form |= {"client_id": self.client_id, "client_secret": secret}
        else:
            raise ConfigurationError(
                "the OpenID provider accepts neither client_secret_basic nor client_secret_post "
                f"at its token endpoint (it names {methods})"
            )
        try:
            response = self._http.post(
                metadata["token_endpoint"],
                data=form,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the provider's token endpoint: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise SignOnFailed(
                f"the token endpoint refused the code: HTTP {response.status_code} {error}".strip()
            )
        return body

    def validate(
        self, id_token: str, *, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a trustworthy ID token, or ``SignOnFailed`` saying why not."""
        announced = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in ALGORITHMS if a in announced]
        if not algorithms:
            raise SignOnFailed(f"the provider signs ID tokens only with {announced}")
        try:
            header = json.loads(base64.urlsafe_b64decode(_pad(id_token.split(".", 1)[0])))
        except (ValueError, binascii.Error) as exc:
            raise SignOnFailed("the ID token is not a JWT") from exc
        if not isinstance(header, dict) or header.get("alg") not in algorithms:
            alg = header.get("alg") if isinstance(header, dict) else None
            raise SignOnFailed(f"the ID token is signed with {alg!r}, which is not accepted")
        keys = self._key_set()
        kid = header.get("kid")
        if kid is not None and not any(k.kid == kid for k in keys.keys):
            keys = self._key_set(refresh=True)  # the provider may have rotated its keys
        try:
            token = jwt.decode(id_token, keys, algorithms=algorithms)
        except (JoseError, ValueError) as exc:
            raise SignOnFailed(f"the ID token's signature does not verify: {exc}") from exc
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True},
        }
        params = {"nonce": nonce, "client_id": self.client_id, "access_token": access_token}
        claims = CodeIDToken(token.claims, token.header, options=options, params=params)
        try:
            claims.validate(now=int(time.time()), leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError, TypeError) as exc:
            raise SignOnFailed(f"the ID token is not valid here: {exc}") from exc
        return dict(claims)


def _pad(part: str) -> str:
    return part + "=" * (-len(part) % 4)
