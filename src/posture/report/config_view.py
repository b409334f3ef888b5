"""A resource's collected configuration as JSON lines, the deciding attributes marked.

The analyst checks a finding against what was actually collected: the evidence names
paths (``IpPermissions[0].IpRanges[0].CidrIp``); here each line of the pretty-printed
document knows its path, so the lines that decided are highlighted. Plain values only:
the template escapes every piece.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from posture.engine.conditions import parse_path
from posture.report.model import ReportEvidence

MAX_LINES = 400
_INDENT = "  "


@dataclass(frozen=True)
class ConfigLine:
    text: str
    highlight: bool = False


def deciding_paths(evidence: Iterable[ReportEvidence]) -> set[str]:
    """Paths of the evidence, plus the offending items a quantifier named."""
    paths: set[str] = set()
    for item in evidence:
        paths.add(item.path)
        actual = item.actual
        if isinstance(actual, dict):
            for entry in actual.get("offending") or []:
                if isinstance(entry, dict) and "index" in entry:
                    paths.add(f"{item.path}[{entry['index']}]")
    return paths


def config_lines(document: Any, evidence: Iterable[ReportEvidence]) -> tuple[ConfigLine, ...]:
    """Pretty JSON of ``document``; lines at a deciding path are highlighted."""
    if document is None:
        return ()
    marks = deciding_paths(evidence)
    out: list[ConfigLine] = []
    _emit(document, "", "", 0, marks, out, last=True)
    missing = sorted(p for p in marks if p and not _present(document, p))
    for path in missing:
        out.append(ConfigLine(f"// {path}: not present", True))
    if len(out) > MAX_LINES:
        kept = out[:MAX_LINES]
        kept.append(ConfigLine(f"… {len(out) - MAX_LINES} more lines"))
        return tuple(kept)
    return tuple(out)


def _present(document: Any, path: str) -> bool:
    """Is there a value (even null) at ``path``?"""
    try:
        parts = parse_path(path)
    except ValueError:
        return False
    current = document
    for part in parts:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return False
        elif not isinstance(current, dict) or part not in current:
            return False
        current = current[part]
    return True


def _emit(
    value: Any,
    key: str,
    path: str,
    depth: int,
    marks: set[str],
    out: list[ConfigLine],
    *,
    last: bool,
) -> None:
    pad = _INDENT * depth
    label = f"{json.dumps(key, ensure_ascii=False)}: " if key else ""
    comma = "" if last else ","
    hot = path in marks
    if isinstance(value, dict) and value:
        out.append(ConfigLine(f"{pad}{label}{{", hot))
        items = list(value.items())
        for n, (k, v) in enumerate(items):
            child = f"{path}.{k}" if path else str(k)
            _emit(v, str(k), child, depth + 1, marks, out, last=n == len(items) - 1)
        out.append(ConfigLine(f"{pad}}}{comma}", hot))
    elif isinstance(value, list) and value:
        out.append(ConfigLine(f"{pad}{label}[", hot))
        for n, v in enumerate(value):
            _emit(v, "", f"{path}[{n}]", depth + 1, marks, out, last=n == len(value) - 1)
        out.append(ConfigLine(f"{pad}]{comma}", hot))
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
        out.append(ConfigLine(f"{pad}{label}{text}{comma}", hot))
