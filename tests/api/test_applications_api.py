"""The thin slice through the real stack: POST /applications starts one workflow per
application (idempotent), GET returns its live state, the case is searchable in the Web UI and
present in the read model; bad input and bad credentials are refused with nothing written."""

import asyncio
import uuid

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.client import Client

from api.main import create_app
from jiuzhu.db.models import CaseRecord
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.factories import application_body, id_number


def count_cases(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(CaseRecord)).one())


async def count_workflows(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def test_health(api: httpx.AsyncClient) -> None:
    # The worker's pollers register a moment after it starts: give it a few seconds.
    for _ in range(50):
        r = await api.get("/health")
        if r.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["pollers"] >= 1


async def test_create_and_read_application(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    r = await api.post("/applications", json=application_body(), headers=auth("township"))
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]
    assert r.headers["Location"] == f"/applications/{app_id}"
    assert r.json()["status"] == "submitted"

    r = await api.get(f"/applications/{app_id}", headers=auth("township"))
    assert r.status_code == 200
    assert r.json()["members"][0]["name"] == "张建明"

    handle = client.get_workflow_handle(f"application-{app_id}")
    desc = await handle.describe()
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    assert sa["ProgrammeStatus"] == "submitted"
    assert sa["Programme"] == "dibao"
    assert sa["AreaCode"] == "419901001001"
    assert sa["CountyCode"] == "419901"

    with Session(engine) as s:
        row = s.get(CaseRecord, app_id)
        assert row is not None and row.status == "submitted" and row.household_size == 2

    r = await api.get("/applications", headers=auth("county"))
    assert app_id in [i["application_id"] for i in r.json()["items"]]
    r = await api.get("/applications", headers=auth("township2"))
    assert app_id not in [i["application_id"] for i in r.json()["items"]]


async def test_idempotency_key_returns_the_same_application(
    api: httpx.AsyncClient, client: Client
) -> None:
    body = application_body()
    key = uuid.uuid4().hex
    headers = {**auth("township"), "Idempotency-Key": key}
    first = await api.post("/applications", json=body, headers=headers)
    second = await api.post("/applications", json=body, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    app_id = first.json()["application_id"]
    assert second.json()["application_id"] == app_id
    assert await count_workflows(client, f"WorkflowId = 'application-{app_id}'") == 1

    other = application_body()
    r = await api.post("/applications", json=other, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


def _bad_bodies() -> list[tuple[str, object, str]]:
    good = application_body()
    bad_check = dict(good, household=[dict(good["household"][0])])
    digits = bad_check["household"][0]["id_number"]
    wrong = "0" if digits[-1] != "0" else "1"
    bad_check["household"][0]["id_number"] = digits[:-1] + wrong
    return [
        ("unknown programme", dict(good, programme="wealth"), "programme"),
        ("bad check digit", bad_check, "household.0.id_number"),
        ("empty household", dict(good, household=[]), "household"),
        ("unknown area", dict(good, area_code="419901009"), "area_code"),
        (
            "no applicant",
            dict(good, household=[dict(good["household"][0], relation="spouse")]),
            "household",
        ),
    ]


async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    before_rows = count_cases(engine)
    before_wf = await count_workflows(client, "CaseKind = 'application'")
    r = await api.post(
        "/applications",
        content=b'{"programme": "dibao",',
        headers={**auth("township"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "malformed JSON" in r.json()["detail"]
    for label, body, field in _bad_bodies():
        r = await api.post("/applications", json=body, headers=auth("township"))
        assert r.status_code == 422, label
        assert r.headers["content-type"].startswith("application/problem+json")
        fields = [e["field"] for e in r.json()["errors"]]
        assert field in fields, (label, fields)
    assert count_cases(engine) == before_rows
    assert await count_workflows(client, "CaseKind = 'application'") == before_wf


async def test_tokens_roles_and_areas(api: httpx.AsyncClient) -> None:
    body = application_body()
    r = await api.post("/applications", json=body)
    assert r.status_code == 401
    r = await api.post("/applications", json=body, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = await api.post("/applications", json=body, headers=auth("finance"))
    assert r.status_code == 403
    r = await api.post("/applications", json=body, headers=auth("township2"))
    assert r.status_code == 403
    r = await api.post("/applications", json=body, headers=auth("other_county"))
    assert r.status_code == 403

    r = await api.post("/applications", json=body, headers=auth("village"))
    assert r.status_code == 201
    app_id = r.json()["application_id"]
    assert (await api.get(f"/applications/{app_id}", headers=auth("township2"))).status_code == 403
    assert (await api.get(f"/applications/{app_id}", headers=auth("auditor"))).status_code == 200
    assert (await api.get("/applications/ANOPE", headers=auth("county"))).status_code == 404
    assert id_number()  # factories stay importable


async def test_health_is_503_when_no_worker_polls(
    settings: Settings, engine: Engine, client: Client
) -> None:
    """/health names what is down: here the task queue has no worker."""
    app = create_app(
        settings=settings.model_copy(update={"task_queue": "nobody-polls-this"}),
        engine=engine,
        client=client,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jiuzhu.test"
    ) as http:
        r = await http.get("/health")
    assert r.status_code == 503
    body = r.json()
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["temporal"]["ok"] is True and body["checks"]["database"]["ok"] is True
