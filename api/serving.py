"""How the API is served: uvicorn, one process or several sharing one listening socket.

uvicorn 0.54 binds the socket it shares between worker processes (``--workers N``) with the
protocol number left at 0. Accepted connections inherit it, and asyncio turns on
``TCP_NODELAY`` only for sockets that say they are TCP — so with several workers Nagle's
algorithm stayed on: the body of an answer, written after its headers, waited for the client's
delayed ACK, about 40 ms on Linux, on every request of a kept-alive connection after the first
(measured: 44–48 ms per sequential request with httpx, 3 ms with the socket fixed; uvicorn
issue #3149). ``serve`` binds through ``NoDelayConfig``, whose socket says it is TCP.

Each serving process builds its app with ``create_served_app``: the app, then the process's
garbage collector tuned (``jiuzhu/gc_tuning.py``), so that full collections no longer walk the
whole start-up heap while requests wait."""

import socket

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from jiuzhu.gc_tuning import tune_gc

APP = "api.serving:create_served_app"


def create_served_app() -> FastAPI:
    """The app as a serving process runs it (uvicorn's factory, in every worker process):
    ``api.main.create_app()`` with the settings of the environment, then what it loaded frozen
    out of the collector's reach (``jiuzhu.gc_tuning.tune_gc``). Tests build ``create_app``
    themselves and keep the default collector."""
    from api.main import create_app  # the app's modules load in the serving process

    app = create_app()
    tune_gc()
    return app


class NoDelayConfig(uvicorn.Config):
    """uvicorn's settings, binding a listening socket whose accepted connections get
    ``TCP_NODELAY`` from asyncio (module docstring)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, sock.detach())
        return sock


def serve(host: str, port: int, workers: int) -> None:
    """Serve the API on ``host:port`` with ``workers`` processes (access log off) until
    SIGINT/SIGTERM. One process: uvicorn's own path (asyncio binds a TCP socket itself)."""
    if workers <= 1:
        uvicorn.run(APP, factory=True, host=host, port=port, access_log=False)
        return
    config = NoDelayConfig(
        APP, factory=True, host=host, port=port, workers=workers, access_log=False
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()
