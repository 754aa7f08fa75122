"""The working-day calendar through the API: working-day, calendar-day and month arithmetic,
payment cut-offs and the working-day test on the State Council schedules (chinese-calendar,
2004–2026), provisional results in a year with no schedule, and loading a year (admin; a day
both holiday and working day is refused naming the field and the date; a re-load replaces)."""

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from jiuzhu.calendar_store import working_calendar
from jiuzhu.db.models import CalendarYear
from tests.conftest import auth

# Years no shipped schedule covers, used only by this module and restored afterwards.
LOAD_YEAR = 2033
EMPTY_YEAR = 2035


@pytest.fixture
def restore_year(engine: Engine) -> Iterator[None]:
    """Put ``LOAD_YEAR`` back as it was (other tests share the session database)."""
    with Session(engine) as s:
        before = s.get(CalendarYear, LOAD_YEAR)
        saved = before.model_dump() if before is not None else None
    yield
    with Session(engine) as s:
        row = s.get(CalendarYear, LOAD_YEAR)
        if row is not None:
            s.delete(row)
            s.commit()
        if saved is not None:
            s.add(CalendarYear(**saved))
            s.commit()


async def get(api: httpx.AsyncClient, path: str, **params: str | int) -> httpx.Response:
    return await api.get(f"/calendar/{path}", params=params, headers=auth("township"))


def field_of(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2026-09-30", 1, "2026-10-08"),  # National Day 10-01..07
        ("2026-09-18", 1, "2026-09-20"),  # make-up Sunday 2026-09-20
        ("2026-02-13", 1, "2026-02-14"),  # make-up Saturday before Spring Festival
        ("2026-02-14", 1, "2026-02-24"),  # Spring Festival 02-15..23
        ("2025-12-31", 1, "2026-01-04"),  # New Year 01-01..03, make-up Sunday 01-04
        ("2024-09-27", 3, "2024-10-08"),  # 2024: make-up Sunday 09-29, then 10-01..07
        ("2026-03-02", 0, "2026-03-02"),
    ],
)
async def test_add_working_days(
    api: httpx.AsyncClient, start: str, days: int, expected: str
) -> None:
    r = await get(api, "add-working-days", start=start, days=days)
    assert r.status_code == 200, r.text
    assert r.json() == {"date": expected, "provisional": False}


async def test_working_days_into_a_year_without_schedule_are_provisional(
    api: httpx.AsyncClient,
) -> None:
    r = await get(api, "add-working-days", start=f"{EMPTY_YEAR}-12-30", days=3)
    # Weekends only: Mon 12-31, Tue 01-01 (no holiday known), Wed 01-02.
    assert r.json() == {"date": f"{EMPTY_YEAR + 1}-01-02", "provisional": True}
    r = await get(api, "add-working-days", start="2026-11-20", days=1)
    assert r.json() == {"date": "2026-11-23", "provisional": False}


async def test_calendar_days_and_months(api: httpx.AsyncClient) -> None:
    cases: list[tuple[str, dict[str, str | int], str]] = [
        ("add-days", {"start": "2024-02-28", "days": 1}, "2024-02-29"),
        ("add-days", {"start": "2025-02-28", "days": 1}, "2025-03-01"),
        ("add-days", {"start": "2026-03-02", "days": 7}, "2026-03-09"),
        ("add-days", {"start": "2026-03-02", "days": -2}, "2026-02-28"),
        ("add-months", {"start": "2024-01-31", "months": 1}, "2024-02-29"),
        ("add-months", {"start": "2025-01-31", "months": 1}, "2025-02-28"),
        ("add-months", {"start": "2024-02-29", "months": 12}, "2025-02-28"),
        ("add-months", {"start": "2026-08-31", "months": 6}, "2027-02-28"),
        ("add-months", {"start": "2026-03-31", "months": -1}, "2026-02-28"),
    ]
    for path, params, expected in cases:
        r = await get(api, path, **params)
        assert r.status_code == 200, r.text
        assert r.json() == {"date": expected, "provisional": False}, (path, params)


