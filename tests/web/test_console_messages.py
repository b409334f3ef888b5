"""The console's texts exist in Japanese and English, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from posture.report.i18n import load_messages, placeholders
from posture.report.templating import reports_dir

TEMPLATES = reports_dir() / "templates" / "web"
SOURCES = Path(__file__).parents[2] / "src" / "posture" / "web" / "console"
KEY = re.compile(r"""["'](web\.[a-z0-9_.]+[a-z0-9_])["']""")


def test_every_web_key_in_both_languages_with_the_same_placeholders() -> None:
    ja, en = load_messages("ja"), load_messages("en")
    ja_all, en_all = ja.keys(), en.keys()
    ja_keys = {k for k in ja_all if k.startswith("web.")}
    en_keys = {k for k in en_all if k.startswith("web.")}
    assert ja_keys == en_keys
    for key in en_keys:
        assert placeholders(ja.template(key)) == placeholders(en.template(key)), key


def test_every_key_the_console_names_exists() -> None:
    en = load_messages("en").keys()
    files = [*TEMPLATES.glob("*.j2"), *SOURCES.glob("*.py")]
    named = {key for f in files for key in KEY.findall(f.read_text(encoding="utf-8"))}
    # a key ending in "_" is a prefix completed at render time (web.error.title_404)
    missing = sorted(k for k in named if not k.endswith("_") and k not in en)
    assert missing == []
    for prefix in sorted(k for k in named if k.endswith("_")):
        assert any(k.startswith(prefix) for k in en), prefix
