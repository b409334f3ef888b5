"""A local Microsoft identity platform token endpoint and Microsoft Graph, over HTTPS.

Answers in Graph's documented shapes (camelCase fields, collections in ``value``, absolute
``@odata.nextLink``, empty fields omitted, errors as ``{"error": {"code", "message"}}``),
so the real azure-identity and msgraph-sdk can be pointed at it with ``--authority``,
``--graph-url`` and ``--ca-bundle``. Faults are configured per URL fragment: a 429 with
``Retry-After`` once, a 403 for a missing permission, a licence answer.
"""

from __future__ import annotations

import copy
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from posture.localapi.tls import server_certificate

TENANT_ID = "7c1f2b9e-3f4a-4d2e-9b8a-1a2b3c4d5e6f"
CLIENT_ID = "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
CLIENT_SECRET = "local-test-secret"
TOKEN = "fake-graph-access-token"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMIN_TEMPLATE = "fe930be7-5e62-47db-91af-98c3a49a38b1"
PAGE_SIZE = 2
DENIED = {
    "code": "Authorization_RequestDenied",
    "message": "Insufficient privileges to complete the operation.",
}
NO_P1 = (
    403,
    "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    "Neither tenant is B2C or tenant doesn't have premium license",
)
NO_P1_CA = (
    403,
    "AadPremiumLicenseRequired",
    "The tenant does not have a premium license required for this operation.",
)


def _user(
    uid: str, upn: str, name: str, *, guest: bool = False, enabled: bool = True
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": uid,
        "displayName": name,
        "userPrincipalName": upn,
        "userType": "Guest" if guest else "Member",
        "accountEnabled": enabled,
        "createdDateTime": "2025-04-01T09:00:00Z",
        "creationType": "Invitation" if guest else None,
        "externalUserState": "Accepted" if guest else None,
        "assignedLicenses": [],
        "signInActivity": {
            "lastSignInDateTime": "2026-11-20T08:00:00Z",
            "lastNonInteractiveSignInDateTime": "2026-11-25T08:00:00Z",
        },
    }
    return {k: v for k, v in user.items() if v is not None}


