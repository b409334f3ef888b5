"""A local OpenID provider: discovery, authorization (code flow with PKCE), token and JWKS
endpoints over HTTPS, answering as OpenID Connect Core 1.0, RFC 6749 and RFC 7636 document.

The person "signed in" at the provider is whoever the test (or a demo) sets as
``FakeOidc.person`` (a dict of claims: ``sub``, ``email``, ``email_verified``, ``name``);
with nobody set, the authorization endpoint answers ``error=access_denied``, as a
provider does when the person cancels. ``FakeOidc.fault`` makes the next ID tokens wrong in
one way a relying party must notice: ``wrong_issuer``, ``wrong_audience``, ``expired``,
``future``, ``wrong_nonce``, ``no_nonce``, ``foreign_key`` (signed by a key the JWKS does not
hold), ``alg_none`` (unsigned), ``hs256`` (signed with the client secret as an HMAC key).
``rotate()`` replaces the signing key, as providers do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from posture.localapi.tls import server_certificate

CODE_SECONDS = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str
    claims: dict[str, Any]
    issued: float


@dataclass
class FakeOidc:
    client_id: str = "posture-console"
    client_secret: str | None = "local-client-secret"
    redirect_uris: list[str] = field(default_factory=list)
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    person: dict[str, Any] | None = None
    fault: str | None = None
    issuer: str = ""  # set when the server starts: https://127.0.0.1:PORT
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": _kid()}))
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rotate(self) -> None:
        self.key = RSAKey.generate_key(2048, {"kid": _kid()})

    # --- documents -------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "email", "email_verified"],
        }

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [public | {"use": "sig", "alg": "RS256"}]}

    # --- authorization endpoint ------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """A redirect back to the client (code or error), or 400 for a request that
        cannot be answered by redirect (unknown client or redirect URI)."""
        client, redirect = query.get("client_id", ""), query.get("redirect_uri", "")
        if client != self.client_id:
            return 400, {}, {"error": "invalid_request", "error_description": "unknown client"}
        if redirect not in self.redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description": "redirect_uri"}
        state = query.get("state")

        def back(**params: str) -> tuple[int, dict[str, str], dict[str, Any]]:
            if state is not None:
                params["state"] = state
            return 302, {"Location": f"{redirect}?{urlencode(params)}"}, {}

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in query.get("scope", "").split():
            return back(error="invalid_scope", error_description="openid is required")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE S256 is required")
        if self.person is None:
            return back(error="access_denied", error_description="the user cancelled")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=client,
                redirect_uri=redirect,
                nonce=query.get("nonce"),
                challenge=query["code_challenge"],
                claims=dict(self.person),
                issued=time.time(),
            )
        return back(code=code)

    # --- token endpoint --------------------------------------------------------------

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            if "client_secret_basic" not in self.auth_methods:
                return 401, {"error": "invalid_client"}
            try:
                raw = base64.b64decode(authorization[6:]).decode()
            except ValueError:
                return 401, {"error": "invalid_client"}
            user, _, password = raw.partition(":")
            client_id, secret = unquote_plus(user), unquote_plus(password)
        elif secret is not None and "client_secret_post" not in self.auth_methods:
            return 401, {"error": "invalid_client"}
        if client_id != self.client_id:
            return 401, {"error": "invalid_client"}
        if self.client_secret is not None and secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code is used once
        if grant is None or time.time() - grant.issued > CODE_SECONDS:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("redirect_uri") != grant.redirect_uri or grant.client_id != client_id:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        verifier = form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access = secrets.token_urlsafe(32)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
            "id_token": self.id_token(grant, access),
        }

    def id_token(self, grant: _Grant, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16]),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims |= {k: v for k, v in grant.claims.items() if v is not None}
        fault = self.fault
        if fault == "wrong_issuer":
            claims["iss"] = "https://login.example.invalid"
        elif fault == "wrong_audience":
            claims["aud"] = "another-application"
        elif fault == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 600
        elif fault == "future":
            claims["iat"], claims["exp"] = now + 3600, now + 7200
        elif fault == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif fault == "no_nonce":
            claims.pop("nonce", None)
        if fault == "alg_none":
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        if fault == "hs256":
            secret = OctKey.import_key((self.client_secret or "x").encode())
            return jwt.encode({"alg": "HS256", "kid": self.key.kid}, claims, secret)
        key = self.key
        if fault == "foreign_key":
            key = RSAKey.generate_key(2048, {"kid": self.key.kid or _kid()})
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


def _kid() -> str:
    return secrets.token_hex(8)


def _handler(fake: FakeOidc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode() if body or status != 302 else b""
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(("GET", parts.path))
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._send(200, {}, fake.discovery())
            elif parts.path == "/jwks":
                self._send(200, {}, fake.jwks())
            elif parts.path == "/authorize":
                self._send(*fake.authorize(query))
            else:
                self._send(404, {}, {"error": "not_found"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(("POST", parts.path))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if parts.path != "/token":
                self._send(404, {}, {"error": "not_found"})
                return
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            status, body = fake.token(form, self.headers.get("Authorization", ""))
            self._send(status, {}, body)

    return Handler


@dataclass
class RunningOidc:
    fake: FakeOidc
    issuer: str  # https://127.0.0.1:PORT
    ca_bundle: Path


@contextmanager
def oidc_server(folder: Path, fake: FakeOidc | None = None) -> Iterator[RunningOidc]:
    """Start the provider on 127.0.0.1 over HTTPS (its CA certificate written into
    ``folder``) until the block ends."""
    cert, key = server_certificate(folder, "oidc")
    provider = fake or FakeOidc()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    provider.issuer = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningOidc(provider, provider.issuer, cert)
    finally:
        server.shutdown()
        server.server_close()
