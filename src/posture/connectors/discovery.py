"""The discovery documents google-api-python-client ships: methods, parameters, scopes.

Shared by the Google Workspace and Google Cloud connectors and their spec checks; nothing
is fetched from the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from googleapiclient.discovery_cache import get_static_doc

# parameters the client takes for every method besides the document's own
CLIENT_ARGUMENTS = {"body", "media_body", "media_mime_type"}


@lru_cache(maxsize=64)
def document(api: str) -> dict[str, Any] | None:
    """The shipped discovery document of ``name.version`` (``iam.v1``), or None."""
    name, _, version = api.partition(".")
    if not version:
        return None
    text = get_static_doc(name, version)
    if not text:
        return None
    doc: dict[str, Any] = json.loads(text)
    return doc


def method(api: str, call: str) -> dict[str, Any] | None:
    """The method ``resource.sub.method`` of the API's document, or None."""
    node = document(api)
    if node is None:
        return None
    *path, name = call.split(".")
    for part in path:
        node = (node.get("resources") or {}).get(part)
        if not isinstance(node, dict):
            return None
    found = (node.get("methods") or {}).get(name)
    return found if isinstance(found, dict) else None


def parameters(api: str, call: str) -> dict[str, Any]:
    """The parameters of ``call``, the document's own (alt, fields ...) included; {} if unknown."""
    found = method(api, call)
    if found is None:
        return {}
    doc = document(api) or {}
    return {**(doc.get("parameters") or {}), **(found.get("parameters") or {})}


def method_scopes(api: str, call: str) -> tuple[str, ...]:
    """The OAuth scopes the document lists for ``call`` (any one suffices)."""
    found = method(api, call) or {}
    return tuple(str(s) for s in found.get("scopes") or [])


def methods(api: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (``resource.method``, method) of the API's document."""

    def walk(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, body in (node.get("methods") or {}).items():
            yield prefix + name, body
        for name, body in (node.get("resources") or {}).items():
            yield from walk(body, prefix + name + ".")

    yield from walk(document(api) or {}, "")
