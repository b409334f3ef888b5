"""Shared CLI state (the operations context, consoles) and error handling."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from posture.errors import PostureError
from posture.operations import Operations

# outside a terminal (logs, CI) Rich would assume 80 columns and squeeze every table
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


# the CLI's operations context: built from the global options, opened on first use
State = Operations


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
