"""Shared CLI state (the operations context, consoles) and error handling.

No traceback reaches the terminal: posture errors become one line and their exit code;
anything unexpected, and every warning or error logged during the run, goes to a log file
under ``$POSTURE_HOME/logs`` whose path is printed instead.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from io import TextIOWrapper
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from posture.errors import PostureError
from posture.operations import Operations
from posture.operations.audit import face_source

# outside a terminal (logs, CI) Rich would assume 80 columns and squeeze every table
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


# the CLI's operations context: built from the global options, opened on first use
State = Operations


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State(source=face_source("cli"))
        ctx.find_root().obj = obj
    return obj


def log_dir() -> Path:
    """Where run logs go: ``$POSTURE_HOME/logs``, by default ``~/.posture/logs``."""
    home = os.environ.get("POSTURE_HOME")
    return (Path(home) if home else Path.home() / ".posture") / "logs"


class RunLog(logging.FileHandler):
    """The log file of one run, created only when something is written to it."""

    def __init__(self) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        super().__init__(
            log_dir() / f"posture-{stamp}-{os.getpid()}.log", delay=True, encoding="utf-8"
        )
        self.setLevel(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.opened = False
        self.problem: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.baseFilename)

    def _open(self) -> TextIOWrapper:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stream = super()._open()
        self.opened = True
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            super().emit(record)
        except Exception:  # opening the file failed: the base class would raise
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """A read-only home or a full disk must not print a traceback either."""
        self.problem = str(sys.exc_info()[1])


def run_app(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the Typer app; map posture errors to exit codes (2: bad input, 1: failure)."""
    run_log = RunLog()
    root = logging.getLogger()
    root.addHandler(run_log)
    crashed = False
    try:
        return _run(app, args)
    except Exception as exc:  # last resort: a bug or an error nobody mapped yet
        crashed = True
        return _report_crash(run_log, exc)
    finally:
        root.removeHandler(run_log)
        run_log.close()
        if run_log.opened and not crashed:
            err_console.print(
                f"warnings and errors of this run were logged to {run_log.path}",
                markup=False,
                soft_wrap=True,
            )


def _run(app: typer.Typer, args: list[str] | None) -> int:
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


def _report_crash(run_log: RunLog, exc: Exception) -> int:
    """One line for the user; the traceback for a maintainer, in the run's log file."""
    logging.getLogger("posture").critical("unexpected error", exc_info=exc)
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    if run_log.opened and run_log.problem is None:
        where = f"details in {run_log.path}"
    else:
        where = f"the log file {run_log.path} could not be written: {run_log.problem}"
    err_console.print(
        f"[bold red]error:[/] unexpected {escape(summary)}; {escape(where)}", soft_wrap=True
    )
    return 1
