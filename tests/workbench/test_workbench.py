"""The officers' workbench on the real server: sign-in with a token (HttpOnly, SameSite=Strict
cookie), the worklist of the officer's area with search and filters, the case page masked by role
exactly as the API masks it, another township refused, sign-out only with the form's CSRF token,
and every asset served by the API itself."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from tests.application.helpers import create, step
from tests.conftest import token_for


@asynccontextmanager
async def browser(app: FastAPI, who: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client keeping cookies like a browser, signed in as ``who`` if given."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as c:
        if who is not None:
            r = await c.post("/workbench/sign-in", data={"token": token_for(who)})
            assert r.status_code == 303, r.text
        yield c


def external_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)=["\'](https?://[^"\']+)', html)


async def test_sign_in_worklist_case_page_and_sign_out(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})
    applicant = body["household"][0]

    async with browser(app) as anonymous:
        r = await anonymous.get("/workbench")
        assert r.status_code == 200 and "<html" in r.text and 'for="token"' in r.text
        assert external_assets(r.text) == []
        css = await anonymous.get("/workbench/static/workbench.css")
        assert css.status_code == 200 and "focus-visible" in css.text
        r = await anonymous.post("/workbench/sign-in", data={"token": "not-a-token"})
        assert r.status_code == 401 and "令牌无效" in r.text
        # Without a session the case page sends you to sign in.
        r = await anonymous.get(f"/workbench/cases/{app_id}")
        assert r.status_code == 303

    async with browser(app, "township") as township:
        cookie = township.cookies.jar
        (session,) = [c for c in cookie if c.name == "jiuzhu_workbench"]
        assert session.path == "/workbench" and session.has_nonstandard_attr("HttpOnly")

        r = await township.get("/workbench")
        assert r.status_code == 200 and app_id in r.text and "今日到期" in r.text
        r = await township.get("/workbench", params={"q": applicant["name"][:1]})
        assert r.status_code == 200 and app_id in r.text
        r = await township.get("/workbench", params={"q": applicant["id_number"]})
        assert r.status_code == 200 and app_id in r.text
        r = await township.get("/workbench", params={"q": "419901197005171013"})
        assert r.status_code == 422 and 'id="q-error"' in r.text
        r = await township.get("/workbench", params={"township_code": "419901002"})
        assert r.status_code == 422 and "不在您的辖区内" in r.text

        r = await township.get(f"/workbench/cases/{app_id}")
        assert r.status_code == 200 and applicant["id_number"] in r.text  # the case's township
        assert "受理" in r.text  # the timeline

        r = await township.post("/workbench/sign-out", data={"csrf": "forged"})
        assert r.status_code == 403
        csrf = re.search(
            r'name="csrf" value="([0-9a-f]+)"', (await township.get("/workbench")).text
        )
        assert csrf is not None
        r = await township.post("/workbench/sign-out", data={"csrf": csrf.group(1)})
        assert r.status_code == 303
        assert 'for="token"' in (await township.get("/workbench")).text

    async with browser(app, "village") as village:
        r = await village.get(f"/workbench/cases/{app_id}")
        assert r.status_code == 200 and applicant["id_number"] not in r.text
        assert applicant["id_number"][:6] + "********" in r.text

    async with browser(app, "township2") as other:
        r = await other.get(f"/workbench/cases/{app_id}")
        assert r.status_code == 403 and app_id not in (await other.get("/workbench")).text
