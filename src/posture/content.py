"""Where the built-in content folders live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

CONTENT_KINDS = ("scanners", "policies", "remediation", "reports")


def builtin_dir(kind: str) -> Path:
    """Folder of built-in content of ``kind`` (``scanners``, ``policies``, ...).

    A wheel carries the folders under ``posture/_content``; a source checkout keeps them at
    the repository root.
    """
    if kind not in CONTENT_KINDS:
        raise ValueError(f"unknown content kind {kind!r}")
    here = Path(__file__).resolve().parent
    packaged = here / "_content" / kind
    if packaged.is_dir():
        return packaged
    return here.parent.parent / kind
