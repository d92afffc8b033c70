"""What the commands show on the terminal: progress, summary tables, topic and paper tables.

Data goes to the stdout console, progress and summaries to the stderr console of the
invocation's `console.Environment`, which every function here is handed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

    from papercli.console import Environment
    from papercli.fetch import SourceResult, SourceSpec
    from papercli.history.search import Hit
    from papercli.models import Page, Paper
    from papercli.settings import Settings
    from papercli.store import Store
    from papercli.topics import TopicModel
    from papercli.topics.stable import TopicView
    from papercli.trends import Trends

# C0 and C1 controls: ESC would let a page's title clear the screen or plant an OSC 8 link.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def cell(value: object) -> Text:
    """A table cell shown as it is: never read as rich markup (a title with `[/b]` would crash
    the table, `[link=...]` would make a link), and without terminal control characters.

    `cell("A [b]bold\\x1b[2J claim")` -> Text('A [b]bold [2J claim').
    """
    from rich.text import Text

    return Text(_CONTROL.sub(" ", str(value)))


@contextmanager
def fetch_progress(
    env: Environment, n_sources: int
) -> Iterator[Callable[[SourceSpec, Page], None]]:
    """A transient progress bar on stderr across sources; silent when quiet or not a terminal."""
    if env.quiet or not env.err.is_terminal:
        yield lambda source, page: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
        console=env.err, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("fetching", total=n_sources)
        seen: set[str] = set()

        def on_page(source: SourceSpec, page: Page) -> None:
            if source.name not in seen:
                seen.add(source.name)
                progress.advance(task)
            progress.update(task, description=f"{source.name}: {len(page.papers)} papers")

        yield on_page


# Where each stage of `build_topics` starts on the one bar (reading the text is the long part).
_TOPIC_STAGES = {
    "reading": (0.0, 0.40), "counting": (0.40, 0.55), "reducing": (0.55, 0.70),
    "clustering": (0.70, 0.85), "labelling": (0.85, 1.0), "done": (1.0, 1.0),
}  # fmt: skip


class WorkProgress:
    """The bar of `digest` and `topics`: papers loaded, then the stages of building topics."""

    def __init__(self, progress=None) -> None:
        self._progress = progress
        self._task = progress.add_task("loading papers", total=None) if progress else None
        self._papers = 0

    def loaded(self, source: SourceSpec, page: Page) -> None:
        """A page of a source was read."""
        self._papers += len(page.papers)
        if self._progress is not None:
            self._progress.update(
                self._task, description=f"loading {source.name}: {self._papers:,} papers"
            )

    def topics(self, stage: str, done: float) -> None:
        """`build_topics` progress: (stage, share of that stage done)."""
        if self._progress is None:
            return
        start, end = _TOPIC_STAGES.get(stage, (0.0, 1.0))
        self._progress.update(
            self._task,
            description=f"topics: {stage}",
            total=1.0,
            completed=start + (end - start) * min(max(done, 0.0), 1.0),
        )


@contextmanager
def work_progress(env: Environment) -> Iterator[WorkProgress]:
    """A transient bar on stderr for loading and clustering; silent when quiet or not a terminal."""
    if env.quiet or not env.err.is_terminal:
        yield WorkProgress()
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), TaskProgressColumn(),
        TimeElapsedColumn(), console=env.err, transient=True,
    ) as progress:  # fmt: skip
        yield WorkProgress(progress)


def _nothing(source: str) -> str:
    """What an empty answer means: a search found nothing; a listing announced nothing."""
    return "no results" if source.startswith("api:") else "nothing announced"


def print_fetch_summary(env: Environment, results: Sequence[SourceResult]) -> None:
    """One row per source on stderr; a run where nothing is new prints one line instead.

    With -q nothing: the summary is a diagnostic, not data (`--json` is the data). When every
    source failed there is nothing to tabulate: the error line says it all.
    """
    from rich.table import Table

    if env.quiet or not any(r.ok for r in results):
        return
    if all(r.ok and r.fetched == 0 for r in results):
        searches = all(r.source.startswith("api:") for r in results)
        env.info("no results" if searches else "no new papers announced")
        return
    table = Table(title=None, box=None, pad_edge=False)
    _source_column(table, [short_name(r.source) for r in results])
    for name in ("fetched", "new", "updated", "unchanged"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("status")
    for r in results:
        if r.error:
            state = "failed"  # the error line follows the table
        elif r.fetched == 0:
            state = _nothing(r.source)
        else:
            state = "ok (cached)" if r.from_cache else "ok"
        row = (short_name(r.source), r.fetched, r.new, r.updated, r.unchanged, state)
        table.add_row(*map(cell, row))
    env.err.print(table)


def _source_column(table, sources: Sequence[str]) -> None:
    """The source column: names up to 40 characters are never cut ('arxiv:astro-ph.GA' and
    '.SR' must differ even in a cron log's 80 columns; the other columns wrap instead); a
    longer one (a URL) folds onto the next line rather than squeezing the table."""
    width = max([len("source"), *map(len, sources)])
    table.add_column("source", min_width=min(width, SOURCE_WIDTH), overflow="fold")


SOURCE_WIDTH = 40


def short_name(name: str) -> str:
    """A source name as the tables show it: a saved file by its file name, the rest whole.

    `short_name("/home/me/pages/cs.LG_new.html")` -> 'cs.LG_new.html'; `short_name("hf")` -> 'hf'.
    """
    from pathlib import PurePath

    return PurePath(name).name if name.startswith("/") else name


def print_topics(
    env: Environment, papers: Sequence[Paper], model: TopicModel, top: int = 3
) -> None:
    from rich.table import Table
    from rich.text import Text

    from papercli.spool import heads

    table = Table(box=None, pad_edge=False, show_lines=False)
    for name in ("#", "label", "size", "top terms", "top papers"):
        table.add_column(name, overflow="fold")
    shown: dict[int, list[str]] = {topic.id: [] for topic in model.topics}
    for (_, title), topic_id in zip(heads(papers), model.assignments, strict=True):
        if len(shown[topic_id]) < top:
            shown[topic_id].append(title)
    for topic in model.topics:
        titles = Text("\n").join(cell(title) for title in shown[topic.id])
        table.add_row(
            cell(topic.id), cell(topic.label), cell(topic.size), cell(", ".join(topic.terms[:6])),
            titles,
        )  # fmt: skip
    env.out.print(table)


def topics_json_lines(papers: Sequence[Paper], model: TopicModel) -> Iterator[str]:
    from papercli.spool import heads

    labels = {t.id: t.label for t in model.topics}
    for (paper_id, title), topic_id in zip(heads(papers), model.assignments, strict=True):
        record = {"id": paper_id, "title": title, "topic": topic_id,
                  "label": labels[topic_id]}  # fmt: skip
        yield json.dumps(record, ensure_ascii=False)


def print_stable_topics(
    env: Environment, views: Sequence[TopicView], waiting: int, top: int = 3
) -> None:
    """The stable topics of a period: id, label, papers in the period and in all, born, state."""
    from rich.table import Table
    from rich.text import Text

    from papercli.topics.stable import MIN_BIRTH

    table = Table(box=None, pad_edge=False, show_lines=False)
    for name in ("#", "label", "papers", "all", "born", "state", "top terms", "top papers"):
        table.add_column(name, overflow="fold")
    for v in views:
        t = v.topic
        state = f"retired {t.retired}" if t.retired else "live"
        titles = Text("\n").join(cell(p.title) for p in v.papers[:top])
        row = (t.id, t.label, len(v.papers), t.size, t.born, state, ", ".join(t.terms[:6]))
        table.add_row(*map(cell, row), titles)
    env.out.print(table)
    if waiting:
        env.info(f"{waiting} papers fit no topic yet (a topic is born from {MIN_BIRTH} close ones)")


def stable_topics_json_lines(views: Sequence[TopicView], waiting: Sequence[Paper]) -> Iterator[str]:
    """One line per paper of the period: its stable topic id and label (null while waiting)."""
    rows: list[tuple[Paper, int | None, str | None]]
    rows = [(p, v.topic.id, v.topic.label) for v in views for p in v.papers]
    rows += [(p, None, None) for p in waiting]
    for paper, topic_id, label in sorted(rows, key=lambda r: (r[0].first_seen or "", r[0].id)):
        record = {"id": paper.id, "title": paper.title, "topic": topic_id, "label": label,
                  "day": (paper.first_seen or "")[:10]}  # fmt: skip
        yield json.dumps(record, ensure_ascii=False)


def print_trends(env: Environment, trends: Trends) -> None:
    """A row per topic: its papers per period as a sparkline, the latest period against the
    periods before, the p-value of that change and the verdict; rising and falling first."""
    from rich.table import Table

    from papercli.trends import sparkline

    if not trends.topics:
        env.info("no topic has papers in these periods: fetch some first, or widen --since")
        return
    first, last = trends.periods[0], trends.periods[-1]
    table = Table(box=None, pad_edge=False, title=None)
    for name, justify in (
        ("#", "right"), ("label", "left"), (f"{first} .. {last}", "left"), ("now", "right"),
        (f"per {trends.by} before", "right"), ("change", "right"), ("p", "right"),
        ("trend", "left"),
    ):  # fmt: skip
        table.add_column(
            name, justify=justify, overflow="fold", no_wrap=name.startswith(first),  # type: ignore[arg-type]
            max_width=40 if name == "label" else None,
        )  # fmt: skip
    for t in trends.topics:
        change = "new" if t.change is None and t.current else _percent(t.change)
        trend = t.trend + (f" (retired {t.retired})" if t.retired else "")
        spark = sparkline(t.counts, trends.totals)
        row = (t.id, t.label, spark, t.current, f"{t.baseline:.1f}", change, f"{t.p_value:.3g}",
               trend)  # fmt: skip
        table.add_row(*map(cell, row))
    env.out.print(table)
    env.info(
        f"{len(trends.periods)} {trends.by}s, {sum(trends.totals)} papers; change = the topic's"
        " share of the latest period against before; rising/falling when p < 0.05 (exact test)"
    )


def _percent(change: float | None) -> str:
    return "-" if change is None else f"{change:+.0%}"


def print_papers(env: Environment, papers: Sequence[Paper]) -> None:
    from rich.table import Table

    if not papers:
        env.info("no papers in the store match")
        return
    table = Table(box=None, pad_edge=False)
    # Upvotes and comments are Hugging Face's: shown when any paper listed has them.
    hf = any(p.upvotes is not None or p.num_comments is not None for p in papers)
    # A sources column that says the same on every row only takes the title's room.
    mixed = len({tuple(p.sources) for p in papers}) > 1
    columns = (
        "id", "title", *(("upvotes", "comments") if hf else ()), "first seen",
        *(("sources",) if mixed else ()),
    )  # fmt: skip
    for name in columns:
        # The title takes the room left; ids, counts and dates stay whole at 80 columns, and
        # long source names are cut short (`status` shows them whole).
        table.add_column(
            name,
            overflow="ellipsis" if name == "sources" else "fold",
            no_wrap=name != "title",
            justify="right" if name in ("upvotes", "comments") else "left",
            ratio=1 if name == "title" else None,
            min_width=20 if name == "title" else None,
            max_width=12 if name == "sources" else None,
        )
    from papercli.render import tex_to_text

    for p in papers:
        title = tex_to_text(p.title)  # as digests show it: '\\textsc{X}' reads 'X'
        counts = (_count(p.upvotes), _count(p.num_comments)) if hf else ()
        sources = ", ".join(short_name(s) for s in p.sources)
        row = (p.id, title, *counts, (p.first_seen or "")[:10], *((sources,) if mixed else ()))
        table.add_row(*map(cell, row))
    env.out.print(table)


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


PAPER_SORTS = ("seen", "date", "upvotes")


def sort_papers(papers: Sequence[Paper], by: str) -> list[Paper]:
    """`seen`: the store's order (first seen, then id); `date`: newest published first;
    `upvotes`: most upvoted first, papers without upvotes last. Ties keep the store's order."""
    if by not in PAPER_SORTS:
        from papercli.errors import UsageError

        raise UsageError(f"--sort {by!r} is not one of {', '.join(PAPER_SORTS)}")
    if by == "date":
        return sorted(papers, key=lambda p: p.published or "", reverse=True)
    if by == "upvotes":
        return sorted(papers, key=lambda p: -1 if p.upvotes is None else p.upvotes, reverse=True)
    return list(papers)


def print_settings(
    env: Environment, rows: Sequence[tuple[str, str, str]], digests: Sequence[str]
) -> None:
    """`config check`: the settings in force and where each came from, then the digests."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for name in ("setting", "value", "from"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*map(cell, row))
    env.out.print(table)
    names = ", ".join(digests) if digests else "none"
    env.out.print(f"digests: {names}", markup=False)
    env.info("the config file is valid")


def print_hits(env: Environment, hits: Sequence[Hit]) -> None:
    """Search hits as a table, best first: rank, id, date, title, first author."""
    from rich.table import Table

    if not hits:
        env.info("no stored paper matches the search")
        return
    table = Table(box=None, pad_edge=False)
    for name in ("#", "id", "date", "title", "authors"):
        # As in `papers`: the title takes the room left, ids and dates stay whole.
        table.add_column(
            name,
            overflow="ellipsis" if name == "authors" else "fold",
            no_wrap=name != "title",
            ratio=1 if name == "title" else None,
            min_width=20 if name == "title" else None,
            max_width=18 if name == "authors" else None,
        )
    for hit in hits:
        p = hit.paper
        authors = (p.authors[0] + (" et al." if len(p.authors) > 1 else "")) if p.authors else ""
        day = (p.published or p.first_seen or "")[:10]
        table.add_row(*map(cell, (str(hit.rank), p.id, day, p.title, authors)))
    env.out.print(table)


STATUS_ROWS = 20  # the sources `status` shows without --all: the most recently fetched


def print_status(
    env: Environment, settings: Settings, store: Store, *, as_json: bool, show_all: bool = False
) -> None:
    """The store and the latest fetch of each source: a table of the STATUS_ROWS sources fetched
    most recently (all with `show_all`), by name; JSON always lists every source."""
    last = store.last_fetches()
    if as_json:
        data = {
            "db": str(settings.db_path),
            "papers": store.count(),
            "sources": [entry.to_dict() for entry in last],
        }
        env.out.print_json(json.dumps(data))
        return
    from rich.table import Table

    env.out.print(f"store: {settings.db_path} ({store.count()} papers)", markup=False)
    if not last:
        env.out.print("no fetch yet: run `papercli fetch`", markup=False)
        return
    shown = last
    if not show_all:
        recent = sorted(last, key=lambda e: (e.finished_at, e.source), reverse=True)
        shown = sorted(recent[:STATUS_ROWS], key=lambda e: e.source)
    table = Table(box=None, pad_edge=False)
    _source_column(table, [short_name(e.source) for e in shown])
    for name in ("last fetch", "http", "fetched", "new"):
        table.add_column(name, no_wrap=True)
    table.add_column("result")
    for e in shown:
        if e.error:
            result = "failed"  # the error follows the table
        elif not e.fetched:
            result = _nothing(e.source)
        else:
            result = "ok"
        row = (short_name(e.source), e.finished_at[:16], e.status or "-", e.fetched, e.new, result)
        table.add_row(*map(cell, row))
    env.out.print(table)
    if len(shown) < len(last):
        hidden = len(last) - len(shown)
        env.out.print(f"({hidden} sources fetched earlier: `papercli status --all`)", markup=False)
    for e in shown:
        if e.error:
            # Whole, on a line of its own: a message folded into a table column is unreadable.
            message = e.error if e.error.startswith(e.source) else f"{e.source}: {e.error}"
            env.out.print(cell(message), soft_wrap=True)
