"""A guard for the whole test suite: the test process may connect to loopback addresses only.

Tests never touch the internet; a test that would (a base URL left at arxiv.org, a redirect
followed off-host) fails loudly instead of quietly depending on the network. Connections and
name lookups of anything but loopback raise `NonLoopbackConnection` (not an OSError, so no retry
or error handler mistakes it for a network failure) and are recorded, and the suite's autouse
fixture fails the test that made them, even if the code under test swallowed the exception.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

attempts: list[str] = []

_real = {
    "connect": socket.socket.connect,
    "connect_ex": socket.socket.connect_ex,
    "getaddrinfo": socket.getaddrinfo,
}


class NonLoopbackConnection(RuntimeError):
    pass


def is_loopback(host: Any) -> bool:
    """'localhost', '127.0.0.1', '::1', '127.5.5.5' -> True; 'arxiv.org', '192.0.2.1' -> False."""
    if not isinstance(host, str) or host in ("", "localhost") or host.endswith(".localhost"):
        return isinstance(host, str)
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> NonLoopbackConnection:
    attempts.append(what)
    return NonLoopbackConnection(f"tests may only connect to loopback addresses, not {what}")


def _connect(self: socket.socket, address: Any) -> Any:
    if isinstance(address, tuple) and not is_loopback(address[0]):
        raise _refuse(f"{address[0]}:{address[1]}")
    return _real["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> Any:
    if isinstance(address, tuple) and not is_loopback(address[0]):
        raise _refuse(f"{address[0]}:{address[1]}")
    return _real["connect_ex"](self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not is_loopback(host if isinstance(host, str) else host.decode()):
        raise _refuse(f"a lookup of {host!r}")
    return _real["getaddrinfo"](host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]


def uninstall() -> None:
    socket.socket.connect = _real["connect"]  # type: ignore[method-assign]
    socket.socket.connect_ex = _real["connect_ex"]  # type: ignore[method-assign]
    socket.getaddrinfo = _real["getaddrinfo"]
