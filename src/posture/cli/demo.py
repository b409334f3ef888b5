"""posture demo"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from posture.cli.runtime import console, state
from posture.cli.scan import print_outcome, progress_display


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(Path("out"), "--out", metavar="DIR", help="Where the reports go."),
    scale: int = typer.Option(
        1, "--scale", min=1, metavar="N", help="Multiply the planted estate."
    ),
) -> None:
    """Plant a misconfigured AWS estate in a local moto server, scan it and write reports."""
    from posture.demo.runner import run_demo

    st = state(ctx)
    console.print(
        "planting a deliberately misconfigured AWS estate (with correctly configured twins) in a local moto server ..."
    )
    with progress_display() as factory:
        result = run_demo(st.store(), st.catalog(), out=out, scale=scale, progress=factory)
    bad = sum(1 for r in result.manifest.resources if r.expected == "bad")
    good = len(result.manifest.resources) - bad
    console.print(
        f"planted {bad} misconfigured and {good} correctly configured resource checks in {', '.join(result.manifest.regions)}"
    )
    print_outcome(result.outcome)
    console.print(f"{len(result.failing_policies)} distinct policies failed")
    console.print(f"store: {escape(str(st.store().engine.url))}")
    console.print("reports:")
    for path in result.reports:
        console.print(f"  {escape(str(path.resolve()))}")
