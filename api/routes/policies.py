"""Policies per jurisdiction (DOMAIN §9): the merged policy in force in an area on a day, the
layers that apply there, and new versions added by an admin from a date on.

File layers come from policies/ (validated at start-up, cached); admin layers from the
``policy_version`` table (read on every request). Old versions are never changed: a new version
of an area takes over from its ``effective_from``.
"""

from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import date
from typing import Annotated, Any, get_args

import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.deps import CurrentOfficer, SessionDep, SettingsDep, ensure_area, require_roles
from api.errors import ProblemError
from api.schemas.rules import (
    PolicyVersionCreate,
    PolicyVersionCreated,
    PolicyVersionList,
    PolicyVersionOut,
)
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models import PolicyVersion
from jiuzhu.policy_store import file_layers
from jiuzhu.settings import Settings
from rules.areas import NATIONAL, ancestors, is_known_area
from rules.notices import Notice
from rules.policy import (
    NoPolicyInForce,
    Policy,
    PolicyConflict,
    PolicyInvalid,
    PolicyLayer,
    PolicyProblem,
    check_layers,
    layer_version_id,
    layers_for,
    resolve_policy,
)

NOTICE_KINDS: frozenset[str] = frozenset(
    get_args(member.model_fields["kind"].annotation)[0] for member in get_args(get_args(Notice)[0])
)


def _plain(error: dict[str, Any], union_tags: bool) -> dict[str, Any]:
    """A validation error in plain terms: without pydantic's "Value error, " before a rule's
    message; with ``union_tags`` (a ``Notice`` body), the notice's own field — the union tag
    pydantic puts in the path is dropped (``body.refusal.reasons`` → ``body.reasons``) and a
    missing or unknown tag is ``kind``'s."""
    loc = tuple(error.get("loc", ()))
    message = str(error.get("msg", ""))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if union_tags:
        if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = ("body", "kind")
        elif len(loc) >= 2 and loc[0] == "body" and loc[1] in NOTICE_KINDS:
            loc = ("body", *loc[2:])
    return {**error, "loc": loc, "msg": message}


class RulesRoute(APIRoute):
    """Routes of the rules endpoints: request validation errors in plain terms (``_plain``)."""

    union_tags = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise RequestValidationError(
                    [_plain(dict(e), self.union_tags) for e in exc.errors()], body=exc.body
                ) from None

        return route


class NoticeRoute(RulesRoute):
    """For a ``Notice`` body: errors name the notice's own field, not the union tag."""

    union_tags = True


router = APIRouter(prefix="/policies", tags=["policies"], route_class=RulesRoute)
log = structlog.get_logger("jiuzhu.api.policies")

Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]


def today_shanghai() -> date:
    """Today's date in Beijing time (deadlines and policies are dated in Beijing time)."""
    return beijing_today()


def unprocessable(problems: Iterable[tuple[Sequence[str | int], str]]) -> RequestValidationError:
    """A 422 problem+json naming each field (``loc`` as FastAPI reports body fields), in the
    same shape as request validation errors."""
    return RequestValidationError(
        [{"loc": tuple(loc), "msg": message, "type": "value_error"} for loc, message in problems]
    )


def known_area(area_code: str, loc: Sequence[str | int] = ("path", "area_code")) -> str:
    """422 naming ``area_code`` unless it is a registered area (or ``CN``)."""
    if area_code != NATIONAL and not is_known_area(area_code):
        raise unprocessable([(loc, f"行政区划代码不存在 / unknown area code {area_code!r}")])
    return area_code


