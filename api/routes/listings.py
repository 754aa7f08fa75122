"""The long-term public listing (长期公示) of a village's 低保/特困 households for the notice board
(低保办法 Art. 23–24; 焦民〔2022〕154号 十一, seed 002: 强化低保对象长期公示 … 保护个人隐私): name
masked, household size, programme and monthly amount — rendered at request time from the
entitlement read model, so it is refreshed whenever a case starts, changes or ends. HTML and
PDF. No ID number, address, illness or disability is ever on it (``rules/listing.py``)."""

from pathlib import Path as PathLike
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from temporalio.client import WorkflowHandle

from activities.monitoring.listing import render_listing_pdf, village_listing
from api.db import DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.errors import field_error
from api.updates import case_state, run_case_step
from api.validators import PaperDate
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.policy_store import policy_in_force
from rules.areas import is_known_area
from rules.authorities import township_authority_name
from rules.listing import PublicListing, render_listing_html
from workflows.listings.checks import POSTERS
from workflows.listings.contract import listing_case_id, listing_workflow_id
from workflows.listings.models import ListingState, ListingStepResult, RecordPosting
from workflows.listings.workflow import ListingPostingWorkflow

router = APIRouter(prefix="/listings", tags=["listings"])

READERS = (
    Role.VILLAGE_ASSISTANT,
    Role.TOWNSHIP_OFFICER,
    Role.COUNTY_OFFICER,
    Role.AUDITOR,
    Role.ADMIN,
)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
Poster = Annotated[Actor, Depends(require_roles(*POSTERS))]
VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="村/社区的12位行政区划代码")]


def _village(actor: Actor, village_code: str) -> None:
    # The registry names sample villages only: a village of a registered township is accepted.
    if not (is_known_area(village_code) or is_known_area(village_code[:9])):
        raise field_error("village_code", f"未知的村（社区）代码{village_code}")
    ensure_area(actor, village_code)


def _listing(
    session: Session, actor: Actor, village_code: str, policies_dir: PathLike
) -> PublicListing:
    _village(actor, village_code)
    today = beijing_today()
    policy = policy_in_force(session.get_bind(), policies_dir, village_code, today)  # type: ignore[arg-type]
    return village_listing(
        session,
        village_code,
        today,
        authority=township_authority_name(village_code),
        hotline=policy.complaints_hotline,
    )


@router.get("/{village_code}", response_class=HTMLResponse)
def listing_html(
    village_code: VillageCode, actor: Reader, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The village's listing as an HTML page."""
    listing = _listing(session, actor, village_code, settings.policies_dir)
    return HTMLResponse(render_listing_html(listing))


@router.get("/{village_code}/pdf", response_class=Response)
def listing_pdf(
    village_code: VillageCode, actor: Reader, session: SessionDep, settings: SettingsDep
) -> Response:
    """The village's listing as an A4 PDF for the notice board."""
    listing = _listing(session, actor, village_code, settings.policies_dir)
    return Response(
        render_listing_pdf(listing),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="listing-{village_code}.pdf"'},
    )


# --- the board: posting the updated listing ----------------------------------------------------
class PostedIn(BaseModel):
    """The updated listing went up on the village's board on ``posted_on`` (Beijing date)."""

    model_config = ConfigDict(extra="forbid")

    posted_on: PaperDate


def _handle(
    client: TemporalClientDep, village_code: str
) -> WorkflowHandle[ListingPostingWorkflow, None]:
    return client.get_workflow_handle_for(
        ListingPostingWorkflow.run, listing_workflow_id(village_code)
    )


@router.get("/{village_code}/posting", response_model=ListingState)
async def listing_posting(
    village_code: VillageCode, actor: Reader, client: TemporalClientDep
) -> ListingState:
    """The board's state: changes not yet posted, the posting deadline, the last posting and
    the timeline. 404 while no household of the village has started, changed or ended."""
    _village(actor, village_code)
    state: ListingState = await case_state(
        _handle(client, village_code),
        ListingPostingWorkflow.get_state,
        f"村（社区）{village_code}的长期公示尚无变更记录",
    )
    return state


@router.post("/{village_code}/posted", response_model=ListingStepResult)
async def record_posting(
    village_code: VillageCode,
    body: PostedIn,
    actor: Poster,
    db: DatabaseDep,
    settings: SettingsDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ListingStepResult:
    """The village's assistant or the township records that the listing as it is now went up
    on the board (what it shows is kept with the posting); meets the posting deadline on
    ``posted_on``. 409 when nothing is waiting to be posted; 422 naming ``posted_on`` for a date
    before the first change or after today."""
    listing = await db.read(_listing, actor, village_code, settings.policies_dir)
    cmd = RecordPosting(
        actor=actor,
        posted_on=body.posted_on,
        households=len(listing.rows),
        total=listing.total,
    )
    return await run_case_step(
        db,
        actor,
        _handle(client, village_code),
        listing_case_id(village_code),
        ListingPostingWorkflow.record_posting,
        cmd,
        body,
        idempotency_key,
        ListingStepResult,
        closed_zh=f"村（社区）{village_code}的长期公示没有待张贴的更新",
        log_as="village_code",
    )
