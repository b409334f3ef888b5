"""Cloud Identity Policy API values of the demo customer: ``WEAK_SETTINGS`` are set on the
root org unit (and inherited by /IT and /Sales), ``HARDENED_SETTINGS`` on /Hardened.

Keys are setting types without the ``settings/`` prefix; values are the setting's value
object as the Policy API returns it.
"""

from __future__ import annotations

from typing import Any

WEAK_SETTINGS: dict[str, dict[str, Any]] = {}
HARDENED_SETTINGS: dict[str, dict[str, Any]] = {}
