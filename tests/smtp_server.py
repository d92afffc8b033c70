"""A real SMTP server on localhost (aiosmtpd) for the delivery and scheduled-digest tests."""

from __future__ import annotations

import asyncio
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
class Scripted(Collector):
    """A server told how to answer: `replies={"DATA": "451 4.7.1 try later"}` refuses the message
    body (after DATA, when smtplib no longer raises by itself), `rcpt={"b@x.org": "550 ..."}`
    refuses one recipient, `delays={"QUIT": 3}` waits before a reply, and the reply "drop" closes
    the connection instead of answering. Verbs: MAIL, RCPT, DATA, QUIT."""

    replies: dict = field(default_factory=dict)
    rcpt: dict = field(default_factory=dict)
    delays: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)  # the verbs in the order they arrived

    async def _answer(self, server, verb: str, default: str) -> str:
        self.seen.append(verb)
        delay = self.delays.get(verb)
        if delay:
            await asyncio.sleep(delay)
        reply = self.replies.get(verb, default)
        if reply == "drop":
            server.transport.close()
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = await self._answer(server, "MAIL", "250 OK")
        if reply.startswith("250"):
            envelope.mail_from = address
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt.get(address) or await self._answer(server, "RCPT", "250 OK")
        if reply.startswith("25"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        reply = await self._answer(server, "DATA", "250 Message accepted for delivery")
        if reply.startswith("250"):
            self.envelopes.append(envelope)
        return reply

    async def handle_QUIT(self, server, session, envelope):
        return await self._answer(server, "QUIT", "221 Bye")


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
