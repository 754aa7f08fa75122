"""A household's one assistance chain (一户一条救助链, seed 001 二(二)1(3)): every programme
(its applications, entitlements and temporary cases), payment (paid, failed, held), referral to
another department and that department's answer, in time order, with the gaps (entitled, not
referred) and duplicates it shows — the rules are in ``workflows/referrals/chain.py``.

Rows come from the read model (``case_record``), the payment instructions and the referral
register; the members' facts the gap rules need (serious illness, disability grade, in school)
come from the investigated household of the entitled programmes' applications (a query). An
officer sees the chain of a household with at least one case inside their area."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError

from api.db import DatabaseDep
from api.deps import TemporalClientDep, ensure_area, require_roles
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models import CaseRecord, PaymentInstruction
from jiuzhu.db.models_referrals import Referral
from jiuzhu.db.sealing import blind_indexes
from workflows.applications.models import ApplicationState
from workflows.applications.workflow import ApplicationWorkflow
from workflows.referrals.chain import (
    AssistanceChain,
    MemberFacts,
    PaymentRow,
    ProgrammeRow,
    ReferralRow,
    assistance_chain,
    entitled,
)
from workflows.referrals.contract import SourceKind

router = APIRouter(prefix="/households", tags=["households"])

READERS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER, Role.AUDITOR, Role.ADMIN)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
HouseholdId = Annotated[str, Path(pattern=r"^H[0-9A-F]{15}$")]


class Gathered:
    def __init__(
        self,
        programmes: list[ProgrammeRow],
        payments: list[PaymentRow],
        other_payments: list[PaymentRow],
        referrals: list[ReferralRow],
        workflows: dict[str, str],
    ) -> None:
        self.programmes = programmes
        self.payments = payments
        self.other_payments = other_payments
        self.referrals = referrals
        self.workflows = workflows  # case id → workflow id (applications)


def gather(session: Session, actor: Actor, household_id: str) -> Gathered:
    kinds = [k.value for k in SourceKind]
    cases = session.exec(
        select(CaseRecord).where(
            CaseRecord.household_id == household_id, col(CaseRecord.case_kind).in_(kinds)
        )
    ).all()
    referrals = session.exec(select(Referral).where(Referral.household_id == household_id)).all()
    areas = [c.area_code for c in cases] + [r.area_code for r in referrals]
    if not areas:
        raise HTTPException(404, f"household {household_id} not found")
    if not any(actor.covers(a) for a in areas):
        ensure_area(actor, areas[0])
    payees = session.exec(
        select(PaymentInstruction).where(PaymentInstruction.household_id == household_id)
    ).all()
    # The same people paid under another household's case count for duplicates.
    people = set(blind_indexes(p.payee_id_number for p in payees))
    others = (
        session.exec(
            select(PaymentInstruction).where(
                col(PaymentInstruction.payee_id_number_index).in_(people),
                PaymentInstruction.household_id != household_id,
                PaymentInstruction.kind == "payroll",
            )
        ).all()
        if people
        else []
    )
    return Gathered(
        programmes=[
            ProgrammeRow(
                case_id=c.case_id,
                case_kind=c.case_kind,
                programme=c.programme,
                status=c.status,
                area_code=c.area_code,
                applicant_name=c.applicant_name,
                created_at=c.created_at,
                linked_case_id=c.linked_case_id,
            )
            for c in cases
        ],
        payments=[PaymentRow.model_validate(p, from_attributes=True) for p in payees],
        other_payments=[PaymentRow.model_validate(p, from_attributes=True) for p in others],
        referrals=[ReferralRow.model_validate(r, from_attributes=True) for r in referrals],
        workflows={c.case_id: c.workflow_id for c in cases if c.case_kind == "application"},
    )


async def members_of(client: Client, g: Gathered) -> list[MemberFacts]:
    """The investigated members of the entitled programmes' applications (the entitlement's
    ``linked_case_id`` is its application)."""
    ids = {
        p.case_id if p.case_kind == "application" else p.linked_case_id
        for p in entitled(g.programmes)
    }
    out: list[MemberFacts] = []
    for app_id in sorted(i for i in ids if i and i in g.workflows):
        handle = client.get_workflow_handle_for(ApplicationWorkflow.run, g.workflows[app_id])
        try:
            state: ApplicationState = await handle.query(ApplicationWorkflow.get_state)
        except RPCError:
            continue  # no longer queryable: the chain is shown without that case's members
        household = state.verified_household or state.household
        for m in household.members if household else []:
            out.append(
                MemberFacts(
                    name=m.name,
                    id_number=m.id_number,
                    serious_illness=m.serious_illness,
                    disability_grade=m.disability_grade,
                    student=m.student,
                )
            )
    return out


@router.get("/{household_id}/assistance-chain", response_model=AssistanceChain)
async def assistance_chain_of(
    household_id: HouseholdId, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> AssistanceChain:
    """The household's programmes, payments, referrals and answers in time order, with its
    gaps and duplicates flagged."""
    g = await db.read(gather, actor, household_id)
    members = await members_of(client, g)
    return assistance_chain(
        household_id, g.programmes, g.payments, g.referrals, members, g.other_payments
    )
