"""The whole API against its own OpenAPI schema (Schemathesis): whatever a client sends
within the schema (and outside it), no answer is a server error.

Each operation gets a bounded number of generated requests, as a provider admin (every
right) and as a customer viewer (one tenant, read only), so the run stays well under a
minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from posture.catalog import Catalog
from posture.operations import Operations
from posture.store import Store
from posture.web.app import create_app
from posture.web.settings import WebSettings

from .conftest import make_tokens, seed_estate

SCHEMA = "/api/v1/openapi.json"
EXAMPLES = 4  # per operation, generation mode and role
# rendering a PDF for every generated request would take minutes; the report endpoint is
# exercised with its real formats in test_api_endpoints
SLOW = {("POST", "/api/v1/tenants/{tenant}/reports")}


@pytest.fixture
def served(tmp_path: Path, catalog: Catalog) -> Iterator[tuple[Any, dict[str, str]]]:
    store = Store(f"sqlite:///{tmp_path / 'schema.db'}")
    ops = Operations.using(store, catalog)
    seed_estate(store)
    tokens = make_tokens(ops)
    app = create_app(WebSettings(files_dir=tmp_path / "files"), ops=ops)
    with TestClient(app):  # runs the app's startup and shutdown
        yield app, tokens
    store.dispose()


def operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi(SCHEMA, app)
    found = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    assert len(found) >= 20, "the schema lost operations"
    return [op for op in found if (op.method.upper(), op.path) not in SLOW]


@pytest.mark.parametrize("who", ["admin", "viewer"])
def test_no_server_errors(served: tuple[Any, dict[str, str]], who: str) -> None:
    app, tokens = served
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    checked = 0
    for operation in operations(app):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                if case.path_parameters and "tenant" in case.path_parameters:
                    # a made-up slug stops at "unknown tenant": aim at data that exists
                    case.path_parameters["tenant"] = "acme"
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                # nothing to send outside the schema (an operation without parameters)
                assert mode is GenerationMode.NEGATIVE, operation.label
                continue
            checked += 1
    assert checked >= 40
