"""The web face parses requests, calls operations and renders: it opens no store session
and writes no SQL, so the API and the console follow the same rules as the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layers import SRC, imported, modules, session_calls

SQL_MODULES = ("sqlmodel", "sqlalchemy", "alembic")


@pytest.mark.parametrize("path", modules("web"), ids=lambda p: p.name)
def test_the_web_face_never_reaches_the_database(path: Path) -> None:
    bad = sorted(n for n in imported(path) if n.split(".")[0] in SQL_MODULES)
    assert not bad, f"{path.relative_to(SRC)} imports {bad}; call posture.operations instead"
    assert not session_calls(path), f"{path.relative_to(SRC)} opens a store session"


def test_the_web_package_is_found() -> None:
    assert len(modules("web")) >= 10
