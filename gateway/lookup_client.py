"""The gateway's lookups answered by the action server, which holds the model and the index.

Sync HTTP over loopback (called from worker threads), one kept-alive connection per
thread, the installation's action-server token on every call.  Version and manifest
are read from the index directory, so the home page and ``/healthz`` do not depend on
the action server; a search while it restarts is a 503 with a Chinese message.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from typing import Any
from urllib.parse import urlencode

import numpy as np

from core.errors import Unavailable, WeiyuanError
from core.secrets import service_token
from core.settings import Settings
from index.lookup import (
    PublishedVersion,
    chunk_from_wire,
    result_from_wire,
)
from index.results import SearchResult
from index.schema import Chunk
from index.store import VersionStore

#: A search takes ~50 ms; this much means the action server is stuck, not busy.
TIMEOUT_SECONDS = 15.0
UNAVAILABLE = "检索服务正在启动或重启，请稍后再试"
#: Texts per ``/lookup/vectors`` call (the action server's limit).
VECTOR_BATCH = 256


class RemoteLookup(PublishedVersion):
    def __init__(self, settings: Settings) -> None:
        super().__init__(VersionStore(settings.index_dir))
        self.host, self.port = settings.server.host, settings.server.action_port
        self.token = service_token(settings, "actions")
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
            self._local.connection = connection
        return connection

    def _call(self, path: str, params: dict[str, Any], send: dict[str, Any] | None = None) -> dict[str, Any]:
        query = urlencode({"token": self.token, **{k: v for k, v in params.items() if v is not None}})
        payload = None if send is None else json.dumps(send, ensure_ascii=False).encode("utf-8")
        headers = {} if payload is None else {"Content-Type": "application/json"}
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once, fresh
            connection = self._connection()
            try:
                connection.request("GET" if payload is None else "POST", f"{path}?{query}", payload, headers)
                response = connection.getresponse()
                body = response.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                self._local.connection = None
                if attempt == 2 or isinstance(exc, (ConnectionRefusedError, TimeoutError)):
                    raise Unavailable(UNAVAILABLE) from exc
        data: dict[str, Any] = json.loads(body) if body else {}
        if response.status == 200:
            return data
        if 400 <= response.status < 500 and response.status != 401:
            raise WeiyuanError(str(data.get("message") or "检索请求不正确"))
        raise Unavailable(UNAVAILABLE)

    def search_with_highlight(
        self,
        query: str,
        k: int = 5,
        *,
        kind: str | None = None,
        ip_type: str | None = None,
        region: str | None = None,
        current_only: bool = False,
    ) -> tuple[SearchResult, list[str]]:
        params = {"q": query, "k": k, "kind": kind, "ip_type": ip_type, "region": region}
        return result_from_wire(self._call("/lookup/search", params | {"current_only": int(current_only)}))

    def chunk(self, chunk_id: str) -> Chunk | None:
        return chunk_from_wire(self._call("/lookup/chunk", {"id": chunk_id}))

    def article(self, law: str, article: str) -> Chunk | None:
        return chunk_from_wire(self._call("/lookup/chunk", {"law": law, "article": article}))

    def message_vectors(self, texts: list[str]) -> np.ndarray:
        """The action server's query vectors for ``texts`` (one row each), in calls of at most 256."""
        rows = []
        for start in range(0, len(texts), VECTOR_BATCH):
            data = self._call("/lookup/vectors", {}, {"texts": texts[start : start + VECTOR_BATCH]})
            flat = np.frombuffer(base64.b64decode(data["vectors"]), dtype="<f4")
            rows.append(flat.reshape(int(data["count"]), int(data["dim"])).astype(np.float32))
        return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)
