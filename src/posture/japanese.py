"""Spacing rule for Japanese text in content files and message catalogs.

Japanese is written without spaces between words. A space that slips in, most often
because YAML joins the lines of a folded (``>``) or multi-line scalar with a space, shows
up in every report as a gap in the middle of a sentence. Spaces between Japanese and
Latin text ("IAM ユーザー", "{count} 件") are ordinary typography and stay allowed.
"""

from __future__ import annotations

import re

# Hiragana, katakana (with ー and ・), CJK ideographs and the punctuation written with them.
_JAPANESE = (
    "\u3001-\u303f"  # CJK symbols and punctuation (、。「」〜 …), without the ideographic space
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff"  # katakana
    "\u31f0-\u31ff"  # katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"  # full-width punctuation
    "\uff66-\uff9f"  # half-width katakana
    "\U00020000-\U0003134f"  # CJK extensions B and later
)
_SENTENCE_MARKS = "、。，．､｡"

STRAY_SPACE = re.compile(
    rf"(?:(?<=[{_SENTENCE_MARKS}])\s+(?=\S))|(?:(?<=[{_JAPANESE}])\s+(?=[{_JAPANESE}]))"
)

RULE = (
    "Japanese text must not have a space or line break after 。 or 、 or between two "
    "Japanese characters (spaces next to Latin text are fine)"
)
HINT = (
    "a folded (>) or multi-line YAML value joins its lines with a space: "
    "write each Japanese paragraph on one line"
)


def stray_space(text: str) -> str | None:
    """An excerpt around the first stray space in ``text``, or None when the text is clean."""
    match = STRAY_SPACE.search(text)
    if match is None:
        return None
    start, end = match.span()
    before = text[max(0, start - 12) : start]
    after = text[end : end + 12]
    return f"{before}{_visible(match.group())}{after}"


def _visible(space: str) -> str:
    """Make the offending whitespace readable in an error message."""
    return "".join("\\n" if ch == "\n" else "␣" for ch in space)


def check_japanese(text: str) -> str:
    """Return ``text`` unchanged, or raise ``ValueError`` naming where the stray space is."""
    excerpt = stray_space(text)
    if excerpt is not None:
        raise ValueError(f"{RULE}: found at '{excerpt}'; {HINT}")
    return text


def close_stray_spaces(text: str) -> str:
    """Remove the spaces the rule forbids, e.g. where a template put a Japanese value
    between Japanese words ("からの {{ rule }} を" with rule = "すべてのトラフィック")."""
    return STRAY_SPACE.sub("", text)
