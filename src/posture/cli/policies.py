"""posture policies list|validate|test"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from posture.catalog import Catalog
from posture.cli import output
from posture.cli.runtime import console, err_console, state
from posture.engine import run_policy_tests
from posture.operations.policies import list_policies, validate_content

app = typer.Typer(help="Inspect, validate and test policies.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    provider: str | None = typer.Option(
        None, "--provider", metavar="PROVIDER", help="Only policies of this provider, e.g. aws."
    ),
    framework: str | None = typer.Option(
        None,
        "--framework",
        metavar="FRAMEWORK",
        help="Only policies mapped to this framework, e.g. cis-aws-7.0.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the policies as JSON."),
) -> None:
    """List policies with severity and framework controls."""
    chosen = list_policies(state(ctx), provider=provider, framework=framework)
    if as_json:
        print(json.dumps([p.as_dict() for p in chosen], ensure_ascii=False, indent=2))
        return
    table = output.table(
        "id",
        "severity",
        "resource",
        "controls",
        "title",
        policy="id",
        policy_ids=(p.id for p in chosen),
    )
    for p in chosen:
        controls = ", ".join(f"{fw} {' '.join(c)}" for fw, c in p.frameworks.items())
        table.add_row(p.id, p.severity, p.resource, escape(controls), escape(p.title.en))
    console.print(table)
    console.print(f"{len(chosen)} policies")


def _catalog_for(ctx: typer.Context, folders: list[Path]) -> Catalog:
    st = state(ctx)
    return st.catalog_with(folders) if folders else st.catalog()


@app.command("validate", cls=output.Command)
def validate(
    ctx: typer.Context,
    folders: list[Path] = typer.Argument(
        None, metavar="FOLDER", help="Extra policy folders to check with the built-in ones."
    ),
) -> None:
    """Load and validate scanner specs, frameworks and policies; exit 2 on any problem.

    Every problem of every broken policy file is listed as file:line: field.
    """
    check = validate_content(state(ctx), folders or [])
    for problem in check.problems:
        err_console.print(escape(problem.message), soft_wrap=True)
        if problem.hint:
            err_console.print(f"  hint: {problem.hint}", markup=False)
    for message in check.spec_problems:
        err_console.print(escape(message), soft_wrap=True)
    if not check.ok:
        count = len(check.problems) + len(check.spec_problems)
        err_console.print(f"{count} problem(s)")
        raise typer.Exit(2)
    console.print(
        f"ok: {check.resource_types} resource types, {check.policies} policies, "
        f"{check.frameworks} frameworks, {check.fixes} fixes"
    )


@app.command("test", cls=output.Command)
def test(
    ctx: typer.Context,
    folders: list[Path] = typer.Argument(
        None, metavar="FOLDER", help="Extra policy folders to test with the built-in ones."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List every case that passed."),
    policy_ids: list[str] = typer.Option(
        [], "--policy", metavar="POLICY", help="Only this policy id or id prefix (repeatable)."
    ),
    statements: bool = typer.Option(
        False, "--statements", help="Print the statement each failing case renders (en and ja)."
    ),
) -> None:
    """Run every policy's own pass/fail cases (exit 1 if any fails)."""
    catalog = _catalog_for(ctx, folders or [])
    total = failed = 0
    for policy in catalog.select(ids=policy_ids):
        for outcome in run_policy_tests(policy):
            if statements:
                for lang, text in outcome.rendered:
                    console.print(f"{policy.id} [{escape(outcome.case)}] {lang}: {escape(text)}")
            total += 1
            if not outcome.ok:
                failed += 1
                err_console.print(
                    f"FAIL {policy.id} [{escape(outcome.case)}] ({escape(policy.source)}):\n"
                    + escape(outcome.explain())
                )
            elif verbose:
                console.print(f"ok   {policy.id} [{escape(outcome.case)}]")
    console.print(f"{total - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