def default_tenant() -> dict[str, Any]:
    """A small tenant with some misconfigurations: one global admin, a guest in a role."""
    users = [
        _user("u-1", "admin@contoso.example", "Aiko Admin"),
        _user("u-2", "kenji@contoso.example", "Kenji Sato"),
        _user("u-3", "mika@contoso.example", "Mika Ito"),
        _user("u-4", "partner_fabrikam.example#EXT#@contoso.example", "Partner", guest=True),
        _user("u-5", "old@contoso.example", "Former Staff", enabled=False),
    ]
    by_id = {u["id"]: u for u in users}

    def member(uid: str) -> dict[str, Any]:
        u = by_id[uid]
        keep = ("id", "displayName", "userPrincipalName", "userType", "accountEnabled")
        return {"@odata.type": "#microsoft.graph.user", **{k: u[k] for k in keep}}

    return {
        "/organization": [
            {
                "id": TENANT_ID,
                "displayName": "Contoso KK",
                "countryLetterCode": "JP",
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": True,
                        "isInitial": False,
                        "name": "contoso.example",
                        "type": "Managed",
                    },
                    {
                        "capabilities": "Email",
                        "isDefault": False,
                        "isInitial": True,
                        "name": "contoso.onmicrosoft.com",
                        "type": "Managed",
                    },
                ],
                "technicalNotificationMails": ["it@contoso.example"],
            }
        ],
        "/domains": [
            {
                "id": "contoso.example",
                "authenticationType": "Managed",
                "isDefault": True,
                "isInitial": False,
                "isRoot": True,
                "isVerified": True,
                "passwordValidityPeriodInDays": 2147483647,
                "supportedServices": ["Email"],
            },
            {
                "id": "contoso.onmicrosoft.com",
                "authenticationType": "Managed",
                "isDefault": False,
                "isInitial": True,
                "isRoot": True,
                "isVerified": True,
                "supportedServices": ["Email"],
            },
        ],
        "/subscribedSkus": [
            {
                "id": f"{TENANT_ID}_f245ecc8-75af-4f8e-b61f-27d8114de5f3",
                "accountId": TENANT_ID,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": 4,
                "skuId": "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
                "skuPartNumber": "O365_BUSINESS_PREMIUM",
                "prepaidUnits": {"enabled": 10, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": [
                    {
                        "servicePlanId": "113feb6c-3fe4-4440-bddc-54d774bf0318",
                        "servicePlanName": "EXCHANGE_S_STANDARD",
                        "provisioningStatus": "Success",
                        "appliesTo": "User",
                    }
                ],
            },
        ],
        "/users": users,
        "/directoryRoles": [
            {
                "id": "r-ga",
                "displayName": "Global Administrator",
                "roleTemplateId": GLOBAL_ADMIN_TEMPLATE,
                "description": "Can manage all aspects of Microsoft Entra ID.",
            },
            {
                "id": "r-ua",
                "displayName": "User Administrator",
                "roleTemplateId": USER_ADMIN_TEMPLATE,
                "description": "Can manage all aspects of users and groups.",
            },
        ],
        "/directoryRoles/r-ga/members": [member("u-1")],
        "/directoryRoles/r-ua/members": [member("u-2"), member("u-4")],
        "/identity/conditionalAccess/policies": [
            {
                "id": "ca-1",
                "displayName": "Require MFA for admins",
                "state": "enabled",
                "createdDateTime": "2025-05-01T00:00:00Z",
                "conditions": {
                    "clientAppTypes": ["all"],
                    "applications": {"includeApplications": ["All"]},
                    "users": {"includeRoles": [GLOBAL_ADMIN_TEMPLATE]},
                },
                "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
            },
        ],
        "/identity/conditionalAccess/namedLocations": [
            {
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": "nl-1",
                "displayName": "Tokyo office",
                "isTrusted": True,
                "ipRanges": [
                    {
                        "@odata.type": "#microsoft.graph.iPv4CidrRange",
                        "cidrAddress": "203.0.113.0/24",
                    }
                ],
            },
        ],
        "/policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security mechanisms.",
            "isEnabled": False,
        },
        "/policies/authorizationPolicy": {
            "id": "authorizationPolicy",
            "displayName": "Authorization Policy",
            "allowInvitesFrom": "everyone",
            "allowedToSignUpEmailBasedSubscriptions": True,
            "allowEmailVerifiedUsersToJoinOrganization": False,
            "blockMsolPowerShell": False,
            "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "defaultUserRolePermissions": {
                "allowedToCreateApps": True,
                "allowedToCreateSecurityGroups": True,
                "allowedToCreateTenants": True,
                "allowedToReadOtherUsers": True,
            },
            "permissionGrantPolicyIdsAssignedToDefaultUserRole": [
                "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
            ],
        },
        "/policies/authenticationMethodsPolicy": {
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "policyMigrationState": "migrationComplete",
            "registrationEnforcement": {
                "authenticationMethodsRegistrationCampaign": {
                    "state": "default",
                    "snoozeDurationInDays": 1,
                    "includeTargets": [],
                }
            },
            "authenticationMethodConfigurations": [
                {
                    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                    "id": "Fido2",
                    "state": "disabled",
                },
                {
                    "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                    "id": "Sms",
                    "state": "enabled",
                },
            ],
        },
        "/policies/adminConsentRequestPolicy": {
            "isEnabled": False,
            "notifyReviewers": False,
            "remindersEnabled": False,
            "requestDurationInDays": 0,
            "reviewers": [],
            "version": 0,
        },
    }


