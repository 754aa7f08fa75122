"""支出型 on the real server: the temporary case runs the application workflow as its child
(programme temporary, the requested amount, linked to the case); the officers drive the child's
steps (accept → investigate → initial opinion → 7-day publicity → township decision within the
delegated limit → county record); the child returns APPROVED with its amount and the temporary
case pays it (county-funded instruction, kind ``temporary``) and closes."""

from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.contract import Actor
from jiuzhu.db.models import CaseRecord
from tests.conftest import auth
from tests.factories import id_number
from tests.temporary.helpers import (
    assert_replays,
    case_body,
    create_case,
    ledger,
    payments,
    poll,
)
from workflows.applications.models import (
    AcceptInput,
    DecisionInput,
    DecisionOutcome,
    DeliveryInput,
    FilingInput,
    InvestigationInput,
    OpinionInput,
    Recommendation,
)
from workflows.applications.workflow import ApplicationWorkflow
from workflows.temporary.workflow import TemporaryCaseWorkflow


async def test_normal_procedure_runs_the_application_workflow_as_child(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    engine: Engine,
    actors: dict[str, Actor],
) -> None:
    case = await create_case(api, procedure="normal", requested_amount="1500.00")
    case_id = case["case_id"]
    state = await poll(api, case_id, lambda s: s["application"] is not None)
    assert state["status"] == "in_application"
    app_id = state["application"]["application_id"]
    child = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    desc = await child.describe()
    assert desc.parent_id == f"temporary-{case_id}"
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    assert sa["Programme"] == "temporary" and sa["CaseKind"] == "application"

    app = await child.query(ApplicationWorkflow.get_state)
    for _ in range(100):
        if app.timeline:
            break
        app = await child.query(ApplicationWorkflow.get_state)
    assert app.requested_amount == Decimal("1500.00") and app.linked_case_id == case_id

    township, county = actors["township"], actors["county"]
    await child.execute_update(ApplicationWorkflow.accept, AcceptInput(actor=township))
    await child.execute_update(
        ApplicationWorkflow.record_investigation,
        InvestigationInput(
            actor=township,
            investigators=["孙经办", "周协理"],
            signed_by_household=True,
            findings_zh="子女住院手术，自付医疗费用超过家庭承受能力",
        ),
    )
    await child.execute_update(
        ApplicationWorkflow.initial_opinion,
        OpinionInput(
            actor=township, recommendation=Recommendation.APPROVE, proposed_amount=Decimal(1500)
        ),
    )
    await env.fast_forward(child, timedelta(days=8))  # 7-day publicity, no objection
    app = await child.query(ApplicationWorkflow.get_state)
    assert app.status == "awaiting_decision", app.status
    # 1500 ≤ the township approval limit (2000): the township decides, the county records it.
    await child.execute_update(
        ApplicationWorkflow.decide,
        DecisionInput(actor=township, outcome=DecisionOutcome.APPROVE, amount=Decimal(1500)),
    )
    parent = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, f"temporary-{case_id}")
    assert (await parent.query(TemporaryCaseWorkflow.get_state)).status == "in_application"
    await child.execute_update(ApplicationWorkflow.record_filing, FilingInput(actor=county))

    final = await parent.result()
    assert final.status == "closed" and final.outcome == "aided"
    assert final.application is not None
    assert final.application.status == "approved"
    assert final.application.approved_amount == Decimal("1500.00")
    (pay,) = payments(engine, [case_id])
    assert (pay.kind, pay.funding_source, pay.amount) == ("temporary", "county", Decimal(1500))
    assert pay.idempotency_key == f"temporary:{case_id}:award"
    assert ledger(engine, [case_id]) == []  # the normal procedure is not paid from the reserve
    with Session(engine) as s:
        row = s.get(CaseRecord, case_id)
        assert row is not None and row.status == "closed"
    r = await api.get(f"/temporary-cases/{case_id}", headers=auth("township"))
    assert r.json()["status"] == "closed"
    assert [p["kind"] for p in r.json()["payments"]] == ["temporary"]
    await assert_replays(parent, save_as="normal_child_approved")


async def test_refused_application_closes_the_case_and_frees_the_event(
    api: httpx.AsyncClient, client: Client, engine: Engine, actors: dict[str, Actor]
) -> None:
    """A refusal (in writing, delivered) closes the case unpaid; no aid was given, so the event
    is free for another case without a repeat reason."""
    applicant = id_number(area6="110101")
    case = await create_case(
        api, procedure="normal", requested_amount="1500.00", applicant_id=applicant
    )
    case_id = case["case_id"]
    state = await poll(api, case_id, lambda s: s["application"] is not None)
    app_id = state["application"]["application_id"]
    child = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    township = actors["township"]
    await child.execute_update(ApplicationWorkflow.accept, AcceptInput(actor=township))
    await child.execute_update(
        ApplicationWorkflow.record_investigation,
        InvestigationInput(
            actor=township,
            investigators=["孙经办", "周协理"],
            signed_by_household=True,
            findings_zh="医疗费用已由大病保险报销，家庭可以承受",
        ),
    )
    await child.execute_update(
        ApplicationWorkflow.initial_opinion,
        OpinionInput(actor=township, recommendation=Recommendation.REFUSE, reason_zh="可承受"),
    )
    await child.execute_update(
        ApplicationWorkflow.decide,
        DecisionInput(
            actor=township, outcome=DecisionOutcome.REFUSE, reasons_zh=["医疗费用已报销"]
        ),
    )
    app = await child.query(ApplicationWorkflow.get_state)  # updates return a small result
    notice = app.notices[-1]
    await child.execute_update(
        ApplicationWorkflow.deliver_notice,
        DeliveryInput(actor=township, notice_id=notice.notice_id, recipient_name="赵大勇"),
    )
    parent = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, f"temporary-{case_id}")
    final = await parent.result()
    assert final.status == "closed" and final.outcome == "refused"
    assert final.application is not None and final.application.status == "refused"
    assert payments(engine, [case_id]) == []
    r = await api.post(
        "/temporary-cases", json=case_body(applicant_id=applicant), headers=auth("township")
    )
    assert r.status_code == 201, r.text  # same event, no reason needed: nothing was paid
