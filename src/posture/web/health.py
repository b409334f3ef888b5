"""Liveness, readiness and metrics: for load balancers and Prometheus, no sign-in.

``/healthz`` answers while the process serves; ``/readyz`` only while the store is
reachable and at the newest schema revision (503 otherwise); ``/metrics`` is Prometheus
text from posture's registry (``posture.metrics``): what this process counted, plus the
installation's workers (their heartbeats in the store) and the broker's queue depth.
None of them reveals anything about tenants.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from posture import metrics as posture_metrics
from posture.operations import Operations
from posture.operations.readiness import check_readiness
from posture.operations.service import WorkerStatus, service_status
from posture.web.api.models import Health, Ready
from posture.web.deps import anonymous_ops
from posture.worker.broker import watch_configured_queues

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


def watch_service(ops: Operations | None) -> None:
    """Report, at each scrape of ``/metrics``, the installation's workers (from their
    heartbeats in ``ops``'s store) and the depth of the broker's queues (when
    ``POSTURE_BROKER_URL`` names one); None stops reporting them."""
    if ops is None:
        posture_metrics.watch_workers(None)
        posture_metrics.watch_queues(None)
        return

    def workers() -> list[WorkerStatus]:
        # the broker's queues are read by their own collector: not a second time here
        return service_status(ops, queue_depths=lambda: {}).workers

    posture_metrics.watch_workers(workers)
    watch_configured_queues()


def metrics_registry() -> CollectorRegistry:
    return posture_metrics.REGISTRY


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics() -> Response:
    return Response(generate_latest(metrics_registry()), media_type=CONTENT_TYPE_LATEST)
