"""Shared CLI state (store, catalog, console) and error handling."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from posture.catalog import Catalog, load_catalog
from posture.errors import PostureError
from posture.store import Store

# outside a terminal (logs, CI) Rich would assume 80 columns and squeeze every table
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


@dataclass
class State:
    db_url: str | None = None
    policy_dirs: list[Path] = field(default_factory=list)
    scanner_dirs: list[Path] = field(default_factory=list)
    _store: Store | None = None
    _catalog: Catalog | None = None

    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.scanner_dirs, self.policy_dirs)
        return self._catalog


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def run_app(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the Typer app; map posture errors to exit codes (2: bad input, 1: failure)."""
    command = typer.main.get_command(app)
    try:
        result: Any = command.main(args=args, standalone_mode=False, prog_name="posture")
    except PostureError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)
        if exc.hint:
            err_console.print(f"  hint: {exc.hint}", markup=False)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted", markup=False)
        return 130
    except TyperException as exc:  # usage errors: unknown command, missing option, bad value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return int(getattr(exc, "exit_code", 2))
    return int(result) if isinstance(result, int) else 0
