"""Who a request comes from: the real client, also behind a reverse proxy (rate limits, ticket limits)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import lru_cache

from aiohttp import web

from core.secrets import service_token
from core.settings import Settings
from gateway import keys

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: web.Request) -> str:
    """The TCP peer, or, when it is a trusted proxy, the nearest untrusted address in X-Forwarded-For.

    Only the part of the header that trusted proxies appended is believed: a client can
    put anything at its start, so the chain is read from the right.
    """
    settings: Settings = request.app[keys.SETTINGS]
    peer = request.remote or "unknown"
    networks = _networks(tuple(settings.gateway.trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    for address in reversed(chain):
        if not _trusted(address, networks):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer
    return peer


def client_ref(request: web.Request) -> str:
    """A pseudonym of the real client for limits kept beyond the request (tickets per client):
    a keyed hash of the address, so no address is stored and none can be recovered by guessing."""
    key = _client_key(request.app[keys.SETTINGS])
    return hmac.new(key, client_address(request).encode(), hashlib.sha256).hexdigest()[:24]


_client_keys: dict[str, bytes] = {}


def _client_key(settings: Settings) -> bytes:
    """The installation's key for client pseudonyms, read from disk once per process (not per message)."""
    where = str(settings.data_dir)
    if where not in _client_keys:
        _client_keys[where] = service_token(settings, "client-ref").encode()
    return _client_keys[where]


def over_tls(request: web.Request) -> bool:
    """Whether the user's browser reached us over HTTPS: directly, or as a trusted proxy reports."""
    if request.secure:
        return True
    settings: Settings = request.app[keys.SETTINGS]
    networks = _networks(tuple(settings.gateway.trusted_proxies))
    if networks and _trusted(request.remote or "", networks):
        return request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https"
    return False
