"""Concurrent officers reading one case share one workflow query per read-model revision
(``api/updates.shared_query``): 100 concurrent reads all answer with the same state, nothing is
left in flight afterwards, and a read after a step sees the step (its revision is new). The
answer kept in the database between reads: ``test_case_states.py``."""

import asyncio

import httpx

from api.updates import _IN_FLIGHT
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