def policy_for(
    layers: Sequence[PolicyLayer],
    area_code: str,
    on: date,
    on_loc: Sequence[str] = ("query", "on"),
    fields_in_body: bool = False,
) -> Policy:
    """The merged policy, or 422 naming ``on`` (no policy in force yet) or the invalid fields
    (body fields when checking a new layer, else the area); 409 if two layers claim the same
    area and date (a policy file added later over an admin's version)."""
    try:
        return resolve_policy(layers, area_code, on)
    except NoPolicyInForce as exc:
        raise unprocessable([(on_loc, str(exc))]) from None
    except PolicyConflict as exc:  # a file and an admin version claim the same area and date
        raise ProblemError(409, "Conflict", str(exc), field="effective_from") from None
    except PolicyInvalid as exc:
        if fields_in_body:
            raise unprocessable(
                [(("body", p.field), f"{exc.version_id}: {p.message}") for p in exc.problems]
            ) from None
        raise unprocessable(
            [(("path", "area_code"), f"{p.field}: {p.message}") for p in exc.problems]
        ) from None


def policy_layers(
    session: Session, settings: Settings
) -> tuple[list[PolicyLayer], dict[str, PolicyVersion]]:
    """File layers (cached) and admin layers (read now), with the admin rows by version id."""
    rows = session.exec(select(PolicyVersion)).all()
    api_rows = {row.version_id: row for row in rows}
    api = [PolicyLayer.model_validate(row.layer) for row in rows]
    return [*file_layers(settings.policies_dir), *api], api_rows


def _version_out(
    layer: PolicyLayer, rows: dict[str, PolicyVersion], in_force: set[str]
) -> PolicyVersionOut:
    row = rows.get(layer.version_id)
    params = layer.model_dump(mode="json", include=set(layer.parameters()))
    return PolicyVersionOut(
        version_id=layer.version_id,
        area_code=layer.area_code,
        effective_from=layer.effective_from,
        origin="api" if row is not None else "file",
        source=layer.source,
        name=layer.name,
        in_force=layer.version_id in in_force,
        created_by=row.created_by if row is not None else None,
        created_at=row.created_at if row is not None else None,
        parameters=params,
    )


def _in_force(layers: Sequence[PolicyLayer], area_code: str, on: date) -> set[str]:
    try:
        return {layer.version_id for layer in layers_for(layers, area_code, on)}
    except NoPolicyInForce:
        return set()


def _backdated(effective_from: date) -> list[PolicyProblem]:
    """A new version takes effect today or later (Beijing time), never before: a case runs
    under the policy in force when it was accepted (DOMAIN §9), so a back-dated version would
    silently change the rules of cases already decided or under way."""
    today = today_shanghai()
    if effective_from >= today:
        return []
    return [
        PolicyProblem(
            field="effective_from",
            message=f"新政策版本的生效日期不得早于今天（北京时间{today.isoformat()}），"
            f"不得追溯至{effective_from.isoformat()}：已受理的案件按受理时有效的政策办理 / "
            f"effective_from may not be before today ({today.isoformat()}, Beijing time), got "
            f"{effective_from.isoformat()}",
        )
    ]


@router.get("/{area_code}", response_model=Policy)
def get_policy(
    area_code: str,
    actor: CurrentOfficer,
    session: SessionDep,
    settings: SettingsDep,
    on: date | None = None,
) -> Policy:
    """The merged policy in force in ``area_code`` on ``on`` (default: today, Beijing time),
    with its ``version_id`` naming every layer used (DOMAIN §9). Any officer may read it."""
    known_area(area_code)
    layers, _ = policy_layers(session, settings)
    return policy_for(layers, area_code, on or today_shanghai())


@router.get("/{area_code}/versions", response_model=PolicyVersionList)
def list_policy_versions(
    area_code: str,
    actor: CurrentOfficer,
    session: SessionDep,
    settings: SettingsDep,
    on: date | None = None,
) -> PolicyVersionList:
    """Every layer that applies to ``area_code`` (national, then each level down to the area),
    from files and from admins, oldest first per level; ``in_force`` marks those used on ``on``
    (default today)."""
    known_area(area_code)
    day = on or today_shanghai()
    layers, rows = policy_layers(session, settings)
    chain = [NATIONAL] if area_code == NATIONAL else [NATIONAL, *ancestors(area_code)]
    in_force = _in_force(layers, area_code, day)
    applying = sorted(
        (layer for layer in layers if layer.area_code in chain),
        key=lambda layer: (chain.index(layer.area_code), layer.effective_from),
    )
    return PolicyVersionList(
        area_code=area_code,
        on=day,
        versions=[_version_out(layer, rows, in_force) for layer in applying],
    )


