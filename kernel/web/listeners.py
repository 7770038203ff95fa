"""One listening socket per server process, so that the kernel shares connections out.

``fixdesk serve --workers N`` runs N uvicorn processes. uvicorn binds one socket in its
parent process and hands it to every worker: they all accept from one queue, and Linux
wakes the most recently idle one first, so most connections (every one of a burst of
keep-alive clients, often) land on the same worker while the others idle. On this kind
of machine two workers answered no more list requests a second than one.

With ``SO_REUSEPORT`` each worker listens on a socket of its own bound to the same
address, and the kernel spreads new connections over them by a hash of their addresses.
The socket the parent binds is a :class:`BalancedListener`: it never listens itself, and
what is sent to each worker (uvicorn pickles the parent's sockets into each worker it
starts, restarted ones too) is the address, from which the worker binds its own.
"""

from __future__ import annotations

import socket
import sys

#: whether this system spreads connections over sockets sharing a port (Linux does)
AVAILABLE = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class BalancedListener(socket.socket):
    """The parent's socket: bound, never listening (so the kernel sends it nothing),
    pickled as its address, so that each worker binds a socket of its own there."""

    def __reduce__(self):
        return (worker_socket, (self.family, self.getsockname()))


def _bound(cls, family: int, address) -> socket.socket:
    sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def worker_socket(family: int, address) -> socket.socket:
    """A worker's own socket on ``address`` (uvicorn's worker listens on it)."""
    return _bound(socket.socket, family, address)


def balanced_listener(host: str, port: int) -> BalancedListener:
    """The parent's socket on ``host``:``port``; :class:`OSError` when the address is in
    use. It is first bound without ``SO_REUSEPORT``, which fails when any socket listens
    there: a second ``serve`` on the port of a running one (its sockets would share the
    port with ours) is refused as before."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        address = probe.getsockname()  # port 0: the port the system chose
    return _bound(BalancedListener, family, address)


def worker_sockets(config) -> list[socket.socket]:
    """What to hand uvicorn's worker processes for ``config`` (a ``uvicorn.Config`` with
    ``workers`` > 1): a :class:`BalancedListener` where the system spreads connections,
    else the one socket uvicorn shares. :class:`OSError` when the address is in use."""
    if not AVAILABLE:
        return [config.bind_socket()]
    return [balanced_listener(config.host, config.port)]
