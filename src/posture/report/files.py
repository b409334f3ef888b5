"""Writing a rendered report to disk under a safe, predictable file name.

The tenant slug comes from configuration a customer may influence; it must never be
able to leave the output folder or produce a name a shell or a mail client chokes on.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from posture.errors import UsageError
from posture.report.html import render_html
from posture.report.i18n import check_language
from posture.report.model import ReportData
from posture.report.pdf import render_pdf

FORMATS = ("html", "pdf")
MAX_SLUG_LENGTH = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_slug(slug: str) -> str:
    """Keep ``[A-Za-z0-9._-]`` only; other runs become ``-``; never empty, never dots only."""
    cleaned = _UNSAFE.sub("-", slug).strip(".-_")[:MAX_SLUG_LENGTH].strip(".-_")
    return cleaned or "tenant"


def report_file_name(data: ReportData, lang: str, fmt: str) -> str:
    """``posture-<slug>-<YYYY-MM>-<lang>.<fmt>``, the month being the period's start."""
    check_language(lang)
    _check_format(fmt)
    month = data.period_start.strftime("%Y-%m")
    return f"posture-{safe_slug(data.tenant_slug)}-{month}-{lang}.{fmt}"


def write_report(data: ReportData, lang: str, fmt: str, out_dir: Path | str) -> Path:
    """Render ``data`` as ``fmt`` (html or pdf) into ``out_dir``; returns the file written.

    The file appears atomically: a reader (a mailer, a web download) never sees half a PDF.
    """
    target = Path(out_dir) / report_file_name(data, lang, fmt)
    payload = render_pdf(data, lang) if fmt == "pdf" else render_html(data, lang).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, payload)
    return target


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unsupported report format {fmt!r}", hint="choose html or pdf")


def _atomic_write(target: Path, payload: bytes) -> None:
    handle, temp_name = tempfile.mkstemp(prefix=".posture-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
