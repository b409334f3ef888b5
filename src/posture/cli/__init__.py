"""The ``posture`` command line. Only this package (and ``service``) knows about terminals."""

from __future__ import annotations

import sys

from posture.cli.app import app


def main() -> None:
    """Console entry point; ``PostureError`` becomes a one-line message and its exit code."""
    from posture.cli.runtime import run_app

    sys.exit(run_app(app))


__all__ = ["app", "main"]
