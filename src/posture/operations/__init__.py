"""What an operator does, written once for every face (CLI, web console, API, scheduler).

Each function takes an ``Operations`` (the store and the catalog), checks its input,
resolves the tenant it works on, owns its transaction and returns plain typed values.
Errors are ``PostureError`` subclasses with messages a user can act on. Nothing here
prints, parses command lines or knows about HTTP: that is the faces' work.

Modules: ``tenants``, ``connections``, ``scans``, ``findings``, ``results``,
``history`` (state at a period end, changes, trends), ``waivers``, ``notifications``,
``reports``, ``exports``, ``policies``, ``frameworks``, ``schedules``, ``retention``,
``audit``, ``usage``; ``filters`` and ``rows`` hold what they share. Every function that
changes something records it with ``audit.record`` under the context's ``actor`` and ``source``.
``ocsf`` holds the OCSF events ``exports`` writes for a SIEM.
"""

from posture.operations.context import Operations
from posture.operations.findings import FindingQuery
from posture.operations.results import ResultQuery
from posture.operations.rows import FindingRow, ResultRow, Text

__all__ = ["FindingQuery", "FindingRow", "Operations", "ResultQuery", "ResultRow", "Text"]
