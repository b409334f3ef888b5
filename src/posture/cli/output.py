"""Output helpers: tables that never cut a policy id, raw UTF-8 exports, argument help."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

from posture.cli.runtime import console

# columns left for the others before a policy id is folded rather than kept on one line
ROOM_FOR_OTHERS = 40


def table(
    *headers: str,
    policy: str | None = None,
    policy_ids: Iterable[str] = (),
    out: Console | None = None,
) -> Table:
    """A Rich table whose ``policy`` column shows every id whole.

    An id stays on one line while the console leaves room for the other columns, and
    folds onto the next line, never cut with an ellipsis, when it does not: an id is
    what a user copies into ``--policy`` or a waiver.
    """
    width = (out or console).width
    result = Table()
    for header in headers:
        if header != policy:
            result.add_column(header)
            continue
        longest = max((len(i) for i in policy_ids), default=len(header))
        if longest <= width - ROOM_FOR_OTHERS:
            result.add_column(header, no_wrap=True, min_width=longest)
        else:
            result.add_column(header, overflow="fold")
    return result


def write_raw(text: str) -> None:
    """Write ``text`` to stdout as UTF-8 whatever the terminal's encoding (CSV for Excel)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    buffer.write(text.encode("utf-8"))
    buffer.flush()


class Command(TyperCommand):
    """A command whose arguments appear in ``--help`` by their metavar alone.

    Typer would print an argument as ``SLUG <str>`` and ``{SLUG}`` in the usage line;
    the type and the braces add nothing a user needs.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            name = param.metavar or (param.name or "").upper()
            piece = name if param.required else f"[{name}]"
            pieces.append(piece + ("..." if param.nargs != 1 else ""))
        return pieces

    # Typer ships its own copy of click, so its context and formatter types are left open
    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((param.metavar or record[0], record[1]))
            else:
                options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)
