"""``audited``: record an operation in the audit log once it has succeeded.

For operations whose change is a single call (waivers, schedules, notification channels,
exports): the decorated function runs, then one entry is appended in a transaction of its
own, naming the actor and source of the ``Operations`` context passed first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
#: (result, positional arguments, keyword arguments) -> (tenant, target, details)
Describe = Callable[[Any, tuple[Any, ...], Mapping[str, Any]], tuple[str, str, dict[str, Any]]]


def audited(action: str, describe: Describe) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Append an ``action`` entry after each successful call of the decorated operation."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            from posture.operations.audit import record

            result = fn(*args, **kwargs)
            tenant, target, details = describe(result, args, kwargs)
            record(args[0], action, tenant=tenant, target=target, details=details)  # type: ignore[arg-type]
            return result

        return run

    return decorate
