"""The codec endpoint for operators (Temporal's codec server protocol): the Web UI and the CLI
send the encrypted payloads of a history here and show what comes back. Only an officer with an
operator role (admin, county officer) gets plaintext; every decode is logged with who, which
workflow (from the UI page that asked) and how many payloads (PIPL Art. 51: access control and
records of access to personal information).

The Web UI calls from its own origin and cannot attach a bearer token, so an operator logs in
once at ``/codec/login``: the token is kept in an HttpOnly cookie scoped to ``/codec`` and sent
with the UI's requests ("Include cross-origin credentials" in the UI's codec settings). CLI and
scripts send ``Authorization: Bearer <token>``. CORS admits only the Web UI's origins.

Shapes: ``POST /codec/decode`` and ``/codec/encode`` take and return ``{"payloads": [{"metadata":
{name: base64}, "data": base64}]}`` (protobuf JSON of ``temporal.api.common.v1.Payloads``); the
same under ``/codec/{namespace}/…`` for the CLI's ``--codec-endpoint`` templating. Errors: 401
without a valid token, 403 for another role, 422 for a malformed body or a payload that does not
decrypt."""

import re
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Cookie, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payloads

from api.access import record_read
from jiuzhu.codec import CodecKeyError, EncryptionCodec, key_ring, workflow_ids_of
from jiuzhu.contract import Actor, Role
from jiuzhu.officers import officer_for_token
from jiuzhu.settings import Settings

router = APIRouter(prefix="/codec", tags=["codec"])
log = structlog.get_logger("jiuzhu.codec")

COOKIE = "jiuzhu_codec"
COOKIE_MAX_AGE_S = 8 * 3600  # one working day
OPERATOR_ROLES = frozenset({Role.ADMIN, Role.COUNTY_OFFICER})
MAX_PAYLOADS = 1000
_bearer = HTTPBearer(auto_error=False)
_WORKFLOW_IN_PAGE = re.compile(r"/workflows/([^/?#]+)")


def codec_origins(settings: Settings) -> list[str]:
    """The browser origins admitted to the codec endpoint: ``JIUZHU_CODEC_CORS_ORIGINS``, else
    the embedded Web UI on this host."""
    if settings.codec_cors_origins:
        return list(settings.codec_cors_origins)
    host = settings.temporal_address.rpartition(":")[0] or "127.0.0.1"
    port = settings.temporal_ui_port
    return sorted({f"http://{h}:{port}" for h in (host, "127.0.0.1", "localhost")})


class CodecBody(BaseModel):
    """``payloads``: protobuf JSON payloads (``metadata`` values and ``data`` in base64)."""

    model_config = ConfigDict(extra="allow")

    # The Temporal CLI sends ``{}`` for a workflow without payloads: nothing to do, not a 422.
    payloads: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_PAYLOADS)


class CodecLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


def _codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec | None = getattr(request.app.state, "codec", None)
    if codec is None:
        ring = key_ring(request.app.state.settings)
        if ring is None:
            raise HTTPException(503, "payload encryption is not configured")
        codec = request.app.state.codec = EncryptionCodec(ring)
    return codec


