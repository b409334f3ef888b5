"""Microsoft 365 / Entra ID connector: app-only Graph access through msgraph-sdk.

``scanners/m365/*.yaml`` say which Graph paths list each resource type; this package signs
in with azure-identity, executes those specs through the SDK's request adapter and maps
Graph's answers (licence gaps, missing permissions, throttling) to posture's outcomes.
"""
