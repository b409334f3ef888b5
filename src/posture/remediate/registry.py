"""The typed interface every fix implements, and the registry of Python handlers.

A fix changes one *state*: a JSON value (mapping, list, string, bool or null) read from the
live resource. ``read`` gives the current state, ``desired`` the after-state computed from
the before-state, ``apply`` moves the resource from before to after and ``restore`` puts
the before-state back. The engine compares states for equality, so a handler must return
them normalised (sorted lists, no fields that change by themselves).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from posture.catalog.fix import Fix


class ProviderCallError(Exception):
    """A provider API call failed; ``code`` is the provider's error code."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class ProviderClient(Protocol):
    """Calls of one connection made with its write credentials."""

    def call(
        self, service: str, operation: str, args: Mapping[str, Any], *, region: str
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Target:
    """The resource a fix changes, as the last scan stored it."""

    type: str
    uid: str
    name: str
    region: str
    account: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "uid": self.uid,
            "name": self.name,
            "region": self.region,
            "account": self.account,
            "tags": dict(self.tags),
        }


@dataclass(frozen=True)
class FixContext:
    fix: Fix
    target: Target
    client: ProviderClient


class FixHandler(Protocol):
    """What the engine needs of a fix; ``DeclarativeHandler`` implements it from YAML steps."""

    def read(self, ctx: FixContext) -> Any: ...

    def desired(self, ctx: FixContext, before: Any) -> Any: ...

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None: ...

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None: ...


H = TypeVar("H")
_HANDLERS: dict[str, Callable[[], FixHandler]] = {}
_LOADED = False


def fix_handler(name: str) -> Callable[[type[H]], type[H]]:
    """Register a handler class under ``name`` (the ``handler:`` of a fix file)."""

    def register(cls: type[H]) -> type[H]:
        if name in _HANDLERS:
            raise ValueError(f"fix handler '{name}' is registered twice")
        _HANDLERS[name] = cls  # type: ignore[assignment]
        return cls

    return register


def _load_builtin() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from posture.remediate import handlers

    for module in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"{handlers.__name__}.{module.name}")


def handler_names() -> list[str]:
    _load_builtin()
    return sorted(_HANDLERS)


def handler_for(fix: Fix) -> FixHandler:
    """The handler that runs ``fix``: its registered class, or the declarative steps."""
    if fix.handler is not None:
        _load_builtin()
        return _HANDLERS[fix.handler]()
    from posture.remediate.declarative import DeclarativeHandler

    return DeclarativeHandler()
