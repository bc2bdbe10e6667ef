"""One webhook POST under a wall-clock deadline.

httpx timeouts apply per operation (connect, each read): a server that answers one header line every
second never trips them and holds the caller for as long as it likes. So the whole request (connect,
headers, the start of the body) runs as one task that is cancelled at the deadline."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# Enough of an error answer's body to say why; the rest is not read.
REASON_BYTES = 300


@dataclass(frozen=True)
class PostResult:
    error: str | None  # None: delivered (2xx, or 409: the receiver already has it)
    permanent: bool = False  # the receiver rejects this body for good (a 4xx other than 408 / 429)


def post_within(url: str, body: str, headers: dict[str, str], deadline_seconds: float) -> PostResult:
    """POST `body` to `url`; whatever the server does, return within `deadline_seconds` (plus the loop's start).
    The request runs on its own loop in a worker thread, so a caller whose thread already runs a loop (a
    notebook, Playwright's sync API) is served too."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-post") as pool:
        return pool.submit(_post_on_own_loop, url, body, headers, deadline_seconds).result()


def _post_on_own_loop(url: str, body: str, headers: dict[str, str], deadline_seconds: float) -> PostResult:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_post_within(url, body, headers, deadline_seconds))
    finally:
        # Not asyncio.run: it would wait for a name lookup still running in the resolver thread after the
        # deadline cancelled it; close() leaves that thread to finish on its own.
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _post_within(url: str, body: str, headers: dict[str, str], deadline_seconds: float) -> PostResult:
    import httpx

    try:
        return await asyncio.wait_for(_post(url, body, headers, deadline_seconds), timeout=deadline_seconds)
    except TimeoutError:
        return PostResult(f"no complete answer within {deadline_seconds:g} s (deadline)")
    except httpx.HTTPError as exc:
        return PostResult(f"{type(exc).__name__}: {exc}")


async def _post(url: str, body: str, headers: dict[str, str], timeout: float) -> PostResult:
    import httpx

    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            code = response.status_code
            if code < 300 or code == 409:
                return PostResult(None)
            reason = f"HTTP {code} {response.reason_phrase}".rstrip()
            detail = await _first_bytes(response)
            error = f"{reason}: {detail}" if detail else reason
            return PostResult(error, permanent=400 <= code < 500 and code not in (408, 429))


async def _first_bytes(response) -> str:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= REASON_BYTES:
            break
    return b"".join(chunks)[:REASON_BYTES].decode("utf-8", "replace").strip()
