"""What every operation works with: one store and one catalog, opened on first use.

A face builds one ``Operations`` per process (the CLI from its global options, a web
worker from its settings) and hands it to the operation functions. Opening lazily keeps
commands that need neither, such as ``--help``, fast. ``actor`` and ``source`` say who
acts and through which face; every change an operation makes is audited under them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from posture.catalog import Catalog, load_catalog
from posture.errors import ContentError
from posture.store import Store


@dataclass
class Operations:
    """The store URL and content folders of one installation, and what they open."""

    db_url: str | None = None
    policy_dirs: list[Path] = field(default_factory=list)
    scanner_dirs: list[Path] = field(default_factory=list)
    remediation_dirs: list[Path] = field(default_factory=list)
    actor: str = ""  # who acts (empty: the operating-system user)
    source: str = ""  # the face and where it runs, e.g. "cli alice@host"
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
    ) -> Operations:
        """Operations over an already open store (and catalog), e.g. in tests or a worker."""
        ops = cls(actor=actor, source=source)
        ops._store, ops._catalog = store, catalog
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

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: it commits when the block ends, or rolls back on an error."""
        with self.store().session() as session:
            yield session
