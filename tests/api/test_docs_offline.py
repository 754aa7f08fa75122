"""The API docs work offline (issue: `/docs` was a blank page without internet): Swagger UI and
ReDoc pages reference only assets the API serves itself, from the packaged bundle."""

import re

import httpx


def external(html: str) -> list[str]:
    return [
        url
        for url in re.findall(r'(?:src|href)=["\'](https?://[^"\']+)', html)
        if not re.match(r"https?://(127\.0\.0\.1|localhost)", url)
    ]


async def test_swagger_and_redoc_are_served_from_the_api(api: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        r = await api.get(page)
        assert r.status_code == 200 and "<html" in r.text.lower()
        assert external(r.text) == [], page
        assets = re.findall(r'(?:src|href)=["\'](/docs-assets/[^"\']+)', r.text)
        assert assets, page
        for asset in assets:
            got = await api.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
    assert "/docs-assets" not in (await api.get("/openapi.json")).text
