"""The long-term public listing (长期公示) of a village's 低保/特困 households for the notice board
(低保办法 Art. 23–24; 焦民〔2022〕154号 十一, seed 002: 强化低保对象长期公示 … 保护个人隐私): name
masked, household size, programme and monthly amount — rendered at request time from the
entitlement read model, so it is refreshed whenever a case starts, changes or ends. HTML and
PDF. No ID number, address, illness or disability is ever on it (``rules/listing.py``)."""

from pathlib import Path as PathLike
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from activities.monitoring.listing import render_listing_pdf, village_listing
from api.deps import SessionDep, SettingsDep, ensure_area, require_roles
from api.errors import field_error
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.policy_store import policy_in_force
from rules.areas import is_known_area
from rules.authorities import township_authority_name
from rules.listing import PublicListing, render_listing_html

router = APIRouter(prefix="/listings", tags=["listings"])

READERS = (
    Role.VILLAGE_ASSISTANT,
    Role.TOWNSHIP_OFFICER,
    Role.COUNTY_OFFICER,
    Role.AUDITOR,
    Role.ADMIN,
)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="村/社区的12位行政区划代码")]


def _listing(
    session: Session, actor: Actor, village_code: str, policies_dir: PathLike
) -> PublicListing:
    # The registry names sample villages only: a village of a registered township is accepted.
    if not (is_known_area(village_code) or is_known_area(village_code[:9])):
        raise field_error("village_code", f"未知的村（社区）代码{village_code}")
    ensure_area(actor, village_code)
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