async def operator(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> Actor:
    """The operator behind the bearer token or the codec cookie (401/403 otherwise)."""
    token = creds.credentials if creds is not None and creds.credentials else cookie
    if not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    actor = await run_in_threadpool(officer_for_token, request.app.state.engine, token)
    if actor is None:
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    if actor.role not in OPERATOR_ROLES:
        raise HTTPException(403, f"role {actor.role.value} may not decode payloads")
    return actor


Operator = Annotated[Actor, Depends(operator)]


def _payloads(body: CodecBody) -> Payloads:
    try:
        return json_format.ParseDict({"payloads": body.payloads}, Payloads())
    except json_format.ParseError as exc:
        raise HTTPException(422, f"payloads: {exc}") from exc


def _answer(payloads: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    out.setdefault("payloads", [])
    return out


def _workflow_of(request: Request) -> str | None:
    named = request.headers.get("x-workflow-id")
    if named:
        return named[:200]
    page = _WORKFLOW_IN_PAGE.search(request.headers.get("referer", ""))
    return page.group(1)[:200] if page else None


async def _decode(request: Request, body: CodecBody, actor: Actor, namespace: str) -> Any:
    codec = _codec(request)
    payloads = _payloads(body)
    try:
        decoded = await codec.decode(list(payloads.payloads))
    except CodecKeyError as exc:
        raise HTTPException(422, f"payloads: {exc}") from exc
    # Which workflow: named by the caller (a header, the Web UI's page), else by the payloads.
    named = workflow_ids_of(payloads.payloads)
    workflow_id = _workflow_of(request) or (",".join(named)[:200] if named else None)
    log.info(
        "codec decode",
        officer_id=actor.officer_id,
        role=actor.role.value,
        namespace=namespace,
        workflow_id=workflow_id,
        payloads=len(decoded),
    )
    await record_read(  # the access log (PIPL Art. 55): who decoded which workflow, why
        request.scope,
        actor,
        kind="codec_decode",
        case_id=None,
        area_code=actor.area_code,
        workflow_id=workflow_id,
    )
    return _answer(decoded)


async def _encode(request: Request, body: CodecBody, actor: Actor, namespace: str) -> Any:
    encoded = await _codec(request).encode(list(_payloads(body).payloads))
    log.info(
        "codec encode",
        officer_id=actor.officer_id,
        namespace=namespace,
        payloads=len(encoded),
    )
    return _answer(encoded)


@router.post("/decode")
async def decode(request: Request, body: CodecBody, actor: Operator) -> Any:
    """Decrypt payloads for an operator (logged)."""
    return await _decode(request, body, actor, request.headers.get("x-namespace", ""))


@router.post("/encode")
async def encode(request: Request, body: CodecBody, actor: Operator) -> Any:
    """Encrypt payloads with the current key (e.g. a signal typed into the UI)."""
    return await _encode(request, body, actor, request.headers.get("x-namespace", ""))


@router.post("/{namespace}/decode", include_in_schema=False)
async def decode_in(namespace: str, request: Request, body: CodecBody, actor: Operator) -> Any:
    return await _decode(request, body, actor, namespace)


@router.post("/{namespace}/encode", include_in_schema=False)
async def encode_in(namespace: str, request: Request, body: CodecBody, actor: Operator) -> Any:
    return await _encode(request, body, actor, namespace)


@router.post(
    "/session",
    status_code=204,
    responses={401: {"description": "Invalid token"}, 403: {"description": "Not an operator"}},
)
async def login(request: Request, body: CodecLogin, response: Response) -> None:
    """Keep an operator's token in an HttpOnly cookie for the Web UI's codec calls."""
    actor = await run_in_threadpool(officer_for_token, request.app.state.engine, body.token)
    if actor is None:
        raise HTTPException(401, "invalid token")
    if actor.role not in OPERATOR_ROLES:
        raise HTTPException(403, f"role {actor.role.value} may not decode payloads")
    response.set_cookie(
        COOKIE,
        body.token,
        max_age=COOKIE_MAX_AGE_S,
        path="/codec",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    log.info("codec login", officer_id=actor.officer_id, role=actor.role.value)


@router.delete("/session", status_code=204, include_in_schema=False)
async def logout(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/codec")


_LOGIN_PAGE = """<!doctype html>
<html lang="zh-CN"><meta charset="utf-8"><title>救助 · 解密登录</title>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>Temporal Web UI 解密登录</h1>
<p>输入管理员或县级民政部门经办人的令牌。登录后，在 Web UI 的 Codec Server 设置中勾选
“Include cross-origin credentials”，案件数据即经本接口解密显示；每次解密均记录操作人。</p>
<form id="f"><input id="t" type="password" size="40" autocomplete="off" required>
<button>登录</button></form><p id="m"></p>
<script>
document.getElementById("f").onsubmit = async (e) => {
  e.preventDefault();
  const r = await fetch("session", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token: document.getElementById("t").value})});
  const m = document.getElementById("m");
  m.textContent = r.ok ? "已登录（8小时内有效）" : "登录失败：" + r.status;
};
</script></body></html>"""


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page() -> str:
    return _LOGIN_PAGE
