"""Notify sits beside the reports: it renders and sends, and never calls up into operations."""

from __future__ import annotations

from tests.unit.test_layers import SRC, STORE_MODULES, _is, imported, modules


def test_notify_renders_and_sends_without_the_store_or_the_faces() -> None:
    for path in modules("notify"):
        bad = [
            n
            for n in imported(path)
            if _is(n, ("posture.operations", "posture.cli", *STORE_MODULES))
        ]
        assert not bad, f"{path.name} imports {bad}"
    assert (SRC / "notify" / "transport.py").exists()
