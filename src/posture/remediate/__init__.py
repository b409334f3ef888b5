"""Setting repair: read, change, verify and restore one setting of one resource.

``registry`` holds the typed handler interface (``FixHandler``) and the handlers registered
with ``@fix_handler(name)``; ``declarative`` runs the fixes written as steps in YAML;
``clients`` opens the write credentials of a connection as a ``ProviderClient``.
"""

from posture.remediate.registry import (
    FixContext,
    FixHandler,
    ProviderCallError,
    ProviderClient,
    Target,
    fix_handler,
    handler_for,
)

__all__ = [
    "FixContext",
    "FixHandler",
    "ProviderCallError",
    "ProviderClient",
    "Target",
    "fix_handler",
    "handler_for",
]
