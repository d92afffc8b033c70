"""Delivery faults through the CLI against a real SMTP server on localhost that refuses, delays or
drops chosen replies. Promise: a message counts as sent only when the server answered 250 to its
body with every recipient accepted; anything else leaves it in the outbox, marks nothing and
exits 8 (DELIVERY)."""

from __future__ import annotations

import pytest

from papercli.deliver import Outbox
from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.smtp_server import Collector, Scripted, running
from tests.test_run import RECIPIENTS, SEED, delivered, write_config

REFUSALS = [
    "451 4.7.1 Greylisted, please try again later",
    "552 5.3.4 Message size exceeds fixed limit",
    "554 5.7.1 Message rejected as spam",
]


def outbox_items(home):
    return Outbox(home / "outbox").items()


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: r[:3])
def test_run_refused_after_data_keeps_the_digest_and_exits_8(papercli_home, refusal):
    with running(Scripted(replies={"DATA": refusal})) as server:
        write_config(papercli_home, server.port)
        result = run_cli("run", "diff")
        assert result.code == ExitCode.DELIVERY, result.err
        assert f"the server rejected the message ({refusal})" in result.err
        assert "kept in the outbox" in result.err
        assert "sent" not in result.err.replace("send --retry", "")
        assert server.handler.seen.count("DATA") == 1 and server.messages == []
    assert delivered(papercli_home) == set()
    (item,) = outbox_items(papercli_home)
    assert item.recipients == RECIPIENTS and item.paper_ids

    with running(Collector()) as good:
        write_config(papercli_home, good.port)
        retried = run_cli("send")
        assert retried.code == 0, retried.err
        assert len(good.messages) == 1
    assert delivered(papercli_home) == set(item.paper_ids)
    assert outbox_items(papercli_home) == []


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: r[:3])
def test_send_retry_refused_after_data_keeps_the_item(papercli_home, refusal):
    with running(Scripted(replies={"DATA": "drop"})) as server:
        write_config(papercli_home, server.port)
        assert run_cli("run", "diff").code == ExitCode.DELIVERY
    (waiting,) = outbox_items(papercli_home)
    with running(Scripted(replies={"DATA": refusal})) as server:
        write_config(papercli_home, server.port)
        for _ in range(2):
            result = run_cli("send", "--retry")
            assert result.code == ExitCode.DELIVERY, result.err
            assert "outbox: sent 0, still waiting 1" in result.err
            assert refusal in result.err
        assert server.handler.seen.count("DATA") == 2
    assert outbox_items(papercli_home) == [waiting]
    assert delivered(papercli_home) == set()


def test_one_refused_recipient_sends_to_nobody_and_keeps_the_digest(papercli_home):
    refusal = "550 5.1.1 <ben@example.org>: mailbox unavailable"
    with running(Scripted(rcpt={RECIPIENTS[1]: refusal})) as server:
        write_config(papercli_home, server.port)
        result = run_cli("run", "diff")
        assert result.code == ExitCode.DELIVERY, result.err
        assert f"refused recipient {RECIPIENTS[1]} ({refusal})" in result.err
        assert "DATA" not in server.handler.seen and server.messages == []
    assert delivered(papercli_home) == set()
    (item,) = outbox_items(papercli_home)
    assert item.recipients == RECIPIENTS


def test_a_connection_dropped_instead_of_the_reply_to_the_body_keeps_the_digest(papercli_home):
    with running(Scripted(replies={"DATA": "drop"})) as server:
        write_config(papercli_home, server.port)
        result = run_cli("run", "diff")
        assert result.code == ExitCode.DELIVERY, result.err
        assert "the server closed the connection" in result.err
    assert delivered(papercli_home) == set()
    assert len(outbox_items(papercli_home)) == 1


def test_a_failing_quit_after_acceptance_is_still_sent(papercli_home):
    with running(Scripted(replies={"QUIT": "drop"})) as server:
        write_config(papercli_home, server.port)
        result = run_cli("run", "diff")
        assert result.code == 0, result.err
        assert len(server.messages) == 1
    assert delivered(papercli_home)
    assert outbox_items(papercli_home) == []


def test_digest_email_to_refused_after_data_is_kept_in_the_outbox(papercli_home):
    args = ("digest", str(SEED), "--topic", "diffusion", "--email-to", "c@example.org")
    with running(Scripted(replies={"DATA": REFUSALS[0]})) as server:
        write_config(papercli_home, server.port)
        result = run_cli(*args)
        assert result.code == ExitCode.DELIVERY, result.err
        assert REFUSALS[0] in result.err and "kept in the outbox" in result.err
    (item,) = outbox_items(papercli_home)
    assert item.recipients == ["c@example.org"]
    with running(Collector()) as good:
        write_config(papercli_home, good.port)
        assert run_cli("send").code == 0
        (msg,) = good.messages
        assert msg["To"] == "c@example.org"
    assert outbox_items(papercli_home) == []


def test_one_broken_outbox_item_is_set_aside_and_the_rest_is_sent(papercli_home):
    with running(Scripted(replies={"DATA": REFUSALS[0]})) as server:
        write_config(papercli_home, server.port)
        for args in (("run", "diff"), ("digest", str(SEED), "--email-to", "c@example.org")):
            assert run_cli(*args).code == ExitCode.DELIVERY
    broken, good = outbox_items(papercli_home)
    broken.meta.write_text("{not json")
    with running(Collector()) as server:
        write_config(papercli_home, server.port)
        result = run_cli("send")
        assert result.code == ExitCode.DELIVERY, result.err
        assert "outbox: sent 1, still waiting 0" in result.err
        assert f"Error: outbox item {broken.eml} is unreadable (JSONDecodeError" in result.err
        (msg,) = server.messages
        assert msg["Message-ID"] == good.message_id
        assert run_cli("send").code == 0  # said once; the item waits in quarantine/
    assert outbox_items(papercli_home) == []
    assert (papercli_home / "outbox" / "quarantine" / broken.eml.name).exists()
