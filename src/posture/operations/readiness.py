"""Is the installation ready to serve: the store answers and its schema is the newest?

A load balancer asks this before it sends traffic (``/readyz``); a failing store, or a
schema behind the code (a deployment that skipped its migration), means not ready.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from posture.errors import PostureError
from posture.operations.context import Operations
from posture.store.db import MIGRATIONS


@dataclass(frozen=True)
class Readiness:
    ready: bool
    store: str  # ok | unreachable | behind
    revision: str = ""  # the schema's revision(s), comma-separated
    expected: str = ""  # the code's head revision(s)
    message: str = ""


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def check_readiness(ops: Operations) -> Readiness:
    """The store's reachability and schema revision; never raises."""
    expected = head_revisions()
    try:
        engine = ops.store().engine
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except (SQLAlchemyError, PostureError) as exc:
        message = exc.message if isinstance(exc, PostureError) else type(exc).__name__
        return Readiness(False, "unreachable", expected=",".join(sorted(expected)), message=message)
    revision, wanted = ",".join(sorted(current)), ",".join(sorted(expected))
    if current != expected:
        return Readiness(
            False, "behind", revision, wanted, "the schema is not at the newest revision"
        )
    return Readiness(True, "ok", revision, wanted)
