"""A real SMTP server on localhost (aiosmtpd) for the delivery and scheduled-digest tests."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from papercli.deliver import SmtpSettings


@dataclass
class Collector:
    """An aiosmtpd handler keeping every envelope it accepts."""

    envelopes: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class RejectingNobody(Collector):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class Server:
    handler: Collector
    port: int
    host: str = "127.0.0.1"

    def settings(self, **overrides) -> SmtpSettings:
        values = {
            "host": self.host,
            "port": self.port,
            "security": "none",
            "from_addr": "papercli <digest@example.org>",
            "timeout": 5.0,
        }
        return SmtpSettings(**{**values, **overrides})

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(env.original_content, policy=email.policy.default)
            for env in self.handler.envelopes
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(handler: Collector, **smtp_kwargs) -> Iterator[Server]:
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), server_hostname="localhost", **smtp_kwargs
    )
    controller.start()
    try:
        yield Server(handler, controller.port)
    finally:
        controller.stop()
