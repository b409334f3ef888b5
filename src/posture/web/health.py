"""Liveness, readiness and metrics: for load balancers and Prometheus, no sign-in.

``/healthz`` answers while the process serves; ``/readyz`` only while the store is
reachable and at the newest schema revision (503 otherwise); ``/metrics`` is Prometheus
text from posture's registry (``posture.metrics``) when installed, else the default one.
None of them reveals anything about tenants.
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from posture.operations.readiness import check_readiness
from posture.web.api.models import Health, Ready
from posture.web.deps import anonymous_ops

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    summary="The store is reachable and migrated",
    responses={503: {"model": Ready, "description": "Not ready"}},
)
def readyz(request: Request) -> JSONResponse:
    readiness = check_readiness(anonymous_ops(request))
    body = Ready(ready=readiness.ready, store=readiness.store)
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)


def metrics_registry() -> Any:
    try:
        module = importlib.import_module("posture.metrics")
    except ImportError:
        return REGISTRY
    return getattr(module, "REGISTRY", REGISTRY)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics() -> Response:
    return Response(generate_latest(metrics_registry()), media_type=CONTENT_TYPE_LATEST)
