"""Policy floors through the API (issue 13 item 2): a new version keeps every statutory bound
(rules/statutory_bounds.py — publicity exactly 7 days, 低保办法 Art. 19; deadlines no longer than
低保办法 Art. 15–22 and 特困办法) and takes effect today or later (Beijing time); otherwise a 422
names the parameter (or ``effective_from``) with the legal bound and its source, and nothing is
written."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.routes import policies as policies_route
from jiuzhu.db.models import PolicyVersion
from rules.policy import STATUTORY_BOUNDS
from tests.conftest import auth

# A village of 西山乡 and dates far ahead: no other test's case sees these versions.
AREA = "419901003002"  # 石门村
TODAY = date(2045, 6, 1)
URL = f"/policies/{AREA}/versions"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "Today" in Beijing is ``TODAY`` for the route's back-dating check."""
    monkeypatch.setattr(policies_route, "today_shanghai", lambda: TODAY)


def version(on: date = TODAY, /, **extra: Any) -> dict[str, Any]:
    return {"effective_from": on.isoformat(), "name": "石门村补充政策（测试）", **extra}


def refused(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in r.json()["errors"]}


def written(engine: Engine) -> list[date]:
    with Session(engine) as s:
        rows = s.exec(select(PolicyVersion).where(PolicyVersion.area_code == AREA)).all()
    return sorted(row.effective_from for row in rows)


async def test_reproduction_backdated_zero_day_publicity(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    """The measured loophole: back-dated four weeks with 0 days of publicity was accepted (201)
    and the notice read 公示期：2026年11月29日至2026年11月29日."""
    before = written(engine)
    zero = {"publicity": {"value": 0, "unit": "calendar_days"}}
    backdated = TODAY - timedelta(weeks=4)

    errors = refused(await api.post(URL, json=version(backdated, **zero), headers=auth("admin")))
    assert set(errors) == {"effective_from", "publicity"}

    errors = refused(await api.post(URL, json=version(**zero), headers=auth("admin")))
    assert list(errors) == ["publicity"]
    assert "公示期（publicity）为7日" in errors["publicity"]
    assert "《最低生活保障审核确认办法》（民发〔2021〕57号）第十九条" in errors["publicity"]
    assert "不得设为0日" in errors["publicity"]

    errors = refused(await api.post(URL, json=version(backdated), headers=auth("admin")))
    assert list(errors) == ["effective_from"]
    assert TODAY.isoformat() in errors["effective_from"]
    assert backdated.isoformat() in errors["effective_from"]
    # Yesterday is back-dated too.
    r = await api.post(URL, json=version(TODAY - timedelta(days=1)), headers=auth("admin"))
    assert list(refused(r)) == ["effective_from"]

    assert written(engine) == before


async def test_each_bound_refused_one_beyond(api: httpx.AsyncClient, engine: Engine) -> None:
    before = written(engine)
    on = TODAY + timedelta(days=10)
    for bound in STATUTORY_BOUNDS.values():
        beyond = {"value": bound.maximum + 1, "unit": bound.unit.value}
        r = await api.post(
            URL, json=version(on, **{bound.parameter: beyond}), headers=auth("admin")
        )
        errors = refused(r)
        assert list(errors) == [bound.parameter]
        assert bound.source in errors[bound.parameter]
        assert bound.describe_zh() in errors[bound.parameter]
        if not bound.fixed:
            short = {"value": 0, "unit": bound.unit.value}
            r = await api.post(
                URL, json=version(on, **{bound.parameter: short}), headers=auth("admin")
            )
            assert list(refused(r)) == [bound.parameter]
    # Longer publicity is not "stricter"; a working-day publicity is another unit.
    for publicity in ({"value": 8, "unit": "calendar_days"}, {"value": 7, "unit": "working_days"}):
        r = await api.post(URL, json=version(on, publicity=publicity), headers=auth("admin"))
        assert list(refused(r)) == ["publicity"]
    assert written(engine) == before


async def test_at_the_bounds_today_is_accepted(api: httpx.AsyncClient, engine: Engine) -> None:
    """Every bounded period at its statutory maximum, effective today: 201."""
    at_bounds = {
        bound.parameter: {"value": bound.maximum, "unit": bound.unit.value}
        for bound in STATUTORY_BOUNDS.values()
    }
    r = await api.post(URL, json=version(**at_bounds), headers=auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["policy"]["publicity"] == {"value": 7, "unit": "calendar_days"}
    assert r.json()["policy"]["overall_special"] == {"value": 45, "unit": "working_days"}
    # Stricter than the law (shorter deadlines) is allowed.
    stricter = {"investigation_start": {"value": 1, "unit": "working_days"}}
    r = await api.post(
        URL, json=version(TODAY + timedelta(days=1), **stricter), headers=auth("admin")
    )
    assert r.status_code == 201, r.text
    assert r.json()["policy"]["investigation_start"] == {"value": 1, "unit": "working_days"}
    assert TODAY in written(engine) and TODAY + timedelta(days=1) in written(engine)