async def test_payment_cutoff_moves_earlier(api: httpx.AsyncClient) -> None:
    cases = [
        ((2026, 10, 5), "2026-09-30"),  # inside the National Day span
        ((2026, 5, 10), "2026-05-09"),  # Sunday → the make-up Saturday before it
        ((2026, 1, 10), "2026-01-09"),  # Saturday → Friday
        ((2026, 3, 10), "2026-03-10"),  # a working day stays
        ((2026, 2, 31), "2026-02-28"),  # past the month end → 02-28, a make-up Saturday
    ]
    for (year, month, day), expected in cases:
        r = await get(api, "payment-cutoff", year=year, month=month, day=day)
        assert r.json() == {"date": expected, "provisional": False}, (year, month, day)
    r = await get(api, "payment-cutoff", year=EMPTY_YEAR, month=1, day=1)
    assert r.json()["provisional"] is True


async def test_is_working_day(api: httpx.AsyncClient) -> None:
    r = await get(api, "is-working-day", date="2026-02-14")
    assert r.json() == {
        "date": "2026-02-14",
        "working_day": True,
        "holiday": False,
        "make_up_working_day": True,
        "provisional": False,
    }
    r = await get(api, "is-working-day", date="2026-10-05")
    assert r.json()["working_day"] is False and r.json()["holiday"] is True
    r = await get(api, "is-working-day", date=f"{EMPTY_YEAR}-01-01")
    assert r.json()["working_day"] is True and r.json()["provisional"] is True


async def test_bad_query_params_name_the_param(api: httpx.AsyncClient) -> None:
    bad: list[tuple[str, dict[str, str | int], str]] = [
        ("add-working-days", {"start": "2026-02-30", "days": 1}, "start"),
        ("add-working-days", {"start": "2026-03-02", "days": -1}, "days"),
        ("add-working-days", {"start": "2026-03-02", "days": "x"}, "days"),
        ("add-working-days", {"start": "2026-03-02", "days": 100000}, "days"),
        ("add-working-days", {"start": "2026-03-02"}, "days"),
        ("add-working-days", {"start": "9999-12-30", "days": 5}, "days"),
        ("add-days", {"start": "2026-03-02"}, "days"),
        ("add-days", {"start": "9999-12-31", "days": 1}, "days"),
        ("add-months", {"start": "2026-03-02", "months": "one"}, "months"),
        ("add-months", {"start": "9999-12-31", "months": 1}, "months"),
        ("add-months", {"start": "yesterday", "months": 1}, "start"),
        ("payment-cutoff", {"year": 2026, "month": 13, "day": 5}, "month"),
        ("payment-cutoff", {"year": 2026, "month": 1, "day": 0}, "day"),
        ("payment-cutoff", {"month": 1, "day": 5}, "year"),
        ("is-working-day", {"date": "2026-13-01"}, "date"),
        ("is-working-day", {}, "date"),
    ]
    for path, params, name in bad:
        r = await get(api, path, **params)
        assert field_of(r) == [name], (path, params)
    r = await api.get("/calendar/add-working-days", params={"start": "2026-03-02", "days": 1})
    assert r.status_code == 401
    assert (await api.get("/calendar/years/2026")).status_code == 401


async def test_year_sources(api: httpx.AsyncClient) -> None:
    r = await api.get("/calendar/years/2026", headers=auth("auditor"))
    body = r.json()
    assert body["source"] == "builtin"
    assert "2026-02-17" in body["holidays"] and "2026-02-14" in body["workdays"]
    r = await api.get(f"/calendar/years/{EMPTY_YEAR}", headers=auth("auditor"))
    assert r.json()["source"] == "none" and r.json()["holidays"] == []
    r = await api.get("/calendar/years/99", headers=auth("auditor"))
    assert field_of(r) == ["year"]


SCHEDULE = {
    # 2033: New Year Sat 01-01..Mon 01-03; Spring Festival Sat 01-29..Sat 02-05 with make-up
    # Sunday 01-23 and Sunday 02-06 (invented test data in the State Council's shape).
    "holidays": [
        "2033-01-01",
        "2033-01-02",
        "2033-01-03",
        *[f"2033-01-{d}" for d in range(29, 32)],
        *[f"2033-02-0{d}" for d in range(1, 6)],
    ],
    "workdays": ["2033-01-23", "2033-02-06"],
}


