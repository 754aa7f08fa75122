"""Every answer carries the request id its log lines carry: the caller's ``X-Request-ID`` when
given, a new one otherwise."""

import httpx


async def test_request_id_is_echoed_or_minted(api: httpx.AsyncClient) -> None:
    given = await api.get("/health", headers={"X-Request-ID": "req-42"})
    assert given.headers["x-request-id"] == "req-42"
    minted = await api.get("/health")
    assert len(minted.headers["x-request-id"]) == 32
