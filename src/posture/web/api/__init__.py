"""The REST API, mounted at ``/api/v1``: every endpoint calls posture's operations.

Authentication is an API token (``Authorization: Bearer pst_...``) or the console's
session cookie with its CSRF header; rights and tenant scope are checked by the
operations' access rules. Errors are JSON (see ``posture.web.errors``).
"""

from fastapi import APIRouter

from posture.web.api import audit, files, findings, identity, scans, tenants, waivers

router = APIRouter()
for module in (identity, tenants, scans, findings, waivers, files, audit):
    router.include_router(module.router)

__all__ = ["router"]
