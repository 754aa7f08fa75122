"""Idempotency-Key is atomic: the key is reserved in the database before the workflow starts (or
the step's Update is sent), and the unique constraint decides every race. Concurrent duplicates
with the same body get the same resource; with a different body 422 naming ``Idempotency-Key``.
Steps take the key too: a retry after a lost answer gets the recorded answer, not 409."""

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.client import Client

from jiuzhu.clock import beijing_today
from jiuzhu.db.models import CaseRecord, IdempotencyKey
from jiuzhu.db.sealing import blind_indexes
from tests.conftest import auth
from tests.factories import application_body

RACERS = 10


def _applicants(body: dict[str, Any]) -> str:
    return str(body["household"][0]["id_number"])


async def _race(
    api: httpx.AsyncClient, calls: list[tuple[str, dict[str, Any]]], key: str
) -> list[httpx.Response]:
    headers = {**auth("township"), "Idempotency-Key": key}
    return list(
        await asyncio.gather(*(api.post(path, json=body, headers=headers) for path, body in calls))
    )


def _cases_of(engine: Engine, id_numbers: set[str]) -> int:
    with Session(engine) as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(CaseRecord)
                .where(col(CaseRecord.applicant_id_number_index).in_(blind_indexes(id_numbers)))
            ).one()
        )


