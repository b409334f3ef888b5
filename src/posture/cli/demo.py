"""posture demo"""

from __future__ import annotations

from pathlib import Path

import typer

from posture.cli.runtime import state


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(Path("out"), "--out", help="Where the reports go."),
    scale: int = typer.Option(1, "--scale", min=1, help="Multiply the planted estate."),
) -> None:
    """Plant a misconfigured AWS estate in a local moto server, scan it and write reports."""
    from posture.demo.runner import run_demo

    st = state(ctx)
    run_demo(st.store(), st.catalog(), out=out, scale=scale)
