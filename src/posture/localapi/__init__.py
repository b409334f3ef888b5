"""Local servers that answer like Microsoft Graph (with its token endpoint) and Google's
Workspace APIs, over HTTPS with a certificate made at start.

They speak the providers' documented formats, so the real msgraph-sdk, azure-identity and
google-api-python-client are pointed at them exactly as a user points them at a sovereign
cloud or a proxy (``--authority``, ``--graph-url``, ``--root-url``, ``--ca-bundle``). The
demo runs its Microsoft 365 and Google Workspace tenants on them, in-process, the way it
runs AWS on moto; the tests use them with faults injected (throttling, denied permissions,
licence answers).
"""
