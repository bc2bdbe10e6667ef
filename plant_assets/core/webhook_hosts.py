"""Which webhook hosts the notifier may contact (PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS).

A webhook URL comes from a plant's plant.yaml, which a plant team edits: without a list, any host named
there (an internal service, a metadata endpoint) would get a POST from the platform. The default is the
loopback host only, so tests and a fresh install contact nothing else; production lists its receivers.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from urllib.parse import urlsplit

ALLOWED_HOSTS_ENV = "PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS"
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")


def allowed_webhook_hosts() -> frozenset[str]:
    """The configured hosts, comma-separated, lower case; `*.example.com` allows its sub-domains."""
    raw = os.environ.get(ALLOWED_HOSTS_ENV)
    hosts = DEFAULT_ALLOWED_HOSTS if raw is None else raw.split(",")
    return frozenset(h.strip().lower().strip("[]") for h in hosts if h.strip())


def _host_allowed(host: str, allowed: Collection[str]) -> bool:
    return any(host == entry or (entry.startswith("*.") and host.endswith(entry[1:])) for entry in allowed)


def webhook_refusal(url: str, allowed: Collection[str] | None = None) -> str | None:
    """Why the notifier must not contact `url`, or None when it may."""
    allowed = allowed_webhook_hosts() if allowed is None else allowed
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return f"webhook URL {url!r} cannot be parsed"
    if parts.scheme not in ("http", "https") or not host:
        return f"webhook URL {url!r} is not an http(s) URL with a host"
    if _host_allowed(host, allowed):
        return None
    listed = ", ".join(sorted(allowed)) or "none"
    return (f"webhook host {host!r} is not allowed: add it to {ALLOWED_HOSTS_ENV} (now: {listed}) "
            "if it is your alert receiver")
