"""Shared secrets between the processes of one installation (Rasa's HTTP API, the action server).

One random secret per data directory (``<data_dir>/run/secret``, mode 0600,
created on first use); each internal service gets its own token derived from
it, so every process of the stack computes the same token without passing it
around, and nothing reachable on the network works without it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from core.settings import Settings


def _secret(data_dir: Path) -> bytes:
    path = data_dir / "run" / "secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # first writer wins; a concurrent starter reads the winner's secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def service_token(settings: Settings, service: str) -> str:
    """The token of one internal service (``rasa`` or ``actions``) for this installation."""
    return hmac.new(_secret(settings.data_dir), service.encode(), hashlib.sha256).hexdigest()


def metrics_token(settings: Settings) -> str:
    """What a Prometheus scraper sends to ``/metrics`` (``Authorization: Bearer <token>``)."""
    return service_token(settings, "metrics")
