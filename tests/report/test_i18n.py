"""The message catalogs: same keys and placeholders in both languages, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import posture.report
from posture.engine.conditions import OPERATORS
from posture.errors import ContentError, UsageError
from posture.japanese import stray_space
from posture.models import Severity
from posture.report.i18n import (
    SUPPORTED_LANGUAGES,
    load_catalog,
    load_messages,
    messages_dir,
    placeholders,
)
from posture.report.templating import reports_dir


def _catalogs() -> dict[str, dict[str, str]]:
    """Each language's whole catalog: ``<lang>.yaml`` and every ``<area>.<lang>.yaml``."""
    return {
        lang: {
            key: value
            for path in [messages_dir() / f"{lang}.yaml", *messages_dir().glob(f"*.{lang}.yaml")]
            for key, value in load_catalog(path).items()
        }
        for lang in SUPPORTED_LANGUAGES
    }


def test_area_catalogs_merge_and_reject_a_key_defined_twice(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("report:\n  title: Report\n", encoding="utf-8")
    (tmp_path / "web.en.yaml").write_text("web:\n  login: Sign in\n", encoding="utf-8")
    merged = load_messages("en", tmp_path)
    assert merged("web.login") == "Sign in" and merged("report.title") == "Report"
    (tmp_path / "zz.en.yaml").write_text("report:\n  title: Again\n", encoding="utf-8")
    load_messages.cache_clear()
    with pytest.raises(ContentError, match="defined twice"):
        load_messages("en", tmp_path)
    load_messages.cache_clear()


def test_both_catalogs_have_the_same_keys() -> None:
    catalogs = _catalogs()
    en, ja = set(catalogs["en"]), set(catalogs["ja"])
    assert en - ja == set(), "missing in ja.yaml"
    assert ja - en == set(), "missing in en.yaml"


# Date formats pick different parts: "June 1, 2025" uses the month name, "2025年6月1日" the number.
DATE_PARTS = {"year", "month", "day", "month_name"}


def test_both_catalogs_use_the_same_placeholders() -> None:
    catalogs = _catalogs()
    for key, english in catalogs["en"].items():
        if key == "report.date":
            assert placeholders(english) <= DATE_PARTS
            assert placeholders(catalogs["ja"][key]) <= DATE_PARTS
            continue
        assert placeholders(english) == placeholders(catalogs["ja"][key]), key


def test_no_message_is_blank() -> None:
    for lang, catalog in _catalogs().items():
        assert all(value.strip() for value in catalog.values()), lang


def test_japanese_messages_have_no_stray_spaces() -> None:
    """The rule the catalog loader applies to policies holds for the report labels too."""
    problems = {
        key: excerpt
        for key, value in _catalogs()["ja"].items()
        if (excerpt := stray_space(value)) is not None
    }
    assert problems == {}


# t("key") in the templates and messages("key") in the report code; keys built at run time
# (f"severity.{key}") are covered by the tests of the code that builds them.
TEMPLATE_CALL = re.compile(r"""\bt\(\s*(["'])([^"']+)\1""")
CODE_CALL = re.compile(r'\bmessages(?:\.template)?\(\s*"([^"]+)"')


def _keys_used() -> set[str]:
    templates = (reports_dir() / "templates").glob("*.j2")
    used = {m.group(2) for path in templates for m in TEMPLATE_CALL.finditer(path.read_text())}
    code = Path(posture.report.__file__).parent.glob("*.py")
    return used | {m.group(1) for path in code for m in CODE_CALL.finditer(path.read_text())}


def test_every_key_used_by_the_templates_and_the_report_code_exists() -> None:
    used = _keys_used()
    assert {"report.title", "collection.warning", "evidence.line"} <= used, "patterns broken"
    for lang, catalog in _catalogs().items():
        assert used - set(catalog) == set(), lang


def test_every_engine_operator_has_a_phrase() -> None:
    """A new operator in the condition language must not print a raw name in reports."""
    for lang in SUPPORTED_LANGUAGES:
        keys = load_messages(lang).keys()
        for op in OPERATORS:
            for group in ("operators", "operators_negated"):
                plain = f"{group}.{op}" in keys
                boolean = {f"{group}.{op}_true", f"{group}.{op}_false"} <= keys
                assert plain or boolean, (lang, group, op)


def test_every_severity_has_a_label() -> None:
    for lang in SUPPORTED_LANGUAGES:
        messages = load_messages(lang)
        for severity in Severity:
            assert messages(f"severity.{severity.value}")


def test_japanese_labels_are_japanese() -> None:
    ja = load_messages("ja")
    assert ja("report.title") == "セキュリティ態勢レポート"
    assert ja("severity.critical") == "緊急"
    assert ja("operators.eq", expected="true") == "true と等しいこと"


def test_unknown_language_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unsupported report language 'fr'"):
        load_messages("fr")


def test_missing_key_names_the_key_and_file() -> None:
    with pytest.raises(ContentError, match=r"en\.yaml.*'no.such.key'"):
        load_messages("en")("no.such.key")


def test_non_text_message_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "en.yaml"
    path.write_text("severity:\n  high: High\n  low: 3\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"en\.yaml:3: field 'severity\.low'"):
        load_catalog(path)
