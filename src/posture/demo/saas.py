"""The demo's SaaS tenants: local Graph and Google servers in this process, like moto for AWS.

Three connections of the demo customer point the real msgraph-sdk, azure-identity and
google-api-python-client at them over HTTPS (a certificate made at start, trusted through
``ca_bundle``), exactly as a user points them at a sovereign cloud or a proxy:

* ``demo-m365``: Acme's Microsoft 365 tenant, misconfigured, with correct twins of its
  per-object mistakes;
* ``demo-m365-hardened``: the subsidiary's tenant, configured as recommended;
* ``demo-gws``: Acme's Google Workspace, whose ``/Hardened`` org unit is the twin;
* ``demo-gcp``: Acme's Google Cloud organisation (its ACTIVE projects, through its folders);
* ``demo-gcp-hardened``: its project ``acme-hardened`` alone, configured as recommended.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture.demo import saas_gcp, saas_gws, saas_m365
from posture.localapi import graph
from posture.localapi.dns import Zone, dns_server
from posture.localapi.gcp import gcp_server
from posture.localapi.google import google_server

M365_CONNECTION = "demo-m365"
M365_HARDENED_CONNECTION = "demo-m365-hardened"
GWS_CONNECTION = "demo-gws"
GCP_CONNECTION = "demo-gcp"
GCP_HARDENED_CONNECTION = "demo-gcp-hardened"
#: The demo app registration's secret is handed over in this variable, never stored.
SECRET_ENV = "POSTURE_DEMO_M365_SECRET"
GWS_ADMIN = f"admin.yamada@{saas_gws.DOMAIN}"


@dataclass
class SaasConnection:
    name: str
    provider: str
    settings: dict[str, Any]
    twin: bool = False  # every setting as recommended: no finding may appear on it


@dataclass
class LocalSaas:
    connections: list[SaasConnection] = field(default_factory=list)


_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu" + "Q" * 300 + "IDAQAB"


def demo_zone() -> Zone:
    """Mail records of the demo domains.

    Acme's domains publish a soft-failing SPF record, no DKIM key and a DMARC record that
    only monitors; the hardened subsidiary publishes SPF hard fail, both DKIM selectors and
    DMARC reject with aggregate reports.
    """
    main, hard = "acme.example", "acme-sec.example"
    dkim = f"v=DKIM1; k=rsa; p={_KEY}"
    return {
        main: {"TXT": ["v=spf1 include:spf.protection.outlook.com ~all", "MS=ms12345678"]},
        f"_dmarc.{main}": {"TXT": ["v=DMARC1; p=none"]},
        "acmejp.onmicrosoft.com": {"TXT": ["v=spf1 include:spf.protection.outlook.com -all"]},
        hard: {"TXT": ["v=spf1 include:spf.protection.outlook.com -all"]},
        f"_dmarc.{hard}": {
            "TXT": [
                f"v=DMARC1; p=reject; pct=100; rua=mailto:dmarc@{hard}; ruf=mailto:dmarc@{hard}"
            ]
        },
        f"selector1._domainkey.{hard}": {
            "CNAME": "selector1-acme-sec-example._domainkey.acmesec.onmicrosoft.com"
        },
        f"selector2._domainkey.{hard}": {
            "CNAME": "selector2-acme-sec-example._domainkey.acmesec.onmicrosoft.com"
        },
        "selector1-acme-sec-example._domainkey.acmesec.onmicrosoft.com": {"TXT": [dkim]},
        "selector2-acme-sec-example._domainkey.acmesec.onmicrosoft.com": {"TXT": [dkim]},
        "acmesec.onmicrosoft.com": {"TXT": ["v=spf1 include:spf.protection.outlook.com -all"]},
        "_dmarc.acmesec.onmicrosoft.com": {
            "TXT": ["v=DMARC1; p=reject; rua=mailto:dmarc@acme-sec.example"]
        },
        saas_gws.DOMAIN: {"TXT": ["v=spf1 include:_spf.google.com ?all"]},
    }


@contextmanager
def local_saas(folder: Path) -> Iterator[LocalSaas]:
    """Start the local Graph (two tenants), Google Workspace and Google Cloud servers; stop
    them on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = graph.CLIENT_SECRET
    try:
        with ExitStack() as stack:
            local = LocalSaas()
            resolver = stack.enter_context(dns_server(demo_zone())).server
            for name, tenant_id, hardened in (
                (M365_CONNECTION, saas_m365.MAIN_TENANT_ID, False),
                (M365_HARDENED_CONNECTION, saas_m365.HARDENED_TENANT_ID, True),
            ):
                state = graph.GraphState(tenant=saas_m365.tenant(hardened=hardened))
                (folder / name).mkdir(exist_ok=True)
                server = stack.enter_context(graph.graph_server(folder / name, state))
                settings = server.settings(
                    tenant_id=tenant_id,
                    client_secret_env=SECRET_ENV,
                    max_attempts=3,
                    dns_server=resolver,
                )
                local.connections.append(SaasConnection(name, "m365", settings, twin=hardened))
            (folder / GWS_CONNECTION).mkdir(exist_ok=True)
            google = stack.enter_context(google_server(folder / GWS_CONNECTION))
            google.fake.data = saas_gws.estate()
            google.fake.retry_after = "0"
            local.connections.append(
                SaasConnection(
                    GWS_CONNECTION,
                    "gws",
                    {
                        "customer_id": "my_customer",
                        "admin_email": GWS_ADMIN,
                        "key_file": str(google.key_file),
                        "root_url": google.url,
                        "ca_bundle": str(google.ca_bundle),
                        "dns_server": resolver,
                    },
                )
            )
            (folder / GCP_CONNECTION).mkdir(exist_ok=True)
            cloud = stack.enter_context(gcp_server(folder / GCP_CONNECTION, saas_gcp.populate))
            cloud.fake.retry_after = "0"
            reach = {
                "key_file": str(cloud.key_file),
                "root_url": cloud.url,
                "ca_bundle": str(cloud.ca_bundle),
            }
            local.connections.append(
                SaasConnection(
                    GCP_CONNECTION,
                    "gcp",
                    {"organization_id": saas_gcp.ORGANIZATION_ID, **reach},
                )
            )
            local.connections.append(
                SaasConnection(
                    GCP_HARDENED_CONNECTION,
                    "gcp",
                    {"projects": [saas_gcp.HARDENED], **reach},
                    twin=True,
                )
            )
            yield local
    finally:
        if saved is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = saved
