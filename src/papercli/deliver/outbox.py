"""The outbox: digests that could not be sent yet, kept on disk, and sending them again."""

from __future__ import annotations

import email
import email.policy
import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from papercli.deliver.files import safe_name, write_atomic
from papercli.deliver.locks import outbox_lock
from papercli.deliver.mail import RETRY_HINT, SmtpSession, SmtpSettings, eml_bytes, envelope
from papercli.errors import DeliveryError


@dataclass(frozen=True)
class OutboxItem:
    """One unsent digest: the .eml as it would go over the wire, and its JSON sidecar."""

    eml: Path
    meta: Path
    digest: str
    recipients: list[str]
    paper_ids: list[str]
    created: str  # ISO time, UTC
    subject: str = ""
    message_id: str = ""


@dataclass
class RetryResult:
    sent: list[OutboxItem] = field(default_factory=list)
    failed: list[OutboxItem] = field(default_factory=list)
    errors: list[DeliveryError] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)  # one line each, for the user


class Outbox:
    """Digests that could not be sent yet, one `.eml` + `.json` pair each, in one directory.

    The sidecar is written last and removed first, so it marks a complete item: an .eml alone
    (a crash between the two writes) is never sent, and a sent item is never half there.
    """

    def __init__(self, dir: Path) -> None:
        self.dir = Path(dir)
        self.quarantined: list[str] = []  # what `items` moved aside, one line each

    @property
    def quarantine_dir(self) -> Path:
        return self.dir / "quarantine"

    def add(
        self, msg: EmailMessage, *, digest: str, paper_ids: Sequence[str], recipients: Sequence[str]
    ) -> Path:
        """Store `msg`; returns the .eml path."""
        now = datetime.now(timezone.utc)
        stem = f"{now:%Y%m%dT%H%M%S%f}-{safe_name(digest)}-{secrets.token_hex(3)}"
        eml = write_atomic(self.dir / f"{stem}.eml", eml_bytes(msg), mode=0o600)
        meta = {
            "digest": digest,
            "recipients": list(recipients),
            "paper_ids": list(paper_ids),
            "created": now.isoformat(timespec="microseconds"),
            "subject": str(msg.get("Subject", "")),
            "message_id": str(msg.get("Message-ID", "")),
        }
        write_atomic(
            eml.with_suffix(".json"),
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
            mode=0o600,
        )
        return eml

    def items(self) -> list[OutboxItem]:
        """The complete items, oldest first.

        An item that cannot be read, or whose files are symbolic links (papercli writes none,
        and would mail whatever they point to), is moved to `quarantine/` and said in
        `quarantined`, so one broken item never blocks the others.
        """
        if not self.dir.is_dir():
            return []
        found = []
        for meta in sorted(self.dir.glob("*.json")):
            eml = meta.with_suffix(".eml")
            if eml.is_symlink() or meta.is_symlink():
                self._quarantine(meta, "is a symbolic link, which papercli never sends")
            elif eml.is_file():
                try:
                    found.append(self._read(meta))
                except DeliveryError as exc:
                    self._quarantine(meta, exc.message.removeprefix(f"outbox item {meta} "))
        return sorted(found, key=lambda item: (item.created, item.eml.name))

    def _quarantine(self, meta: Path, reason: str) -> None:
        try:
            self.quarantine_dir.mkdir(exist_ok=True)
            for path in (meta.with_suffix(".eml"), meta):
                if path.is_symlink() or path.exists():
                    os.rename(path, self.quarantine_dir / path.name)
            where = f"moved it to {self.quarantine_dir}"
        except OSError as exc:
            where = f"could not move it aside ({exc.strerror}), skipped it"
        self.quarantined.append(
            f"outbox item {meta.with_suffix('.eml')} {reason}; {where}: fix or delete it by hand"
        )

    def remove(self, item: OutboxItem) -> None:
        item.meta.unlink(missing_ok=True)
        item.eml.unlink(missing_ok=True)

    def _read(self, meta: Path) -> OutboxItem:
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            return OutboxItem(
                eml=meta.with_suffix(".eml"),
                meta=meta,
                digest=str(data["digest"]),
                recipients=[str(r) for r in data["recipients"]],
                paper_ids=[str(p) for p in data["paper_ids"]],
                created=str(data["created"]),
                subject=str(data.get("subject", "")),
                message_id=str(data.get("message_id", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(
                f"outbox item {meta} is unreadable ({type(exc).__name__}: {exc})",
                hint="delete it and its .eml, or fix it by hand",
            ) from exc


def retry(
    outbox: Outbox,
    smtp: SmtpSettings,
    on_sent: Callable[[OutboxItem], None],
    *,
    digest: str | None = None,
) -> RetryResult:
    """Send every outbox item (of `digest` only, if given) over one connection, oldest first.

    Only one process sends the outbox at a time: LockedError if another holds it (two senders
    would each send every item). As soon as the server accepts an item (before the next item or
    QUIT), `on_sent(item)` runs (the caller records the delivery) and only then is the item
    removed, so a crash in between sends it twice rather than losing it. A failed item stays. An
    exception from `on_sent` propagates and leaves that item in the outbox.
    """
    with outbox_lock(outbox.dir):
        # Read under the lock: what the previous holder sent is gone by now.
        items = [item for item in outbox.items() if digest is None or item.digest == digest]
        result = _send_items(outbox, items, smtp, on_sent)
        result.quarantined = outbox.quarantined
        return result


def _send_items(
    outbox: Outbox, items: list[OutboxItem], smtp: SmtpSettings, on_sent: Callable[..., None]
) -> RetryResult:
    if not items:
        return RetryResult()
    try:
        session = SmtpSession.open(smtp, RETRY_HINT)
    except DeliveryError as exc:
        return RetryResult(failed=items, errors=[exc])
    result = RetryResult()
    try:
        for item in items:
            try:
                _send_item(session, item)
            except DeliveryError as exc:
                result.failed.append(item)
                result.errors.append(exc)
                continue
            on_sent(item)
            outbox.remove(item)
            result.sent.append(item)
    finally:
        session.close()
    return result


def _send_item(session: SmtpSession, item: OutboxItem) -> None:
    try:
        # O_NOFOLLOW: a link put there after `items` looked must not mail the file it points to.
        with os.fdopen(os.open(item.eml, os.O_RDONLY | os.O_NOFOLLOW), "rb") as file:
            data = file.read()
    except OSError as exc:
        raise DeliveryError(
            f"outbox item {item.eml} is unreadable ({exc.strerror})", hint=RETRY_HINT
        ) from exc
    sender, _ = envelope(email.message_from_bytes(data, policy=email.policy.SMTP))
    session.send(data, sender, item.recipients)