async def test_racers_with_one_key_and_two_bodies_make_one_application(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    """10 racers with body A and 10 with body B under one key: exactly one application; every
    racer of the body that won has it, every racer of the other body is refused 422."""
    a, b = application_body(), application_body()
    key = uuid.uuid4().hex
    calls = [("/applications", a if i % 2 else b) for i in range(2 * RACERS)]
    answers = await _race(api, calls, key)
    assert all(r.status_code < 500 for r in answers), [r.status_code for r in answers]
    by_body: dict[str, list[httpx.Response]] = {"a": [], "b": []}
    for (_, body), r in zip(calls, answers, strict=True):
        by_body["a" if body is a else "b"].append(r)
    winner = "a" if by_body["a"][0].status_code in (200, 201) else "b"
    loser = "b" if winner == "a" else "a"
    won = by_body[winner]
    assert sorted(r.status_code for r in won) == [200] * (RACERS - 1) + [201]
    assert len({r.json()["application_id"] for r in won}) == 1
    app_id = won[0].json()["application_id"]
    winning_body = a if winner == "a" else b
    assert won[0].json()["members"][0]["id_number"] == _applicants(winning_body)
    for r in by_body[loser]:
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (await client.count_workflows(f"WorkflowId = 'application-{app_id}'")).count == 1
    assert _cases_of(engine, {_applicants(a), _applicants(b)}) == 1


async def test_a_first_then_racers_of_both_bodies(api: httpx.AsyncClient, engine: Engine) -> None:
    """Once body A holds the key, any interleaving of A and B retries: A gets it, B 422."""
    a, b = application_body(), application_body()
    key = uuid.uuid4().hex
    first = (await _race(api, [("/applications", a)], key))[0]
    assert first.status_code == 201, first.text
    app_id = first.json()["application_id"]
    calls = [("/applications", a if i % 2 else b) for i in range(2 * RACERS)]
    answers = await _race(api, calls, key)
    for (_, body), r in zip(calls, answers, strict=True):
        if body is a:
            assert r.status_code == 200 and r.json()["application_id"] == app_id, r.text
        else:
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _cases_of(engine, {_applicants(a), _applicants(b)}) == 1


async def test_racers_with_one_key_and_one_body_make_one_application(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = application_body()
    key = uuid.uuid4().hex
    answers = await _race(api, [("/applications", body)] * (2 * RACERS), key)
    assert sorted(r.status_code for r in answers) == [200] * (2 * RACERS - 1) + [201]
    ids = {r.json()["application_id"] for r in answers}
    assert len(ids) == 1
    (app_id,) = ids
    assert (await client.count_workflows(f"WorkflowId = 'application-{app_id}'")).count == 1
    assert _cases_of(engine, {_applicants(body)}) == 1
    with Session(engine) as s:
        rows = s.exec(
            select(IdempotencyKey).where(IdempotencyKey.key == f"application:{key}")
        ).all()
    assert [(r.scope, r.resource_id) for r in rows] == [("application", app_id)]


async def test_racing_temporary_cases_with_one_key(api: httpx.AsyncClient) -> None:
    def case_body() -> dict[str, Any]:
        household = application_body()["household"][:1]
        return {
            "procedure": "emergency",
            "area_code": "419901001001",
            "household": household,
            "event": {
                "event_type": "fire",
                "event_date": beijing_today().isoformat(),
                "description_zh": "住房失火",
            },
            "card_account": {"account_number": "6217000000000001234"},
        }

    a, b = case_body(), case_body()
    key = uuid.uuid4().hex
    first = (await _race(api, [("/temporary-cases", a)], key))[0]
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    calls = [("/temporary-cases", a if i % 2 else b) for i in range(2 * RACERS)]
    answers = await _race(api, calls, key)
    for (_, body), r in zip(calls, answers, strict=True):
        if body is a:
            assert r.status_code == 200 and r.json()["case_id"] == case_id, r.text
        else:
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_step_retried_with_its_key_answers_the_recorded_result(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post("/applications", json=application_body(), headers=auth("township"))
    app_id = created.json()["application_id"]
    key = uuid.uuid4().hex
    headers = {**auth("township"), "Idempotency-Key": key}
    first = await api.post(f"/applications/{app_id}/accept", json={}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted"

    # The answer was lost: the retry under the same key gets the recorded answer, not 409.
    again = await api.post(f"/applications/{app_id}/accept", json={}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()

    # The same key with a different body is refused, naming the header.
    other = {"accepted_on": beijing_today().isoformat()}
    r = await api.post(f"/applications/{app_id}/accept", json=other, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"

    # Without a key a repeated step is what it always was: the workflow refuses it (409).
    r = await api.post(f"/applications/{app_id}/accept", json={}, headers=auth("township"))
    assert r.status_code == 409, r.text


async def test_concurrent_retries_of_a_step_run_it_once(api: httpx.AsyncClient) -> None:
    created = await api.post("/applications", json=application_body(), headers=auth("township"))
    app_id = created.json()["application_id"]
    key = uuid.uuid4().hex
    answers = await _race(api, [(f"/applications/{app_id}/accept", {})] * RACERS, key)
    assert [r.status_code for r in answers] == [200] * RACERS, [r.text for r in answers]
    assert len({r.json()["revision"] for r in answers}) == 1
    assert {r.json()["status"] for r in answers} == {"accepted"}
    after = await api.get(f"/applications/{app_id}", headers=auth("township"))
    assert after.json()["revision"] == answers[0].json()["revision"]  # accepted once


async def test_a_refused_step_does_not_use_up_its_key(api: httpx.AsyncClient) -> None:
    """A step refused by the workflow records nothing: the corrected request may reuse the key."""
    created = await api.post("/applications", json=application_body(), headers=auth("township"))
    app_id = created.json()["application_id"]
    key = uuid.uuid4().hex
    headers = {**auth("township"), "Idempotency-Key": key}
    path = f"/applications/{app_id}/initial-opinion"
    r = await api.post(path, json={"recommendation": "approve"}, headers=headers)
    assert r.status_code == 409, r.text  # not accepted yet
    corrected = {"recommendation": "approve", "note_zh": "补充说明"}
    r = await api.post(path, json=corrected, headers=headers)
    assert r.status_code == 409, r.text  # the workflow's answer again, not a key conflict
    r = await api.post(f"/applications/{app_id}/accept", json={}, headers=headers)
    assert r.status_code == 200, r.text  # another step: another scope, the same key is fine
