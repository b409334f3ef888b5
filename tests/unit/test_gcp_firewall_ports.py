"""The port patterns of the SSH and RDP firewall policies cover exactly the ranges holding
the port (Compute Engine's ``allowed[].ports`` entries: "22" or "LOW-HIGH")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from posture.catalog import load_catalog

CATALOG = load_catalog()


def _port_pattern(policy_id: str) -> re.Pattern[str]:
    policy = CATALOG.policies[policy_id]
    text = Path(str(policy.source)).read_text(encoding="utf-8")
    found = re.search(r"any_item: \{path: \"@\", matches: '([^']+)'\}", text)
    assert found, policy_id
    return re.compile(found.group(1))


def _covers(entry: str, port: int) -> bool:
    low, _, high = entry.partition("-")
    return int(low) <= port <= int(high or low)


ENTRIES = [str(p) for p in (0, 1, 21, 22, 23, 220, 2222, 3388, 3389, 3390, 33890, 65535)] + [
    f"{a}-{b}"
    for a, b in [
        (0, 65535),
        (1, 21),
        (1, 22),
        (22, 22),
        (22, 23),
        (20, 30),
        (21, 29),
        (23, 100),
        (2, 9),
        (19, 99),
        (0, 3388),
        (3389, 3389),
        (3000, 4000),
        (3388, 3390),
        (3390, 3400),
        (1024, 65535),
        (100, 999),
        (999, 3389),
        (3000, 3388),
        (10, 20000),
    ]
]


@pytest.mark.parametrize(
    ("policy_id", "port"),
    [
        ("gcp.compute.firewall_ssh_from_internet", 22),
        ("gcp.compute.firewall_rdp_from_internet", 3389),
    ],
)
def test_pattern_matches_entries_covering_the_port(policy_id: str, port: int) -> None:
    pattern = _port_pattern(policy_id)
    wrong = [e for e in ENTRIES if bool(pattern.search(e)) != _covers(e, port)]
    assert wrong == []
