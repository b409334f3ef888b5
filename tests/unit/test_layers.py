"""Imports point one way: faces call operations, operations never know about faces.

The CLI parses input, calls ``posture.operations`` and renders what it returns; it never
reaches the store itself, so the web console and the scheduler get the same rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import posture

SRC = Path(posture.__file__).resolve().parent
STORE_MODULES = ("posture.store", "sqlmodel", "sqlalchemy")
TERMINAL_MODULES = ("typer", "rich", "click")


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def session_calls(path: Path) -> list[int]:
    """Lines that call a ``.session()`` method (opening a store transaction)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "session"
    ]


def _is(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


@pytest.mark.parametrize("path", modules("cli"), ids=lambda p: p.name)
def test_cli_never_reaches_the_store(path: Path) -> None:
    bad = sorted(n for n in imported(path) if _is(n, STORE_MODULES))
    assert not bad, f"{path.name} imports {bad}; call posture.operations instead"
    assert not session_calls(path), f"{path.name} opens a store session"


@pytest.mark.parametrize("path", modules("operations"), ids=lambda p: p.name)
def test_operations_know_no_terminal(path: Path) -> None:
    bad = sorted(n for n in imported(path) if _is(n, (*TERMINAL_MODULES, "posture.cli")))
    assert not bad, f"{path.name} imports {bad}; operations return values, faces render them"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prints = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
    ]
    assert not prints, f"{path.name} prints at lines {prints}"


def test_the_scan_stage_does_not_call_up_into_operations() -> None:
    for path in [SRC / "scan.py", SRC / "lifecycle.py", *modules("report")]:
        assert not any(_is(n, ("posture.operations", "posture.cli")) for n in imported(path))


def test_the_checks_see_the_imports() -> None:
    """The scanner itself works: it finds a store import where there is one."""
    assert "posture.store" in imported(SRC / "operations" / "results.py")
    assert session_calls(SRC / "operations" / "results.py")
