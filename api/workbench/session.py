"""Who is signed in to the workbench, and the CSRF token of their forms.

The session is the officer's own bearer token in an HttpOnly cookie (``SameSite=Strict``, path
``/workbench``; ``Secure`` when the request came over HTTPS): the API's token rules apply as they
are (expiry, deactivation, rotation: ``jiuzhu/officers.py``). The CSRF token of a form is a keyed
hash of that token, which a page from another site can neither read nor compute (OWASP: signed
double-submit)."""

import hashlib
import hmac

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import _officer_cache
from jiuzhu.contract import Actor
from jiuzhu.officers import officer_for_token

COOKIE = "jiuzhu_workbench"
PATH = "/workbench"


def csrf_token(officer_token: str) -> str:
    return hmac.new(
        hashlib.sha256(officer_token.encode()).digest(), b"workbench-csrf", hashlib.sha256
    ).hexdigest()


def csrf_ok(officer_token: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(officer_token), sent or "")


async def officer_for(request: Request, token: str | None) -> Actor | None:
    """The active officer holding ``token`` (the API's officer cache, else the database)."""
    if not token:
        return None
    cache = _officer_cache(request)
    actor = cache.get(token)
    if actor is None:
        actor = await run_in_threadpool(officer_for_token, cache.engine, token)
        if actor is not None:
            cache.put(token, actor)
    if actor is not None:
        request.state.actor = actor
    return actor


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def open_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PATH,
        max_age=8 * 3600,  # a working day
    )


def close_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH)
