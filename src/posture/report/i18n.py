"""Message catalogs of the reports: every word a reader sees comes from here.

The catalogs are YAML files under ``reports/messages/`` so that a translator can review
them without reading Python (principles 1 and 8 of the design handbook). Nested keys are
flattened to dotted names (``severity.high``); values are ``str.format`` templates.
A language's catalog is ``<lang>.yaml`` plus any ``<area>.<lang>.yaml`` beside it (the web
console's texts, the fixes' texts, ...); a key defined twice is a content error.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from posture.content import builtin_dir
from posture.errors import ContentError, UsageError
from posture.yamlload import LocatedDocument, load_yaml

SUPPORTED_LANGUAGES = ("en", "ja")


class Messages:
    """The catalog of one language; calling it looks up and fills a message."""

    def __init__(self, lang: str, entries: Mapping[str, str], source: str = "") -> None:
        self.lang = lang
        self._entries = dict(entries)
        self._source = source or f"{lang}.yaml"

    def template(self, key: str) -> str:
        """The raw template of ``key``; a missing key is a content error, never a blank."""
        try:
            return self._entries[key]
        except KeyError:
            raise ContentError(f"message '{key}' is missing", path=self._source) from None

    def __call__(self, key: str, **params: object) -> str:
        template = self.template(key)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError) as exc:
            raise ContentError(
                f"message '{key}' has an unknown or malformed placeholder: {exc}",
                path=self._source,
            ) from exc

    def get(self, key: str, default: str) -> str:
        """Label of a value that may be outside the catalog (e.g. a new severity)."""
        return self._entries.get(key, default)

    def keys(self) -> frozenset[str]:
        return frozenset(self._entries)


def messages_dir() -> Path:
    return builtin_dir("reports") / "messages"


def check_language(lang: str) -> str:
    """Reject a language early: it also ends up in file names and ``<html lang>``."""
    if lang not in SUPPORTED_LANGUAGES:
        raise UsageError(
            f"unsupported report language {lang!r}",
            hint=f"choose one of {', '.join(SUPPORTED_LANGUAGES)}",
        )
    return lang


@lru_cache(maxsize=8)
def load_messages(lang: str, directory: Path | None = None) -> Messages:
    """Catalog of ``lang``, read once per process (reports are rendered in batches)."""
    check_language(lang)
    folder = directory or messages_dir()
    path = folder / f"{lang}.yaml"
    entries = load_catalog(path)
    for extra in sorted(folder.glob(f"*.{lang}.yaml")):
        for key, value in load_catalog(extra).items():
            if key in entries:
                raise ContentError(f"message '{key}' is defined twice", path=str(extra))
            entries[key] = value
    return Messages(lang, entries, str(path))


def load_catalog(path: Path) -> dict[str, str]:
    """Flatten one catalog file; every leaf must be a string."""
    document = load_yaml(path)
    if not isinstance(document.data, dict):
        raise ContentError("a message catalog must be a mapping", path=str(path), line=1)
    flat: dict[str, str] = {}
    _flatten(document.data, (), flat, document)
    return flat


def _flatten(
    node: dict[Any, Any], prefix: tuple[str, ...], out: dict[str, str], doc: LocatedDocument
) -> None:
    for raw_key, value in node.items():
        loc = (*prefix, str(raw_key))
        if isinstance(value, dict):
            _flatten(value, loc, out, doc)
        elif isinstance(value, str):
            out[".".join(loc)] = value
        else:
            raise ContentError(
                "a message must be text",
                path=doc.path,
                line=doc.line_of((*prefix, raw_key)),
                field=".".join(loc),
            )


def placeholders(template: str) -> frozenset[str]:
    """Names used in ``{braces}``: both languages of a message must use the same ones."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )
