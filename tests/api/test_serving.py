"""The API's listening socket (``api/serving.py``): with several worker processes uvicorn binds
the shared socket itself, and its connections must still get ``TCP_NODELAY`` — without it each
answer on a kept-alive connection waited for the client's delayed ACK (about 40 ms)."""

import asyncio
import socket

from api.serving import APP, NoDelayConfig


async def test_connections_accepted_on_the_shared_socket_get_tcp_nodelay() -> None:
    sock = NoDelayConfig(APP, factory=True, host="127.0.0.1", port=0, workers=2).bind_socket()
    assert sock.proto == socket.IPPROTO_TCP
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            peer = transport.get_extra_info("socket")
            accepted.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Probe, sock=sock)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        assert await asyncio.wait_for(accepted, 10) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
