"""What one web app shares between its requests: settings, the store, the catalog, and
the threads that run scans started through the API."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from fastapi import FastAPI, Request

from posture.catalog import Catalog
from posture.operations import Operations
from posture.store import Store
from posture.web.oidc import OidcClient
from posture.web.settings import WebSettings


@dataclass
class WebState:
    settings: WebSettings
    base: Operations  # the installation's store and catalog, opened once
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _scans: ThreadPoolExecutor | None = field(default=None, repr=False)
    _oidc: OidcClient | None = field(default=None, repr=False)

    def store(self) -> Store:
        with self._lock:
            return self.base.store()

    def catalog(self) -> Catalog:
        with self._lock:
            return self.base.catalog()

    @property
    def scan_threads(self) -> int:
        """Threads for scans started through the API (``WebSettings.scan_threads``)."""
        if self.settings.scan_threads is not None:
            return self.settings.scan_threads
        return 2 if self.base.executor is None else 16

    def scan_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._scans is None:
                self._scans = ThreadPoolExecutor(
                    max_workers=self.scan_threads, thread_name_prefix="posture-scan"
                )
            return self._scans

    def oidc(self) -> OidcClient | None:
        """The single sign-on client, None when no OpenID provider is configured."""
        if not self.settings.oidc_enabled:
            return None
        with self._lock:
            if self._oidc is None:
                self._oidc = OidcClient(self.settings)
            return self._oidc

    def close(self) -> None:
        with self._lock:
            scans, self._scans = self._scans, None
            oidc, self._oidc = self._oidc, None
        if scans is not None:
            scans.shutdown(wait=True, cancel_futures=False)
        if oidc is not None:
            oidc.close()


def web_state(app: FastAPI) -> WebState:
    state = getattr(app.state, "posture", None)
    if not isinstance(state, WebState):
        raise RuntimeError("the app was not built by posture.web.app.create_app")
    return state


def request_state(request: Request) -> WebState:
    return web_state(request.app)
