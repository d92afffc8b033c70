"""Delivering a rendered digest: atomic files, email over SMTP, the outbox, per-digest locks.

This package takes text that is already rendered and gets it somewhere safely; it never renders
and never touches the store (the caller marks delivery state, e.g. from `retry`'s `on_sent`).
One job per module: `files` (atomic writes, output paths), `mail` (SMTP settings, building and
sending a message), `outbox` (unsent digests and sending them again), `locks` (one run at a time).
"""

from papercli.deliver.files import output_path, safe_name, write_atomic
from papercli.deliver.locks import digest_lock
from papercli.deliver.mail import (
    OUTBOX_HINT,
    PASSWORD_ENV,
    RETRY_HINT,
    SmtpSettings,
    build_message,
    eml_bytes,
    envelope,
    send_message,
)
from papercli.deliver.outbox import Outbox, OutboxItem, RetryResult, retry

__all__ = [
    "OUTBOX_HINT",
    "PASSWORD_ENV",
    "RETRY_HINT",
    "Outbox",
    "OutboxItem",
    "RetryResult",
    "SmtpSettings",
    "build_message",
    "digest_lock",
    "eml_bytes",
    "envelope",
    "output_path",
    "retry",
    "safe_name",
    "send_message",
    "write_atomic",
]
