"""What Graph's error answers mean for a scan: a licence gap, a missing permission, or a failure.

A tenant without the licence a feature needs is not misconfigured and the data is not
missing by accident: such answers become a *not applicable* scope with the plan named,
never an error and never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

# error codes Graph answers when the tenant's licence lacks the feature
LICENCE_CODES = frozenset(
    {
        "AadPremiumLicenseRequired",
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    }
)
# message fragments of licence answers whose code is generic (PIM answers 400 or 403)
LICENCE_TEXTS = (
    "premium license",
    "non-premium tenant",
    "aad premium",
    "entra id premium",
    "does not have a valid license",
    "tenant is not licensed",
    "premium 2 license",
)
# Intune answers 400 BadRequest "Request not applicable to target tenant." (or a 403 naming
# Intune) when the tenant has no Intune subscription
INTUNE_TEXTS = (
    "not applicable to target tenant",
    "not enabled for intune",
    "intune license",
    "not licensed for intune",
)
INTUNE_PATHS = ("/devicemanagement", "/deviceappmanagement")
DENIED_CODES = frozenset(
    {"Authorization_RequestDenied", "Forbidden", "accessDenied", "AccessDenied", "Unauthorized"}
)
# Graph paths whose features need Entra ID P2 (the rest of the licence-gated ones need P1)
P2_PATHS = (
    "/rolemanagement/directory/roleeligibility",
    "/rolemanagement/directory/roleassignmentschedule",
    "/policies/rolemanagementpolic",
    "/identitygovernance/",
    "/identityprotection/",
    "/riskyusers",
    "/riskdetections",
    "/privilegedaccess/",
)
THROTTLED = frozenset({429, 503, 504})


@dataclass(frozen=True)
class GraphFailure:
    """One failed Graph answer, reduced to what the collector decides on."""

    status: int
    code: str
    message: str

    @property
    def licence(self) -> bool:
        if self.code in LICENCE_CODES:
            return True
        text = self.message.lower()
        texts = LICENCE_TEXTS + INTUNE_TEXTS
        return self.status in (400, 403) and any(t in text for t in texts)

    @property
    def denied(self) -> bool:
        return self.status == 403 or self.code in DENIED_CODES

    @property
    def throttled(self) -> bool:
        return self.status in THROTTLED


def licence_reason(path: str) -> str:
    """The plan a licence-gated Graph path needs, as the sentence results carry."""
    lowered = path.lower()
    if any(p in lowered for p in INTUNE_PATHS):
        return "requires Microsoft Intune"
    plan = "P2" if any(p in lowered for p in P2_PATHS) else "P1"
    return f"requires Microsoft Entra ID {plan}"
