"""Concurrent officers reading one case share one workflow query per read-model revision
(``api/updates.shared_query``): 100 concurrent reads all answer with the same state, nothing is
kept afterwards, and a read after a step sees the step (its revision is new)."""

import asyncio

import httpx

from api.updates import _FINAL, _IN_FLIGHT
from tests.application.helpers import create, household, investigation, step
from tests.conftest import auth


async def test_concurrent_reads_share_one_query_and_see_each_step(api: httpx.AsyncClient) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})

    answers = await asyncio.gather(
        *(api.get(f"/applications/{app_id}", headers=auth("village")) for _ in range(100))
    )
    assert {r.status_code for r in answers} == {200}
    assert len({r.text for r in answers}) == 1
    assert answers[0].json()["status"] == "accepted"
    assert not _IN_FLIGHT  # nothing kept once answered

    await step(api, app_id, "investigation", investigation(household(body)))
    r = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert r.status_code == 200 and r.json()["status"] != "accepted"


async def test_a_closed_case_is_read_from_its_kept_answer_until_a_step_writes_a_new_revision(
    api: httpx.AsyncClient,
) -> None:
    """A withdrawn application: its first read queries the workflow (a replay of its history);
    later reads at the same revision are the kept answer; none is kept for an open case."""
    app_id, _ = await create(api)
    await step(api, app_id, "accept", {})
    r = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert r.status_code == 200
    assert not [k for k in _FINAL if k[0] == f"application-{app_id}"]  # open: nothing kept

    await step(api, app_id, "withdraw", {"reason_zh": "申请人书面撤回申请"})
    first = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert first.status_code == 200 and first.json()["status"] == "withdrawn"
    kept = [k for k in _FINAL if k[0] == f"application-{app_id}"]
    assert len(kept) == 1
    again = await api.get(f"/applications/{app_id}", headers=auth("village"))
    assert again.json() == first.json()
