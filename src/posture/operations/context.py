"""What every operation works with: one store and one catalog, opened on first use.

A face builds one ``Operations`` per process (the CLI from its global options, a web
worker from its settings) and hands it to the operation functions. Opening lazily keeps
commands that need neither, such as ``--help``, fast. ``actor`` and ``source`` say who
acts and through which face; every change an operation makes is audited under them.
``principal`` is the signed-in user a web face acts for (None: the local operator, who
may do everything); operations check it with ``access.require``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from posture.catalog import Catalog, load_catalog
from posture.errors import ContentError
from posture.store import Store

if TYPE_CHECKING:
    from posture.operations.access import Principal


@dataclass
class Operations:
    """The store URL and content folders of one installation, and what they open."""

    db_url: str | None = None
    policy_dirs: list[Path] = field(default_factory=list)
    scanner_dirs: list[Path] = field(default_factory=list)
    actor: str = ""  # who acts (empty: the operating-system user)
    source: str = ""  # the face and where it runs, e.g. "cli alice@host"
    principal: Principal | None = None  # the signed-in user (None: the local operator)
    _store: Store | None = field(default=None, init=False, repr=False)
    _catalog: Catalog | None = field(default=None, init=False, repr=False)

    @classmethod
    def using(
        cls,
        store: Store,
        catalog: Catalog | None = None,
        *,
        actor: str = "",
        source: str = "",
        principal: Principal | None = None,
    ) -> Operations:
        """Operations over an already open store (and catalog), e.g. in tests or a worker."""
        ops = cls(actor=actor, source=source, principal=principal)
        ops._store, ops._catalog = store, catalog
        return ops

    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.scanner_dirs, self.policy_dirs)
        return self._catalog

    def catalog_with(
        self, policy_dirs: Sequence[Path], problems: list[ContentError] | None = None
    ) -> Catalog:
        """The catalog extended by more policy folders (not cached: used to validate them)."""
        return load_catalog(self.scanner_dirs, [*self.policy_dirs, *policy_dirs], problems=problems)

    def acting_as(self, principal: Principal | None) -> Operations:
        """The same store and catalog, acting for ``principal`` (audited under its name)."""
        ops = Operations(
            db_url=self.db_url,
            policy_dirs=self.policy_dirs,
            scanner_dirs=self.scanner_dirs,
            actor=principal.username if principal else self.actor,
            source=self.source,
            principal=principal,
        )
        ops._store, ops._catalog = self.store(), self._catalog
        return ops

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: it commits when the block ends, or rolls back on an error.

        ``session.info["tenant_scope"]`` carries the tenant ids the principal may see
        (None: every tenant), for the lookups that honour it."""
        with self.store().session() as session:
            session.info["tenant_scope"] = self.principal.tenant_scope if self.principal else None
            yield session
