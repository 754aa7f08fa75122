"""A case's detail is kept at the read model's revision (``api/case_states.py``): a read of an
unchanged case is answered from ``case_state`` without asking the worker, a step's new revision
is seen at once, a kept answer past its ``valid_until`` (a reminder still to come) is asked
again, the kept state is sealed at rest and masked by role like any answer."""

import json
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session

from activities.deadlines import Deadline, DeadlineSpec
from api.case_states import keep_answer, kept_answer, valid_until
from jiuzhu.areas import AreaRef
from jiuzhu.db.models import CaseRecord, CaseState, utcnow
from rules.periods import Period, PeriodUnit
from tests.application.helpers import create, household, investigation, step
from tests.conftest import auth
from tests.factories import case_record
from tests.temporary.helpers import create_case, registered

MARK = "KEPT-ANSWER-MARK"


def _kept(engine: Engine, case_id: str) -> CaseState | None:
    with Session(engine) as s:
        return s.get(CaseState, case_id)


def _revision(engine: Engine, case_id: str) -> int:
    with Session(engine) as s:
        row = s.get(CaseRecord, case_id)
        assert row is not None
        return row.revision


def _mark_kept(engine: Engine, case_id: str, *, until: datetime | None = None) -> None:
    """Write a mark into the kept answer: a read that returns it was not asked of the worker."""
    with Session(engine) as s:
        kept = s.get(CaseState, case_id)
        assert kept is not None
        state = json.loads(kept.state)
        state["linked_case_id"] = MARK
        kept.state = json.dumps(state, ensure_ascii=False)
        if until is not None:
            kept.valid_until = until
        s.add(kept)
        s.commit()


async def test_an_unchanged_case_is_read_from_its_kept_state_and_a_step_is_seen_at_once(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})
    first = await api.get(f"/applications/{app_id}", headers=auth("township"))
    assert first.status_code == 200 and first.json()["status"] == "accepted"

    kept = _kept(engine, app_id)
    assert kept is not None and kept.revision == first.json()["revision"]
    assert kept.revision == _revision(engine, app_id)
    # Valid until the first reminder of the open investigation deadline (recorded without a
    # new revision).
    deadlines = [Deadline.model_validate(d) for d in first.json()["deadlines"]]
    open_ = [d for d in deadlines if d.is_open]
    assert open_ and kept.valid_until == min(d.remind_at for d in open_)
    # Sealed at rest: the stored column holds neither the applicant's ID number nor the name.
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT state FROM case_state WHERE case_id = :id"), {"id": app_id}
        ).scalar_one()
    applicant_id = body["household"][0]["id_number"]
    assert applicant_id not in stored and "张建明" not in stored

    _mark_kept(engine, app_id)
    again = await api.get(f"/applications/{app_id}", headers=auth("township"))
    assert again.status_code == 200 and again.json()["linked_case_id"] == MARK
    assert {k: v for k, v in again.json().items() if k != "linked_case_id"} == {
        k: v for k, v in first.json().items() if k != "linked_case_id"
    }
    # Masked by role like any answer: the village assistant reads the ID numbers masked.
    village = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert village.json()["linked_case_id"] == MARK
    assert applicant_id not in village.text
    assert village.json()["members"][0]["id_number"].count("*") == 8

    # A step writes a new revision: the next read asks the workflow and keeps its answer.
    await step(api, app_id, "investigation", investigation(household(body)))
    after = await api.get(f"/applications/{app_id}", headers=auth("township"))
    assert after.json()["status"] != "accepted" and after.json()["linked_case_id"] is None
    # Kept at the revision it answered (the background verification may write later ones).
    kept = _kept(engine, app_id)
    assert kept is not None and kept.revision >= after.json()["revision"] > first.json()["revision"]


async def test_a_kept_state_past_its_valid_until_is_asked_again(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    app_id, _ = await create(api)
    await step(api, app_id, "accept", {})
    assert (await api.get(f"/applications/{app_id}", headers=auth("county"))).status_code == 200
    _mark_kept(engine, app_id, until=utcnow() - timedelta(seconds=1))
    r = await api.get(f"/applications/{app_id}", headers=auth("county"))
    assert r.status_code == 200 and r.json()["linked_case_id"] is None
    kept = _kept(engine, app_id)
    assert kept is not None and kept.valid_until is not None and kept.valid_until > utcnow()


async def test_a_closed_case_is_kept_for_good(api: httpx.AsyncClient, engine: Engine) -> None:
    """A withdrawn application: its first read queries the workflow (a replay of its whole
    history, since a closed workflow is not cached); every later read is the kept answer."""
    app_id, _ = await create(api)
    await step(api, app_id, "accept", {})
    await step(api, app_id, "withdraw", {"reason_zh": "申请人书面撤回申请"})
    first = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert first.status_code == 200 and first.json()["status"] == "withdrawn"
    kept = _kept(engine, app_id)
    assert kept is not None and kept.valid_until is None  # nothing timed is left
    again = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert again.json() == first.json()


async def test_a_temporary_case_detail_is_kept_too(api: httpx.AsyncClient, engine: Engine) -> None:
    case = await create_case(api)
    case_id = case["case_id"]
    state = await registered(api, case_id)
    kept = _kept(engine, case_id)
    assert kept is not None and kept.revision == state["revision"] == _revision(engine, case_id)
    _mark_kept(engine, case_id)
    r = await api.get(f"/temporary-cases/{case_id}", headers=auth("county"))
    assert r.status_code == 200 and r.json()["linked_case_id"] == MARK


def test_a_row_at_revision_0_is_never_answered_from_a_kept_state(engine: Engine) -> None:
    """Revision 0 is the starting route's own row, written before the workflow's first write."""
    case_id = "KEPT-REVISION-0"
    with Session(engine) as s:
        keep_answer(s, case_id, 0, '{"revision": 0}', None)
        s.commit()
        row = case_record(case_id, revision=0)
        assert kept_answer(s, row) is None
        row.revision = 1
        assert kept_answer(s, row) is None  # kept at 0, not at the row's 1
        keep_answer(s, case_id, 1, '{"revision": 1}', None)
        assert kept_answer(s, row) == b'{"revision": 1}'
        s.rollback()


def _deadline(day: int, **life: datetime) -> Deadline:
    spec = DeadlineSpec.owed_by_township(
        name=f"d{day}",
        label_zh="入户调查",
        start=date(2026, 12, 1),
        period=Period(value=3, unit=PeriodUnit.WORKING_DAYS),
        reminder_lead=Period(value=1, unit=PeriodUnit.WORKING_DAYS),
        area=AreaRef.of("419901001001"),
    )
    due = datetime(2026, 12, day, 16, tzinfo=UTC)
    return Deadline(
        spec=spec,
        due_date=date(2026, 12, day),
        due_at=due,
        remind_at=due - timedelta(days=1),
        provisional=False,
        **life,
    )


def test_valid_until_is_the_first_reminder_or_escalation_still_to_come() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    assert valid_until([]) is None
    assert valid_until([_deadline(4), _deadline(8)]) == datetime(2026, 12, 3, 16, tzinfo=UTC)
    reminded = _deadline(4, reminded_at=at)
    assert valid_until([reminded]) == datetime(2026, 12, 4, 16, tzinfo=UTC)  # its escalation
    assert valid_until([_deadline(4, reminded_at=at, escalated_at=at)]) is None
    assert valid_until([_deadline(4, met_at=at), _deadline(9, cancelled_at=at)]) is None
    assert valid_until([_deadline(4, met_at=at), _deadline(8)]) == datetime(
        2026, 12, 7, 16, tzinfo=UTC
    )
