"""Named digests from the config file: `papercli run NAME` and ad-hoc `digest --email-to`.

A run fetches the digest's sources, builds a digest of the papers this digest has not delivered
to each recipient before, and emails it. Delivery state changes only after the SMTP server has
accepted the message; a message that could not be sent waits in the outbox, and the papers in it
are not offered again, so nothing is lost and nothing is sent twice. One lock per digest keeps
overlapping cron runs apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from papercli import console
from papercli.configcheck import (
    ONE_LINE,
    Rule,
    at_least,
    between,
    check_table,
    checks,
    one_of,
    some_of,
)
from papercli.deliver.journal import Accepted, Journal
from papercli.digest import SORTS, parse_since
from papercli.errors import (
    ConfigError,
    DeliveryError,
    LockedError,
    NoMatchError,
    StoreError,
    UsageError,
)
from papercli.models import ANNOUNCE_KINDS, RANKS

if TYPE_CHECKING:
    from email.message import EmailMessage

    from papercli.deliver import SmtpSettings
    from papercli.fetch import SourceResult
    from papercli.models import Digest, Paper
    from papercli.settings import Settings
    from papercli.store import Store

FORMATS = ("html", "text")
DEFAULT_SUBJECT = "{title} - {date}: {count} papers in {n_topics} topics"
JOURNAL = "deliveries.journal"  # in the data dir, next to the store and the outbox
ADHOC_DIGEST = "email-to"  # the outbox's name for `digest --email-to` messages


def _is_since(text: str) -> bool:
    """'7d', '12h', '2024-08-01' -> True; '-3d' -> False."""
    try:
        parse_since(text)
    except UsageError:
        return False
    return True


def _are_addresses(values: list[str]) -> bool:
    """['Ana <ana@example.org>'] -> True; [] or ['not an email'] -> False."""
    from papercli.deliver.mail import is_address

    return bool(values) and all(is_address(v) for v in values)


# The fields a subject may use, with values of the types subject_for gives them.
SUBJECT_EXAMPLE = {
    "title": "papercli: diffusion", "date": "2024-08-01", "count": 3, "n_topics": 2,
    "topics": "Diffusion models, Video generation",
}  # fmt: skip


def _is_subject(template: str) -> bool:
    """'{title}: {count:>3} papers' -> True; '{title.__class__}', '{title[0]}', '{}' -> False.

    Plain fields only, so a subject cannot reach into the objects behind them; formatting the
    example values finds a bad format spec now rather than at the run.
    """
    import re
    import string

    try:
        for _, name, spec, _ in string.Formatter().parse(template):
            if name is not None and (name not in SUBJECT_EXAMPLE or "{" in (spec or "")):
                return False
            # A width such as {title:x<500000000} would build the string before any check.
            if re.search(r"\d{4,}", spec or ""):
                return False
        return len(template.format(**SUBJECT_EXAMPLE)) <= SUBJECT_MAX
    except (ValueError, KeyError, IndexError):
        return False


SUBJECT_MAX = 900  # characters, so a subject stays within a mail header line (998)


SUBJECT = Rule(
    "a template of the fields {title}, {date}, {count}, {n_topics} and {topics}", _is_subject
)
SINCE = Rule("a duration or a date (e.g. 1d, 7d or 2024-08-01)", _is_since)
RECIPIENTS = Rule("a list of one or more email addresses", _are_addresses)


@dataclass
class DigestConfig:
    """One `[digest.NAME]` table of the config file."""

    name: str
    sources: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    # html: text + HTML parts; text: text only
    format: str = field(default="html", metadata=checks(one_of(FORMATS)))
    # Absent is fine for a digest read only as a feed; `run` asks for it.
    recipients: list[str] = field(default_factory=list, metadata=checks(RECIPIENTS))
    subject: str = field(default=DEFAULT_SUBJECT, metadata=checks(ONE_LINE, SUBJECT))
    send_empty: bool = False
    # How far back a run looks for papers it has not delivered yet.
    since: str = field(default="7d", metadata=checks(SINCE))
    n_topics: int | None = field(default=None, metadata=checks(at_least(1)))
    limit: int | None = field(default=None, metadata=checks(at_least(1)))
    sort: str = field(default="best", metadata=checks(one_of(SORTS)))
    title: str | None = field(default=None, metadata=checks(ONE_LINE))
    # Full cards; matching papers beyond get one line each (0: one line each for all).
    max_papers: int = field(default=50, metadata=checks(at_least(0)))
    updates: bool = True  # matching replacements listed under "Updated"
    # Announce types shown as cards [default: new, cross].
    announce: list[str] | None = field(default=None, metadata=checks(some_of(ANNOUNCE_KINDS)))
    # Or "personal": ordered by the reader's own model (papercli.personal).
    rank: str = field(default="default", metadata=checks(one_of(RANKS)))
    # With rank = "personal": the lowest score kept.
    min_score: float | None = field(default=None, metadata=checks(between(0, 1)))
    stable_topics: bool = False  # sections are the store's stable topics (ids last across days)

    @classmethod
    def from_settings(cls, settings: Settings, name: str) -> DigestConfig:
        tables = settings.section("digest")
        if name not in tables:
            known = ", ".join(sorted(tables)) or "none"
            raise ConfigError(
                f"no [digest.{name}] in {settings.config_path} (digests defined: {known})",
                hint="add one; `papercli config init` writes an example",
            )
        table: dict[str, Any] = tables[name]
        check_table(cls, table, path=settings.config_path, name=f"digest.{name}", skip=("name",))
        config = cls(name=name, **table)
        # What the command line refuses as a pair is refused here too, not silently ignored.
        where = f"{settings.config_path}: [digest.{name}]"
        problems = [
            ConfigError(f"{where} {key}: expected words to match, found an empty string")
            for key in ("topics", "exclude")
            if any(not text.strip() for text in getattr(config, key))
        ]
        if config.min_score is not None and config.rank != "personal":
            problems.append(
                ConfigError(
                    f'{where} min_score: applies only with rank = "personal"',
                    hint='add rank = "personal", or drop min_score',
                )
            )
        if config.rank == "personal" and config.sort != "best":
            problems.append(
                ConfigError(
                    f'{where} sort: does not apply with rank = "personal", which orders papers'
                    " by their score",
                    hint="drop one",
                )
            )
        if problems:
            raise ConfigError.all_of(problems)
        return config


@dataclass
class RunResult:
    """What a run did, for the one-line summary."""

    digest: str
    fetched: list[SourceResult] = field(default_factory=list)
    sent: list[tuple[list[str], int]] = field(default_factory=list)  # (recipients, papers)
    # What an earlier run left in the outbox and this one sent: (recipients, papers, since when)
    resent: list[tuple[list[str], int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # journaled deliveries, quarantined items
    quiet: bool = False


def now() -> datetime:
    return datetime.now(timezone.utc)


def subject_for(template: str, digest: Digest) -> str:
    """'{title} - {date}: {count} papers' -> 'Daily digest: diffusion - 2024-08-01: 3 papers'.

    The default subject counts in words: '... - 2024-08-01: 1 paper in 1 topic'.
    """
    if template == DEFAULT_SUBJECT:
        from papercli.render import plural

        papers = plural(len(digest.entries) + len(digest.more), "paper")
        topics = plural(len(digest.topics), "topic")
        return f"{digest.title} - {digest.date}: {papers} in {topics}"
    # The template passed the SUBJECT rule when the config was loaded.
    return template.format(
        title=digest.title, date=digest.date, count=len(digest.entries) + len(digest.more),
        n_topics=len(digest.topics), topics=", ".join(t.label for t in digest.topics),
    )  # fmt: skip


def compose(digest: Digest, *, subject: str, from_addr: str, to: Sequence[str], fmt: str = "html",
            template_dirs: Sequence[Any] = ()) -> EmailMessage:  # fmt: skip
    """The email of a digest: a text part, and an HTML part with inline styles.

    When the HTML would pass EMAIL_BUDGET (Gmail shows "[Message clipped]" after about 102 KB
    and hides the rest), the one-line lists (Updated first, then the papers beyond the cards)
    are cut to fit and the whole digest goes along as an HTML attachment, so nothing is hidden.
    """
    from papercli.deliver import build_message
    from papercli.render import render

    def both(shown: Digest) -> tuple[str, str | None]:
        text = render(shown, "text", template_dirs=template_dirs)
        html = render(shown, "email-html", template_dirs=template_dirs) if fmt == "html" else None
        return text, html

    text, html = both(digest)
    size = len((html or text).encode())
    full = None
    if size > EMAIL_BUDGET:
        full = render(digest, "html", template_dirs=template_dirs)
        text, html = both(_fitted(digest, both))
    msg = build_message(subject=subject, from_addr=from_addr, to=to, text=text, html=html)
    if full is not None:
        msg.add_attachment(full.encode(), maintype="text", subtype="html",
                           filename=_attachment_name(digest))  # fmt: skip
    return msg


EMAIL_BUDGET = 100 * 1024  # bytes of the HTML part: under Gmail's clipping at about 102 KB


def _attachment_name(digest: Digest) -> str:
    from papercli.render import output_name

    return f"{digest.date}-{output_name(digest)}.html"


def _fitted(digest: Digest, both) -> Digest:
    """A copy of `digest` whose one-line lists are cut so its email fits EMAIL_BUDGET."""
    from dataclasses import replace

    lines = [*digest.more, *digest.updates]

    def cut(keep: int) -> Digest:
        more = digest.more[:keep]
        updates = digest.updates[: max(0, keep - len(digest.more))]
        return replace(digest, more=more, updates=updates, unlisted=len(lines) - keep,
                       unlisted_more=len(digest.more) - len(more),
                       attachment=_attachment_name(digest))  # fmt: skip

    def size(keep: int) -> int:
        text, html = both(cut(keep))
        return len((html or text).encode())

    low, high = 0, len(lines)  # the most lines that fit lies in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if size(middle) <= EMAIL_BUDGET:
            low = middle
        else:
            high = middle - 1
    return cut(low)


def email_digest(
    settings: Settings, digest: Digest, to: Sequence[str], *, dry_run: bool = False
) -> EmailMessage:
    """Email an ad-hoc digest (`digest --email-to`); with `dry_run`, only build the message.

    A message the server does not accept waits in the outbox (as digest `email-to`, with no
    delivery state to record) for `papercli send`.
    """
    from papercli.deliver import Outbox, envelope, send_message

    smtp = None if dry_run else smtp_settings(settings)
    msg = compose(
        digest,
        subject=subject_for(DEFAULT_SUBJECT, digest),
        from_addr=sender(settings, smtp),
        to=to,
        template_dirs=settings.template_dirs,
    )
    if smtp is not None:
        try:
            send_message(msg, smtp)
        except DeliveryError:
            # The error's hint says the message waits in the outbox: make it true.
            Outbox(settings.outbox_dir).add(
                msg, digest=ADHOC_DIGEST, paper_ids=[], recipients=envelope(msg)[1]
            )
            raise
    return msg


def smtp_settings(settings: Settings) -> SmtpSettings:
    from papercli.deliver import SmtpSettings

    table = settings.section("smtp")
    if not table:
        raise ConfigError(
            f"no [smtp] table in {settings.config_path}: papercli does not know how to send mail",
            hint="add host, port, security, user and from (see the README)",
        )
    smtp = SmtpSettings.from_config(table, origin=str(settings.config_path))
    if smtp.password_cmd and _writable_by_others(settings.config_path):
        # Whoever can edit the file could make papercli run any command as this user.
        raise ConfigError(
            f"{settings.config_path} sets [smtp] password_cmd but any user can write to it; "
            "papercli will not run a command from it",
            hint=f"chmod go-w {settings.config_path}",
        )
    return smtp


def sender(settings: Settings, smtp: SmtpSettings | None) -> str:
    """The From address: the [smtp] table's, also for a dry run (whose .eml is what would be
    sent); papercli@localhost only when there is no [smtp] table to send with."""
    if smtp is not None:
        return smtp.from_addr
    return smtp_settings(settings).from_addr if settings.section("smtp") else "papercli@localhost"


def _writable_by_others(path) -> bool:
    import stat

    try:
        return bool(path.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return False


def _candidates(store: Store, config: DigestConfig, specs, since: str) -> list[Paper]:
    """Papers from this digest's sources first seen since `since`, each id once."""
    found: dict[str, Paper] = {}
    for source in specs or [None]:
        for paper in store.papers(since=since, source=source.name if source else None):
            found.setdefault(paper.id, paper)
    return sorted(found.values(), key=lambda p: (p.first_seen or "", p.id))


