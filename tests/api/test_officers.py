"""Officers and tokens through the API: an admin creates officers inside their area and gets a
token once (random, no role in it, expiring after the policy's 90 days); rotation and
deactivation stop the old token at once; out-of-area and non-admin callers are refused; an
expired token is a 401."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from jiuzhu.db.models import Officer
from tests.conftest import auth


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_admin_creates_rotates_and_deactivates_officers(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    body = {
        "officer_id": "tw-clerk-7",
        "name": "孙经办",
        "role": "township_officer",
        "area_code": "419901001",
    }
    r = await api.post("/officers", json=body, headers=auth("admin"))
    assert r.status_code == 201, r.text
    issued = r.json()
    token = issued["token"]
    assert "township" not in token and "officer" not in token and len(token) >= 40
    expires = datetime.fromisoformat(issued["token_expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert (await api.get("/me/messages", headers=bearer(token))).status_code == 200

    # again: 409 naming the field, nothing changed
    r = await api.post("/officers", json=body, headers=auth("admin"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "officer_id"

    listed = (await api.get("/officers", headers=auth("admin"))).json()
    mine = [o for o in listed if o["officer_id"] == "tw-clerk-7"]
    assert mine and "token" not in mine[0] and mine[0]["created_by"] == "officer-admin"

    # the officer rotates their own token; the old one stops at once
    r = await api.post("/officers/tw-clerk-7/token", headers=bearer(token))
    assert r.status_code == 200
    new = r.json()["token"]
    assert (await api.get("/me/messages", headers=bearer(token))).status_code == 401
    assert (await api.get("/me/messages", headers=bearer(new))).status_code == 200
    # … but not another officer's
    r = await api.post("/officers/officer-county/token", headers=bearer(new))
    assert r.status_code == 403

    r = await api.post("/officers/tw-clerk-7/deactivate", headers=auth("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await api.get("/me/messages", headers=bearer(new))).status_code == 401
    r = await api.post("/officers/tw-clerk-7/token", headers=auth("admin"))
    assert r.status_code == 409


async def test_officer_admin_is_scoped_and_validated(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    other = {"name": "外县人", "role": "county_officer", "area_code": "410882"}
    r = await api.post("/officers", json=other, headers=auth("admin"))
    assert r.status_code == 403
    r = await api.post("/officers", json={**other, "area_code": "419901"}, headers=auth("county"))
    assert r.status_code == 403
    r = await api.post("/officers/officer-other_county/deactivate", headers=auth("admin"))
    assert r.status_code in (403, 422)
    for field, value in (
        ("role", "mayor"),
        ("area_code", "41990"),
        ("officer_id", "Bad Id!"),
        ("name", ""),
    ):
        r = await api.post(
            "/officers", json={**other, "area_code": "419901", field: value}, headers=auth("admin")
        )
        assert r.status_code == 422, (field, r.text)
        assert field in r.text
    r = await api.post("/officers/nobody-here/deactivate", headers=auth("admin"))
    assert r.status_code == 404


async def test_expired_token_is_refused(api: httpx.AsyncClient, engine: Engine) -> None:
    r = await api.post(
        "/officers",
        json={"name": "钱经办", "role": "township_officer", "area_code": "419901002"},
        headers=auth("admin"),
    )
    issued = r.json()
    with Session(engine) as s:
        row = s.get(Officer, issued["officer"]["officer_id"])
        assert row is not None
        row.token_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.add(row)
        s.commit()
    r = await api.get("/me/messages", headers=bearer(issued["token"]))
    assert r.status_code == 401
