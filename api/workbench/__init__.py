"""The officers' workbench (``/workbench``): server-rendered pages in Chinese for the day's work,
over the same services as the case API (the worklist is ``GET /cases``'s ``case_page``, the case
page the application's live state masked by ``api/masking.py``), so the pages hold no second set
of rules. Sign-in with the officer's token, kept in an HttpOnly, SameSite=Strict cookie scoped to
``/workbench``; every form carries a CSRF token derived from it. Every asset is served from this
package: no CDN, no build step."""

from fastapi import APIRouter

from api.workbench import case, county, intake, routes

router = APIRouter()
router.include_router(routes.router)
router.include_router(case.router)
router.include_router(intake.router)
router.include_router(county.router)  # payroll, reserve funds, supervision, messages

__all__ = ["router"]