@router.post("/{area_code}/versions", status_code=201, response_model=PolicyVersionCreated)
def add_policy_version(
    area_code: str,
    body: PolicyVersionCreate,
    response: Response,
    actor: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> PolicyVersionCreated:
    """A new version of the area's policy from ``effective_from`` on (admin, inside their area).

    It may not take effect before today (Beijing time; 422 naming ``effective_from``), every
    period it sets must keep its statutory bound (``rules.statutory_bounds``: publicity exactly
    7 days, 低保办法 Art. 19; deadlines no longer than 低保办法 Art. 15–22 and 特困办法 allow;
    422 naming the parameter, the bound and its source), and it is checked by merging with the
    layers above it on its date and on every later date in force (a bad or incomplete policy →
    422 naming the field); the same area and date twice → 409. Nothing is written on refusal.
    Older versions stay and keep applying to earlier dates (DOMAIN §9: a case runs under the
    version in force when it was accepted)."""
    known_area(area_code)
    ensure_area(actor, area_code)
    data = body.model_dump()
    effective_from: date = data["effective_from"]
    try:
        layer = PolicyLayer.model_validate(
            {
                **data,
                "area_code": area_code,
                "version_id": layer_version_id(area_code, effective_from),
                "source": f"api:{actor.officer_id}",
            }
        )
    except ValidationError as exc:
        raise unprocessable(
            [(("body", *e["loc"]), str(e["msg"])) for e in exc.errors(include_url=False)]
        ) from None
    refused = [*_backdated(effective_from), *layer.statutory_problems()]
    if refused:
        raise unprocessable([(("body", p.field), p.message) for p in refused])
    layers, rows = policy_layers(session, settings)
    for existing in layers:
        if (existing.area_code, existing.effective_from) == (area_code, effective_from):
            raise ProblemError(
                409,
                "Conflict",
                f"effective_from: {area_code}在{effective_from.isoformat()}已有政策版本"
                f"{existing.version_id}（{existing.source}） / a version for {area_code} "
                f"effective {effective_from.isoformat()} already exists",
                field="effective_from",
            )
    candidate = [*layers, layer]
    policy = policy_for(
        candidate, area_code, effective_from, ("body", "effective_from"), fields_in_body=True
    )
    try:
        later = [
            invalid
            for invalid in check_layers(candidate)
            if layer.version_id in invalid.version_id.split("+")
        ]
    except PolicyConflict as exc:  # between existing layers (a file added over an admin version)
        raise ProblemError(409, "Conflict", str(exc), field="effective_from") from None
    if later:
        raise unprocessable(
            [
                (("body", p.field), f"{invalid.version_id}: {p.message}")
                for invalid in later
                for p in invalid.problems
            ]
        )
    row = PolicyVersion(
        version_id=layer.version_id,
        area_code=area_code,
        effective_from=effective_from,
        layer=layer.model_dump(mode="json"),
        created_by=actor.officer_id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ProblemError(
            409,
            "Conflict",
            f"effective_from: a version for {area_code} effective "
            f"{effective_from.isoformat()} was just added",
            field="effective_from",
        ) from None
    session.refresh(row)
    log.info(
        "policy version added",
        version_id=layer.version_id,
        area_code=area_code,
        merged_version_id=policy.version_id,
    )
    response.headers["Location"] = f"/policies/{area_code}?on={effective_from.isoformat()}"
    return PolicyVersionCreated(
        version=_version_out(layer, {**rows, layer.version_id: row}, {layer.version_id}),
        policy=policy,
    )
