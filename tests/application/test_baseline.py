"""A case started with the application baseline (``jiuzhu.versions.Versions``) records one patch
marker and one ``TemporalChangeVersion`` upsert instead of one per patch, takes every patch the
baseline includes (local activities, the alarm, the one-household claim and transfer …), and
replays. ``JIUZHU_WRITE_HISTORY=1`` saves ``histories/baseline_approved_v6.json`` for
``test_replay.py``; older histories replay without the baseline (``test_replay.py``)."""

import base64
import json
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.versions import APPLICATION_BASELINE
from tests.application.helpers import (
    card,
    create,
    events_of,
    household,
    save_history,
    step,
    through_publicity,
    to_opinion,
)
from tests.payments.test_replay import replayer


def _attributes(raw: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        next(v for k, v in e.items() if k.endswith("EventAttributes")) for e in events_of(raw, kind)
    ]


async def test_approved_case_on_the_baseline_records_one_patch(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id, body = await create(api)
    await to_opinion(api, app_id, household(body, incomes={0: [("wage", "600.00")]}))
    await through_publicity(api, env, client, app_id)
    s = await step(
        api, app_id, "decision", {"outcome": "approve", "card_account": card(body)}, who="county"
    )
    assert s["status"] == "approved"

    history = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
    raw = json.loads(history.to_json())
    markers = [m["markerName"] for m in _attributes(raw, "MARKER_RECORDED")]
    assert markers.count("core_patch") == 1
    assert markers.count("core_local_activity") >= 20  # the light path
    upserted = [
        u["searchAttributes"]["indexedFields"]
        for u in _attributes(raw, "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES")
    ]
    versions = [u for u in upserted if "TemporalChangeVersion" in u]
    assert len(versions) == 1
    desc = await client.get_workflow_handle(f"application-{app_id}").describe()
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    assert sa["TemporalChangeVersion"] == [APPLICATION_BASELINE]
    # the members were claimed at the investigation and handed to the entitlement
    activities = [
        json.loads(base64.b64decode(m["details"]["data"]["payloads"][0]["data"]))["activity_type"]
        for m in _attributes(raw, "MARKER_RECORDED")
        if m["markerName"] == "core_local_activity"
    ]
    assert "membership_settle" in activities and "membership_transfer" in activities

    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    await save_history(client, app_id, "baseline_approved_v6")
