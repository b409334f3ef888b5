"""What every operation works with: one store and one catalog, opened on first use.

A face builds one ``Operations`` per process (the CLI from its global options, a web
worker from its settings) and hands it to the operation functions. Opening lazily keeps
commands that need neither, such as ``--help``, fast. ``actor`` and ``source`` say who
acts and through which face; every change an operation makes is audited under them.
``principal`` is the signed-in user a web face acts for (None: the local operator, who
may do everything); operations check it with ``access.require``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from posture.catalog import Catalog, load_catalog
from posture.errors import ContentError
from posture.scan import Executor
from posture.store import Store

if TYPE_CHECKING:
    from posture.operations.access import Principal


@dataclass
class Operations:
    """The store URL and content folders of one installation, and what they open."""

    db_url: str | None = None
    policy_dirs: list[Path] = field(default_factory=list)
    scanner_dirs: list[Path] = field(default_factory=list)
    remediation_dirs: list[Path] = field(default_factory=list)
    actor: str = ""  # who acts (empty: the operating-system user)
    source: str = ""  # the face and where it runs, e.g. "cli alice@host"
    # the tenant ids this context may see and change; None: every tenant (the local operator)
    tenant_scope: frozenset[str] | None = None
    # runs the connections of a scan; None: one after the other in this process
    executor: Executor | None = None
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
        tenant_scope: frozenset[str] | None = None,
        principal: Principal | None = None,
    ) -> Operations:
        """Operations over an already open store (and catalog), e.g. in tests or a worker."""
        ops = cls(actor=actor, source=source, tenant_scope=tenant_scope, principal=principal)
        ops._store, ops._catalog = store, catalog
        return ops

    def for_tenants(self, tenant_scope: frozenset[str] | None) -> Operations:
        """A copy limited to ``tenant_scope`` (tenant ids), sharing this store and catalog.

        (``dataclasses.replace`` would not share them: they are opened lazily per copy.)
        """
        ops = dataclasses.replace(self, tenant_scope=tenant_scope)
        ops._store, ops._catalog = self._store, self._catalog
        return ops

    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(
                self.scanner_dirs, self.policy_dirs, remediation_dirs=self.remediation_dirs
            )
        return self._catalog

    def catalog_with(
        self,
        policy_dirs: Sequence[Path],
        problems: list[ContentError] | None = None,
        remediation_dirs: Sequence[Path] = (),
    ) -> Catalog:
        """The catalog extended by more policy and fix folders (not cached: used to validate
        them)."""
        return load_catalog(
            self.scanner_dirs,
            [*self.policy_dirs, *policy_dirs],
            problems=problems,
            remediation_dirs=[*self.remediation_dirs, *remediation_dirs],
        )

    def effective_scope(self) -> frozenset[str] | None:
        """The tenant ids this context may see: its own scope and its principal's, both."""
        mine = self.tenant_scope
        theirs = self.principal.tenant_scope if self.principal else None
        if mine is None:
            return theirs
        return mine if theirs is None else mine & theirs

    def acting_as(self, principal: Principal | None) -> Operations:
        """The same store and catalog, acting for ``principal`` (audited under its name)."""
        ops = Operations(
            db_url=self.db_url,
            policy_dirs=self.policy_dirs,
            scanner_dirs=self.scanner_dirs,
            remediation_dirs=self.remediation_dirs,
            actor=principal.username if principal else self.actor,
            source=self.source,
            tenant_scope=self.tenant_scope,
            executor=self.executor,
            principal=principal,
        )
        ops._store, ops._catalog = self.store(), self._catalog
        return ops

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: it commits when the block ends, or rolls back on an error.

        It sees only the tenants of ``tenant_scope`` and of the principal's scope, both when
        set (``session.info["tenant_scope"]``, enforced by ``posture.store.scope`` and, on
        PostgreSQL, row-level security).
        """
        with self.store().session(tenant_scope=self.effective_scope()) as session:
            yield session
