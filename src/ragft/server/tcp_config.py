"""uvicorn's Config, with a listening socket that says it is TCP, for `ragft serve --processes N`.

uvicorn's multi-worker mode binds the socket itself with `socket.socket(family)` (proto 0); accepted connections
inherit proto 0, and asyncio turns TCP_NODELAY on only for proto IPPROTO_TCP, so every streamed answer waited
~40 ms on Nagle and the client's delayed ACK (uvicorn issue #3149, still open in 0.54: 44 ms p50 at one client,
against 4 ms). A module of its own: the config is pickled to each spawned worker, so the class must be importable,
and importing uvicorn stays out of `ragft`'s start-up."""
from __future__ import annotations

import socket

import uvicorn


class TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)
        return sock