def run_named_digest(
    settings: Settings, name: str, *, fetch: bool = True, dry_run: bool = False
) -> tuple[RunResult, list[EmailMessage]]:
    """Fetch, build and send digest `name` to each recipient what it has not had yet.

    Returns the run result and the messages built (for --dry-run, which sends nothing and
    marks nothing). Raises DeliveryError after keeping unsent messages in the outbox.
    """
    from papercli.deliver import Outbox, digest_lock
    from papercli.digest import build_digest
    from papercli.fetch import fetch_into_store, parse_spec
    from papercli.store import Store

    config = DigestConfig.from_settings(settings, name)
    if not config.recipients and not dry_run:
        raise ConfigError(
            f"{settings.config_path}: [digest.{name}] recipients: expected {RECIPIENTS.expected}, "
            "found none",
            hint='add recipients = ["me@example.org"]',
        )
    smtp = smtp_settings(settings) if not dry_run else None
    specs = [parse_spec(s) for s in config.sources]
    result = RunResult(name)
    messages: list[EmailMessage] = []
    outbox = Outbox(settings.outbox_dir)
    with (
        digest_lock(settings.home / "locks", name),
        Store(settings.db_path, timeout=settings.store_timeout) as store,
    ):
        deliveries = Deliveries(store, Journal(settings.home / JOURNAL))
        deliveries.replay()
        # What an earlier run could not send goes first; if it still cannot, the run says so.
        waiting = (
            _retry_outbox(outbox, smtp, deliveries, name, result) if smtp is not None else None
        )
        if fetch and specs:
            result.fetched = fetch_into_store(specs, settings, store)
        papers = _candidates(store, config, specs, parse_since(config.since))
        pending = _pending_in_outbox(outbox, name)
        for accepted in deliveries.journal.entries():  # recorded, just not in the store yet
            if accepted.digest == name:
                for recipient in accepted.recipients:
                    pending.setdefault(recipient, set()).update(accepted.paper_ids)
        groups = _group_recipients(store, name, config.recipients or ["(dry run)"], papers, pending)
        from papercli.personal.ranking import ranker_from_store

        ranker = ranker_from_store(store, config.rank, console.info)
        stable = None
        if config.stable_topics:
            from papercli.trends import digest_topics

            stable = digest_topics(store)
        failures = []
        for recipients, todo in groups:
            try:
                digest = build_digest(
                    todo, queries=config.topics, excludes=config.exclude,
                    n_topics=config.n_topics, limit=config.limit, sort=config.sort,
                    title=config.title or f"papercli: {name}", max_papers=config.max_papers,
                    updates=config.updates, announce=config.announce, explain_no_match=False,
                    ranker=ranker, min_score=config.min_score, stable=stable,
                )  # fmt: skip
                digest.rank = config.rank
            except NoMatchError:
                digest = None
            if (digest is None or not _shown(digest)) and not config.send_empty:
                result.quiet = True
                continue
            msg = _message(settings, config, digest, recipients, smtp)
            messages.append(msg)
            if dry_run:
                continue
            ids = [e.paper.id for e in _shown(digest)] if digest else []

            def record(recipients=recipients, ids=ids, msg=msg) -> None:
                deliveries.record(name, recipients, ids, msg["Message-ID"])

            try:
                _send(msg, smtp, on_accepted=record)
            except DeliveryError as exc:
                outbox.add(msg, digest=name, paper_ids=ids, recipients=recipients)
                failures.append(exc)
                continue
            result.sent.append((recipients, len(ids)))
        result.warnings = [*outbox.quarantined, *deliveries.warnings]
    if waiting is not None:
        raise waiting
    if failures:
        raise DeliveryError(
            f"{failures[0].message}; the digest was kept in the outbox",
            hint="run `papercli send --retry` once the server is reachable",
        )
    return result, messages


