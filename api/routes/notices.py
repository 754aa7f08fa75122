"""Notice preview for officers drafting a document: any notice the law requires (missing
documents, approval, refusal with appeal rights, reduction/suspension/termination, edge
recognition, publicity list with masked names and ID numbers) rendered as Chinese HTML or as a
PDF with the CJK fonts embedded. Nothing is stored: case workflows keep their own notices.

A PDF is refused (422 naming the field, e.g. ``applicant_name`` or ``rows.0.name``) when a
field holds a character that no embedded font has — never printed with the character dropped."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import HTMLResponse

from api.deps import CurrentOfficer
from api.routes.policies import NoticeRoute, unprocessable
from jiuzhu.notices_pdf import MissingGlyphs, glyph_message, render_notice_pdf
from rules.notices import Notice, render_notice_html

router = APIRouter(prefix="/notices", tags=["notices"], route_class=NoticeRoute)


@router.post(
    "/render",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The rendered notice",
        }
    },
)
def render_notice(
    notice: Annotated[Notice, Body()],
    actor: CurrentOfficer,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    """Render a notice (the body is one of the ``rules.notices`` documents, chosen by
    ``kind``) as HTML (default) or PDF. Any officer; nothing is recorded."""
    if format == "pdf":
        try:
            pdf = render_notice_pdf(notice)
        except MissingGlyphs as exc:
            raise unprocessable(
                [(("body", *loc), glyph_message(chars)) for loc, chars in exc.problems]
            ) from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{notice.kind}.pdf"'},
        )
    return HTMLResponse(render_notice_html(notice))