@dataclass
class GraphState:
    """What the server holds and which faults it injects (matched on path + query)."""

    tenant: dict[str, Any] = field(default_factory=default_tenant)
    secret: str = CLIENT_SECRET
    throttle_once: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    unlicensed: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    batched: list[str] = field(default_factory=list)  # requests answered inside a $batch
    tokens_issued: int = 0
    _throttled: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class GraphServer:
    url: str  # https://127.0.0.1:PORT, the authority and the Graph root
    ca_bundle: str
    state: GraphState

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The settings of a connection pointed at this server."""
        base = {
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret_env": "POSTURE_TEST_M365_SECRET",
            "authority": self.url,
            "graph_url": self.url,
            "ca_bundle": self.ca_bundle,
        }
        return base | extra

    def graph_requests(self) -> list[str]:
        """Every Graph request, those inside a JSON batch included (not the batch itself)."""
        direct = [r for r in self.state.requests if r.startswith(("/v1.0/", "/beta/"))]
        return direct + self.state.batched


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/")
        if parts.path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = segments[0]
            root = f"{self.server.url}/{tenant}"
            self._send(
                200,
                {
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "issuer": f"{self.server.url}/{tenant}/v2.0",
                    "jwks_uri": f"{root}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                    ],
                },
            )
            return
        if segments[0] not in ("v1.0", "beta"):
            self._send(404, {"error": {"code": "NotFound", "message": "unknown path"}})
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(
                401,
                {
                    "error": {
                        "code": "InvalidAuthenticationToken",
                        "message": "Access token is empty.",
                    }
                },
            )
            return
        self._send(*self._graph(state, self.path))

    def _graph(self, state: GraphState, full: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer to one Graph GET (``full`` is /version/path?query)."""
        parts = urlsplit(full)
        segments = parts.path.strip("/").split("/")
        version, path, query = segments[0], "/" + "/".join(segments[1:]), parse_qs(parts.query)
        with state.lock:
            for fragment in state.throttle_once:
                if fragment in full and fragment not in state._throttled:
                    state._throttled.add(fragment)
                    error = {"error": {"code": "TooManyRequests", "message": "Too many requests."}}
                    return 429, error, {"Retry-After": "1"}
        if any(fragment in full for fragment in state.denied):
            return 403, {"error": DENIED}, {}
        for fragment, (status, code, message) in state.unlicensed.items():
            if fragment in full:
                return status, {"error": {"code": code, "message": message}}, {}
        data = state.tenant.get(path)
        if data is None:
            missing = {"code": "Request_ResourceNotFound", "message": f"'{path}' does not exist."}
            return 404, {"error": missing}, {}
        context = f"{self.server.url}/{version}/$metadata#{path.strip('/')}"
        if isinstance(data, dict):
            return 200, {"@odata.context": context, **copy.deepcopy(data)}, {}
        items = [self._select(item, query) for item in data]
        start = int(query.get("$skiptoken", ["0"])[0])
        page = items[start : start + PAGE_SIZE]
        body: dict[str, Any] = {"@odata.context": context, "value": page}
        if start + PAGE_SIZE < len(items):
            rest = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(start + PAGE_SIZE)
            body["@odata.nextLink"] = f"{self.server.url}/{version}{path}?{urlencode(rest)}"
        return 200, body, {}

    @staticmethod
    def _select(item: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        fields = query.get("$select", [""])[0]
        if not fields:
            return {k: v for k, v in item.items() if k != "signInActivity"}
        wanted = set(fields.split(",")) | {"@odata.type"}
        return {k: copy.deepcopy(v) for k, v in item.items() if k in wanted}

    def do_POST(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        if self.path in ("/v1.0/$batch", "/beta/$batch"):
            self._batch(state, self.path.split("/")[1], json.loads(raw))
            return
        form = parse_qs(raw)
        if not self.path.endswith("/oauth2/v2.0/token"):
            self._send(404, {"error": "not_found"})
            return
        secret = form.get("client_secret", [""])[0]
        assertion = form.get("client_assertion", [""])[0]
        if form.get("client_id", [""])[0] != CLIENT_ID or not (secret == state.secret or assertion):
            self._send(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
            )
            return
        with state.lock:
            state.tokens_issued += 1
        self._send(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": TOKEN,
            },
        )

    def _batch(self, state: GraphState, version: str, body: dict[str, Any]) -> None:
        """A JSON batch: each request answered as a GET would be, in one response."""
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(
                401, {"error": {"code": "InvalidAuthenticationToken", "message": "no token"}}
            )
            return
        responses = []
        for request in body.get("requests", []):
            full = f"/{version}{request['url']}"
            with state.lock:
                state.batched.append(full)
            status, answer, headers = self._graph(state, full)
            responses.append(
                {
                    "id": request["id"],
                    "status": status,
                    "headers": {"Content-Type": "application/json", **headers},
                    "body": answer,
                }
            )
        self._send(200, {"responses": responses})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: GraphState
    url: str


@contextmanager
def graph_server(folder: Path, state: GraphState | None = None) -> Iterator[GraphServer]:
    """Serve the token endpoint and Graph on https://127.0.0.1:<free port>."""
    cert_path, key_path = server_certificate(folder, "graph")
    cert, key = str(cert_path), str(key_path)
    server = _Server(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state = state or GraphState()
    server.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GraphServer(server.url, cert, server.state)
    finally:
        server.shutdown()
        server.server_close()