async def test_load_a_year(api: httpx.AsyncClient, engine: Engine, restore_year: None) -> None:
    url = f"/calendar/years/{LOAD_YEAR}"
    r = await api.put(url, json=SCHEDULE, headers=auth("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "loaded" and body["loaded_by"] == "officer-admin"
    assert body["workdays"] == SCHEDULE["workdays"] and len(body["holidays"]) == 11
    assert body["signalled"] >= 0 and body["signal_failures"] == 0
    r = await api.get(url, headers=auth("village"))
    assert r.json()["source"] == "loaded"

    # Counting across Spring Festival now follows the schedule, and is no longer provisional.
    r = await get(api, "add-working-days", start=f"{LOAD_YEAR}-01-28", days=2)
    assert r.json() == {"date": f"{LOAD_YEAR}-02-07", "provisional": False}
    r = await get(api, "is-working-day", date=f"{LOAD_YEAR}-01-23")
    assert r.json()["make_up_working_day"] is True

    # A re-load replaces the year.
    again = {"holidays": ["2033-01-03"], "workdays": []}
    r = await api.put(url, json=again, headers=auth("admin"))
    assert r.status_code == 200
    r = await api.get(url, headers=auth("village"))
    assert r.json()["holidays"] == ["2033-01-03"] and r.json()["workdays"] == []
    with Session(engine) as s:
        row = s.get(CalendarYear, LOAD_YEAR)
        assert row is not None and row.holidays == ["2033-01-03"]


async def test_load_a_year_refused(
    api: httpx.AsyncClient, engine: Engine, restore_year: None
) -> None:
    url = f"/calendar/years/{LOAD_YEAR}"
    assert (await api.put(url, json=SCHEDULE)).status_code == 401
    assert (await api.put(url, json=SCHEDULE, headers=auth("county"))).status_code == 403
    both = {"holidays": SCHEDULE["holidays"], "workdays": ["2033-01-23", "2033-01-29"]}
    r = await api.put(url, json=both, headers=auth("admin"))
    assert field_of(r) == ["workdays.1"]
    assert "2033-01-29" in r.json()["detail"] and "both" in r.json()["detail"]
    cases = [
        ({"holidays": ["2032-12-31", *SCHEDULE["holidays"]], "workdays": []}, ["holidays.0"]),
        ({"holidays": SCHEDULE["holidays"], "workdays": ["2034-01-01"]}, ["workdays.0"]),
        ({"holidays": ["2033-01-03", "2033-01-03"], "workdays": []}, ["holidays.1"]),
        ({"holidays": ["2033-01-03"], "workdays": ["2033-01-24"]}, ["workdays.0"]),  # a Monday
        ({"holidays": ["2033-02-30"], "workdays": []}, ["holidays.0"]),
        ({"holidays": [], "workdays": []}, ["holidays"]),
        ({"holidays": ["2033-01-03"], "extra": 1}, ["extra"]),
        ({"workdays": []}, ["holidays"]),
    ]
    for payload, expected in cases:
        r = await api.put(url, json=payload, headers=auth("admin"))
        assert field_of(r) == expected, payload
    r = await api.put("/calendar/years/1800", json=SCHEDULE, headers=auth("admin"))
    assert field_of(r) == ["year"]
    with Session(engine) as s:
        assert s.get(CalendarYear, LOAD_YEAR) is None  # nothing written


def test_working_calendar_is_reused_until_the_loaded_years_change(
    engine: Engine, restore_year: None
) -> None:
    """Every deadline asks for the calendar: it is built once and reused while the loaded years
    read the same, and a year loaded (or re-loaded) counts at the very next call."""
    first = working_calendar(engine)
    assert working_calendar(engine) is first
    day = date(LOAD_YEAR, 3, 2)  # a Wednesday
    with Session(engine) as s:
        row = s.get(CalendarYear, LOAD_YEAR)
        if row is not None:
            s.delete(row)
            s.commit()
        s.add(CalendarYear(year=LOAD_YEAR, holidays=[day.isoformat()], workdays=[], loaded_by="t"))
        s.commit()
    loaded = working_calendar(engine)
    assert loaded is not first and loaded.has_schedule(LOAD_YEAR)
    assert not loaded.is_working_day(day)
    with Session(engine) as s:
        row = s.get(CalendarYear, LOAD_YEAR)
        assert row is not None
        row.holidays = []
        s.add(row)
        s.commit()
    assert working_calendar(engine).is_working_day(day)  # the re-load counts at once