def _retry_outbox(
    outbox, smtp, deliveries: Deliveries, name: str, result: RunResult
) -> DeliveryError | None:
    """Send what waits in the outbox for digest `name` (noted in `result.resent`); the error to
    end the run with if some of it still cannot go, saying how long it has waited. While
    another papercli is sending the outbox, it is left to that one."""
    from papercli.deliver import retry

    try:
        done = retry(outbox, smtp, deliveries.on_sent, digest=name)
    except LockedError:
        return None
    result.resent += [(item.recipients, len(item.paper_ids), item.created) for item in done.sent]
    if not done.failed:
        return None
    oldest = min(item.created for item in done.failed)
    waited = now() - datetime.fromisoformat(oldest)
    return DeliveryError(
        f"{name}: {len(done.failed)} digest(s) waiting in the outbox for {_age(waited)} "
        f"(since {oldest[:16].replace('T', ' ')} UTC) still cannot be sent: "
        f"{done.errors[0].message}",
        hint="run `papercli send` once the server is reachable",
    )


def _age(delta) -> str:
    """timedelta(days=2, hours=3) -> '2 days 3 hours'; timedelta(minutes=5) -> '5 minutes'."""
    minutes = int(delta.total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (mins, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words) or "less than a minute"


def _shown(digest: Digest) -> list:
    """Every entry a message shows: cards, one-line extras and updates."""
    return [*digest.entries, *digest.more, *digest.updates]


def _pending_in_outbox(outbox, name: str) -> dict[str, set[str]]:
    """Paper ids already waiting in the outbox for each recipient of this digest."""
    pending: dict[str, set[str]] = {}
    for item in outbox.items():
        if item.digest == name:
            for recipient in item.recipients:
                pending.setdefault(recipient, set()).update(item.paper_ids)
    return pending


def _group_recipients(store, name, recipients, papers, pending):
    """Recipients who have had the same papers get one message; others get their own."""
    groups: dict[frozenset[str], list[str]] = {}
    for recipient in recipients:
        seen = store.delivered_ids(name, recipient) | pending.get(recipient, set())
        todo = frozenset(p.id for p in papers if p.id not in seen)
        groups.setdefault(todo, []).append(recipient)
    by_id = {p.id: p for p in papers}
    return [
        (members, [by_id[i] for i in sorted(todo, key=lambda i: (by_id[i].first_seen or "", i))])
        for todo, members in groups.items()
    ]


def _message(settings, config: DigestConfig, digest, recipients, smtp) -> EmailMessage:
    from papercli.deliver import build_message

    from_addr = sender(settings, smtp)
    if digest is None or not _shown(digest):
        day = now().date().isoformat()
        text = f"Nothing new matched {', '.join(config.topics) or 'your topics'} on {day}.\n"
        return build_message(subject=f"papercli: {config.name} - {day}: nothing new",
                             from_addr=from_addr, to=recipients, text=text, html=None)  # fmt: skip
    return compose(
        digest, subject=subject_for(config.subject, digest), from_addr=from_addr, to=recipients,
        fmt=config.format, template_dirs=settings.template_dirs,
    )  # fmt: skip


def _send(msg, smtp, *, on_accepted) -> None:
    from papercli.deliver import send_message

    send_message(msg, smtp, on_accepted=on_accepted)


def retry_outbox(settings: Settings):
    """Send what waits in the outbox; mark each paper delivered once its message is accepted."""
    from papercli.deliver import Outbox, retry
    from papercli.store import Store

    smtp = smtp_settings(settings)
    with Store(settings.db_path, timeout=settings.store_timeout) as store:
        deliveries = Deliveries(store, Journal(settings.home / JOURNAL))
        deliveries.replay()
        result = retry(Outbox(settings.outbox_dir), smtp, deliveries.on_sent)
        for warning in deliveries.warnings:
            console.warning(warning)
        return result


class Deliveries:
    """Records what the SMTP server accepted: in the store, or, while the store is busy, in the
    journal (replayed into the store by the next run or send). Either way the papers are never
    offered again, and the message is never kept for another send."""

    def __init__(self, store: Store, journal: Journal) -> None:
        self.store = store
        self.journal = journal
        self.warnings: list[str] = []

    def record(self, digest: str, recipients, paper_ids, message_id: str) -> None:
        accepted = Accepted(digest, list(recipients), list(paper_ids), message_id,
                            now().isoformat(timespec="seconds"))  # fmt: skip
        try:
            self._write(accepted)
        except StoreError as exc:
            self.journal.append(accepted)
            self.warnings.append(
                f"{digest}: sent to {', '.join(recipients)}, but the store could not record it "
                f"({exc.message}); the delivery is kept in {self.journal.path} and goes into the "
                "store on the next run or send"
            )

    def on_sent(self, item) -> None:
        self.record(item.digest, item.recipients, item.paper_ids, item.message_id)

    def replay(self) -> None:
        """Move journaled deliveries into the store; while it is still busy they stay."""
        try:
            with self.journal.taking() as waiting:
                for accepted in waiting:
                    self._write(accepted)
        except StoreError:
            pass  # still journaled, and still counted as delivered by the run

    def _write(self, accepted: Accepted) -> None:
        done = {
            d.recipient
            for d in self.store.deliveries(accepted.digest)
            if d.message_id == accepted.message_id
        }
        recipients = [r for r in accepted.recipients if r not in done]
        if recipients:
            self.store.mark_delivered(
                accepted.digest, recipients, accepted.paper_ids,
                message_id=accepted.message_id, delivered_at=accepted.delivered_at,
            )  # fmt: skip


def report(result: RunResult) -> None:
    for warning in result.warnings:
        console.warning(warning)
    for recipients, count, created in result.resent:
        console.info(
            f"{result.digest}: sent {count} papers to {', '.join(recipients)}"
            f" (waiting in the outbox since {created[:16].replace('T', ' ')} UTC)"
        )
    if result.sent:
        for recipients, count in result.sent:
            console.info(f"{result.digest}: sent {count} papers to {', '.join(recipients)}")
    elif result.quiet and not result.resent:
        console.info(f"{result.digest}: nothing new to send")
