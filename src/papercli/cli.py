"""papercli's command line: options -> settings -> one library call -> console.

No parsing, SQL or maths here: each command resolves its settings, calls the library and prints.
Every failure goes through `main()`, which prints one `Error: ...` line on stderr and exits with
the error's documented code (see errors.ExitCode), the traceback only with --traceback.
"""

from __future__ import annotations

import sys
import traceback as tb
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from papercli import __version__, console
from papercli.console import Environment
from papercli.errors import ExitCode, Interrupted, PapercliError, UsageError

if TYPE_CHECKING:
    from papercli.settings import Settings
    from papercli.store import Store

# The root options that may also follow the command: `papercli fetch hf --offline -q`.
GLOBAL_OPTIONS = ("db", "config", "quiet", "offline", "traceback")


class GlobalOptionsGroup(TyperGroup):
    """A command group that moves its global options written after a command to before it."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, args))

    def invoke(self, ctx):
        # Typer would turn Ctrl-C into a silent exit 130; papercli says so in its one line.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise Interrupted("interrupted") from exc


def hoist_global_options(group, ctx, args: list[str]) -> list[str]:
    """`fetch hf --db x.db -q` -> `--db x.db -q fetch hf`; a command's own option of the same
    name, an option's value and anything after `--` are left where they are."""
    globals_ = {
        name: param for param in group.params if param.name in GLOBAL_OPTIONS for name in param.opts
    }
    front, i = [], 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        param = globals_.get(args[i].split("=", 1)[0])
        takes_value = param is not None and not param.is_flag and "=" not in args[i]
        i += 2 if takes_value else 1
    if i >= len(args) or args[i] == "--":
        return args
    command = group.get_command(ctx, args[i])
    if command is None:
        return args
    own = _options_of(command)
    tail: list[str] = []
    rest = args[i + 1 :]
    j = 0
    while j < len(rest):
        token = rest[j]
        if token == "--":
            tail += rest[j:]
            break
        name = token.split("=", 1)[0]
        if name in globals_ and name not in own:
            takes_value = not globals_[name].is_flag and "=" not in token
            front += rest[j : j + 2] if takes_value else [token]
            j += 2 if takes_value else 1
            continue
        tail.append(token)
        if name in own and own[name] and "=" not in token and j + 1 < len(rest):
            tail.append(rest[j + 1])
            j += 1
        j += 1
    return [*args[:i], *front, args[i], *tail]


def _options_of(command) -> dict[str, bool]:
    """Option name -> takes a value, for a command (and every command of a group)."""
    found: dict[str, bool] = {}
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option":
            for name in param.opts:
                found[name] = not param.is_flag and not param.count
    for sub in getattr(command, "commands", {}).values():
        found.update(_options_of(sub))
    return found


app = typer.Typer(
    cls=GlobalOptionsGroup,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(no_args_is_help=True, help="Write the config file or show where it is.")
app.add_typer(config_app, name="config")


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        env = ctx.obj if isinstance(ctx.obj, Environment) else console.current()
        env.out.print(f"papercli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Path = typer.Option(None, "--db", help="SQLite store to use [default: in the app dir]."),
    config: Path = typer.Option(None, "--config", help="Config file [default: in the app dir]."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Print only data and errors."),
    offline: bool = typer.Option(
        False, "--offline", help="Never touch the network; use the cache."
    ),
    traceback: bool = typer.Option(False, "--traceback", help="Show the traceback of errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Fetch research-paper listings, group them into topics, deliver a digest.

    The app dir (store, config, cache) is the platform's user data dir, or $PAPERCLI_HOME.

    Example: papercli digest examples/hf-daily-papers-jul-31.txt --topic diffusion
    """
    env: Environment = ctx.obj
    env = ctx.ensure_object(Environment)
    env.db, env.config, env.quiet, env.traceback = db, config, quiet, traceback
    env.offline = True if offline else None
    ctx.with_resource(console.using(env))


def _env() -> Environment:
    """The Environment of the command running (Typer's `ctx.obj`)."""
    return console.current()


def _settings(*, missing_config_ok: bool = False) -> Settings:
    """The settings of the command running: its global options > environment > config file."""
    from papercli.settings import load_settings

    env = console.current()
    return load_settings(
        db=env.db, config_path=env.config, offline=env.offline, missing_config_ok=missing_config_ok
    )


def _store(settings: Settings) -> Store:
    from papercli.store import Store

    return Store(settings.db_path)


# --- fetch ----------------------------------------------------------------------------------------


@app.command()
def fetch(
    ctx: typer.Context,
    args: list[str] = typer.Argument(
        None, metavar="[SOURCE | arxiv CAT... | rss CATS | api QUERY | PATH_OR_URL]"
    ),
    date: str = typer.Option(None, "--date", help="hf: the day: YYYY-MM-DD, today, yesterday."),
    week: str = typer.Option(None, "--week", help="hf: the week, YYYY-Www."),
    month: str = typer.Option(None, "--month", help="hf: the month, YYYY-MM."),
    listing: str = typer.Option("new", "--listing", help="arxiv: new, recent or pastweek."),
    max_results: int = typer.Option(None, "--max", help="api: at most this many [default: 100]."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Fetch listings into the local store, then summarise per source.

    A SOURCE is named the same everywhere (here, in the config, the store and JSON): hf,
    hf:2024-08-01, arxiv:cs.LG (the /new listing), arxiv:cs.LG/recent, rss:cs.CL+cs.AI,
    api:ti:diffusion, a path or a URL. Without arguments, fetches the config file's `sources`.
    An empty listing (weekend, holiday) is not an error.

    Example: papercli fetch arxiv cs.LG --listing new
    """
    env: Environment = ctx.obj
    from papercli import fetch as fetching
    from papercli.report import fetch_progress, print_fetch_summary

    settings = _settings()
    specs = fetching.specs_from_args(
        args or [], date=date, week=week, month=month, listing=listing, max=max_results
    )
    if not specs:
        specs = [fetching.parse_spec(s) for s in settings.sources]
    # A source named twice (the same file, hf and hf:today) is fetched once.
    specs = list({spec.name: spec for spec in specs}.values())
    if not specs:
        raise UsageError(
            "nothing to fetch: name a source or list `sources` in the config file",
            hint="e.g. `papercli fetch hf`, or `papercli config init` and edit it",
        )
    with _store(settings) as store, fetch_progress(env, len(specs)) as on_page:
        results = fetching.fetch_into_store(specs, settings, store, on_page=on_page)
    if as_json:
        import json

        env.out.print_json(json.dumps([r.to_dict() for r in results]))
    else:
        print_fetch_summary(env, results)
    _exit_on_failures(env, results)


def _exit_on_failures(env: Environment, results) -> None:
    """One error line per failed source; the exit code is the first failure's."""
    failed = [r.error for r in results if r.error]
    if len(failed) == 1:
        raise failed[0]
    for error in failed:
        env.error(str(error))
    if failed:
        raise typer.Exit(failed[0].exit_code)


# --- digest and topics ----------------------------------------------------------------------------


def _load_papers(
    settings: Settings,
    inputs: list[str],
    since: str | None,
    source: str | None,
    on_page=None,
    into=None,
):
    """Papers from INPUT files/URLs (appended to `into` if given), or from the store; and the
    date they are for."""
    from papercli import fetch as fetching
    from papercli.digest import parse_since

    if inputs:
        specs = [fetching.parse_spec(i) for i in inputs]
        return fetching.read_papers(specs, settings, on_page=on_page, into=into)
    with _store(settings) as store:
        cutoff = parse_since(since) if since else None
        if source is not None:
            source = fetching.source_filter(source, store.source_names())
        return store.papers(since=cutoff, source=source), None


@app.command()
def digest(
    ctx: typer.Context,
    inputs: list[str] = typer.Argument(None, metavar="[INPUT]...", help="Files or URLs to read."),
    topic: list[str] = typer.Option(
        None, "--topic", "-t", help="Keep papers on this (repeatable)."
    ),
    exclude: list[str] = typer.Option(None, "--exclude", "-x", help="Drop papers on this."),
    since: str = typer.Option(None, "--since", help="Store: first seen since 1d, 7d or a DATE."),
    source: str = typer.Option(None, "--source", help="Store: only this source, e.g. hf, arxiv."),
    fmt: str = typer.Option(
        None,
        "--format",
        "-f",
        help="md, html, text, email-html, json or atom [default: from -o's extension, else md].",
    ),
    output: str = typer.Option(None, "-o", "--output", help="Write to FILE, or DIR/ (dated name)."),
    template: Path = typer.Option(None, "--template", help="A Jinja template to render with."),
    n_topics: str = typer.Option("auto", "--topics", help="Number of topics, or auto (at most 8)."),
    limit: int = typer.Option(None, "--limit", help="At most N papers."),
    sort: str = typer.Option("best", "--sort", help="best, relevance, upvotes or date."),
    announce: str = typer.Option(
        None, "--announce", help="Cards for these types: new,cross,replace [default: new,cross]."
    ),
    updates: bool = typer.Option(
        True, "--updates/--no-updates", help="List matching replacements under Updated."
    ),
    max_papers: int = typer.Option(
        None, "--max-papers", help="Full cards for N papers, one line for the rest [email: 50]."
    ),
    day: str = typer.Option(
        None, "--date", help="The digest's date [default: its papers' latest]."
    ),
    title: str = typer.Option(None, "--title", help="The digest's title."),
    email_to: list[str] = typer.Option(None, "--email-to", help="Email it to ADDR (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --email-to: write the .eml."),
    rank: str = typer.Option(
        "default", "--rank", help="default, or personal (your likes, library, followed authors)."
    ),
    min_score: float = typer.Option(
        None, "--min-score", help="With --rank personal: keep papers scoring at least this (0-1)."
    ),
    stable_topics: bool = typer.Option(
        False,
        "--stable-topics",
        help="Store: group by the stable topics (ids that last across days), with rising ones.",
    ),
) -> None:
    """Render a digest of the papers matching --topic, grouped into topics.

    Reads INPUT files/URLs when given, else the store. Output goes to stdout (a readable view on a
    terminal, Markdown when piped) unless -o.

    Example: papercli digest examples/hf-daily-papers-jul-31.txt --topic diffusion
    """
    env: Environment = ctx.obj
    from papercli.deliver import output_path, write_atomic
    from papercli.digest import (
        EMAIL_MAX_PAPERS,
        build_digest,
        check_count,
        parse_announce,
        parse_day,
        parse_n_topics,
    )
    from papercli.personal.ranking import check_rank
    from papercli.render import DIGEST_FORMATS, EXTENSIONS, format_for, output_name, render
    from papercli.report import work_progress

    settings = _settings()
    rank = check_rank(rank, min_score)
    check_count("--limit", limit)
    check_count("--max-papers", max_papers, least=0)
    if email_to:
        from papercli.deliver.mail import is_address

        for address in email_to:
            if not is_address(address):
                raise UsageError(
                    f"--email-to {address!r} is not an email address",
                    hint="give one address in ASCII, e.g. ana@example.org",
                )
    day = parse_day(day) if day is not None else None
    fmt = format_for(fmt, None if email_to else output)  # with --email-to, -o is the .eml
    if fmt not in DIGEST_FORMATS:  # before the work, not after it
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(DIGEST_FORMATS)}")
    if sort != "best" and rank == "personal":
        raise UsageError(
            f"--sort {sort} does not apply to --rank personal: it orders papers by their score",
            hint="drop one",
        )
    if min_score is not None and rank == "default":
        raise UsageError(
            "--min-score cuts by the personal score", hint="add --rank personal, or drop it"
        )
    if topic is not None and not all(t.strip() for t in topic):
        raise UsageError("--topic is empty", hint="give words to match, or drop --topic")
    _check_stable_topics(stable_topics, inputs, n_topics)
    ranker = _ranker(settings, rank)
    with work_progress(env) as bar:
        papers, page_date = _load_papers(settings, inputs or [], since, source, bar.loaded)
        if not papers:
            env.info("no papers to digest: fetch some first, or widen --since/--source")
            return
        stable = _digest_topics(settings, bar.topics) if stable_topics else None
        result = build_digest(
            papers,
            queries=topic or [],
            excludes=exclude or [],
            n_topics=parse_n_topics(n_topics),
            limit=limit,
            sort=sort,
            title=title or "Daily digest",
            day=day or page_date,
            announce=parse_announce(announce),
            updates=updates,
            max_papers=max_papers if max_papers or not email_to else EMAIL_MAX_PAPERS,
            progress=bar.topics,
            ranker=ranker,
            min_score=min_score,
            stable=stable,
        )
        if rank == "personal":
            result.rank = "personal"
        if ranker is not None and ranker.scorer is not None and min_score is not None:
            shown = [*result.entries, *result.more, *result.updates]
            if not shown:
                env.info(f"no paper scores {min_score} or more: lower --min-score")
    if email_to:
        _email_digest(env, settings, result, email_to, dry_run=dry_run, output=output)
        return
    if fmt == "atom":
        from papercli.history.feed import digest_atom

        text, ext = digest_atom(result), "xml"
    else:
        text = render(result, fmt, template=template, template_dirs=settings.template_dirs)
        ext = EXTENSIONS[fmt]
    if output:
        name = output_name(result)
        path = output_path(output, date=result.date, name=name, ext=ext)
        write_atomic(path, text)
        env.info(f"wrote {len(result.entries)} papers in {len(result.topics)} topics to {path}")
    elif fmt == "md" and template is None and env.out.is_terminal:
        from rich.markdown import Markdown

        env.out.print(Markdown(text, hyperlinks=True))
    else:
        env.write(text)


def _check_stable_topics(stable_topics: bool, inputs: list[str] | None, n_topics: str) -> None:
    if stable_topics and inputs:
        raise UsageError(
            "--stable-topics groups the store's papers: it does not read INPUT files",
            hint="fetch them into the store first (papercli fetch FILE), then digest without INPUT",
        )
    if stable_topics and n_topics != "auto":
        raise UsageError(
            "--stable-topics and --topics N do not go together: the store's topics are as many "
            "as its papers make",
            hint="drop --topics, or drop --stable-topics for a digest's own N topics",
        )


def _digest_topics(settings: Settings, progress):
    """The store's stable topics, brought up to date, for digest --stable-topics."""
    from papercli.trends import digest_topics

    with _store(settings) as store:
        return digest_topics(store, progress=progress)


def _ranker(settings: Settings, rank: str):
    """The personal Ranker when --rank personal (checked) finds signals in the store, else
    None."""
    from papercli.personal.ranking import ranker_from_store

    if rank == "default":
        return None
    with _store(settings) as store:
        return ranker_from_store(store, rank, _env().info)


def _email_digest(
    env: Environment, settings: Settings, result, to: list[str], *, dry_run: bool, output
) -> None:
    from papercli.deliver import eml_bytes
    from papercli.runner import email_digest

    msg = email_digest(settings, result, to, dry_run=dry_run)
    if dry_run:
        _write_eml(env, eml_bytes(msg), output)
    else:
        env.info(f"sent {len(result.entries)} papers to {', '.join(to)}")


def _write_eml(env: Environment, data: bytes, output: str | None) -> None:
    """A --dry-run message to a file, or to stdout (an .eml is 7-bit clean: headers are encoded
    and the parts quoted-printable or base64)."""
    from papercli.deliver import write_atomic

    if output:
        env.info(f"wrote {write_atomic(Path(output), data)}")
    else:
        env.write(data.decode("ascii", errors="replace"))


@app.command()
def topics(
    ctx: typer.Context,
    inputs: list[str] = typer.Argument(None, metavar="[INPUT]...", help="Files or URLs to read."),
    n_topics: str = typer.Option(
        "auto", "--topics", help="Number of topics, or auto (a number: a one-off grouping)."
    ),
    since: str = typer.Option(None, "--since", help="Store: first seen since 30d, 7d or a DATE."),
    source: str = typer.Option(None, "--source", help="Store: only this source."),
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Store: build the stable topics again from the first day."
    ),
    as_json: bool = typer.Option(False, "--json", help="Each paper's topic as JSON lines."),
) -> None:
    """Show the topics the papers fall into: label, size, top terms and top papers.

    From the store, the topics are stable: kept in the store and updated with the days fetched
    since, each with an id that stays (see the README). INPUT files, or --topics N, group the
    papers once instead.

    Example: papercli topics --since 30d
    """
    env: Environment = ctx.obj
    from papercli.digest import parse_n_topics
    from papercli.report import print_topics, topics_json_lines, work_progress
    from papercli.spool import SpooledPapers
    from papercli.topics import build_topics

    settings = _settings()
    count = parse_n_topics(n_topics)
    if not inputs and count is None:
        _stable_topics(env, settings, since, source, rebuild=rebuild, as_json=as_json)
        return
    if rebuild:
        raise UsageError(
            "--rebuild applies to the stable topics of the store",
            hint="drop the INPUT files and --topics N",
        )
    # Only ids, titles and the topics are printed: the abstracts wait on disk once read.
    with SpooledPapers() as spool:
        with work_progress(env) as bar:  # gone before the output, which may be long
            papers, _ = _load_papers(settings, inputs or [], since, source, bar.loaded, into=spool)
            if not papers:
                env.info("no papers: fetch some first, or name a file")
                return
            model = build_topics(papers, count, progress=bar.topics)
        if as_json:
            for line in topics_json_lines(papers, model):
                env.out.file.write(line + "\n")
        else:
            print_topics(env, papers, model)


def _stable_topics(
    env: Environment,
    settings: Settings,
    since: str | None,
    source: str | None,
    *,
    rebuild: bool,
    as_json: bool,
) -> None:
    from papercli.digest import parse_since
    from papercli.fetch import source_filter
    from papercli.report import print_stable_topics, stable_topics_json_lines, work_progress
    from papercli.topics import stable

    with _store(settings) as store, work_progress(env) as bar:
        cutoff = parse_since(since) if since else None
        if source is not None:
            source = source_filter(source, store.source_names())
        done = stable.update(store, rebuild=rebuild, progress=bar.topics)
        views, waiting = stable.view(store, since=cutoff, source=source)
    if done.days:
        env.info(
            f"topics updated with {len(done.days)} day(s): {done.joined} papers joined,"
            f" {len(done.born)} topics born, {len(done.retired)} retired"
        )
    if not views and not waiting:
        env.info("no papers: fetch some first, or widen --since/--source")
    elif as_json:
        for line in stable_topics_json_lines(views, waiting):
            env.out.file.write(line + "\n")
    else:
        print_stable_topics(env, views, len(waiting))


@app.command()
def trends(
    ctx: typer.Context,
    since: str = typer.Option("12w", "--since", help="Papers first seen since 12w, 30d or a DATE."),
    by: str = typer.Option("week", "--by", help="Periods: week or day."),
    topic: str = typer.Option(None, "--topic", help="Only topics with this id or these words."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    plot: str = typer.Option(None, "--plot", help="Also draw the top topics to FILE.svg|.png."),
) -> None:
    """Papers per stable topic per week (or day), rising and falling topics first.

    Each topic's latest period is set against the periods before it, as its share of all
    papers, with an exact test: a topic rises or falls only when p < 0.05.

    Example: papercli trends --since 12w --plot trends.svg
    """
    env: Environment = ctx.obj
    from papercli.digest import parse_since
    from papercli.report import print_trends, work_progress
    from papercli.trends import trends as compute_trends

    settings = _settings()
    if plot is not None:
        from papercli.plot import plot_format

        fmt = plot_format(plot)
    with _store(settings) as store, work_progress(env) as bar:
        found = compute_trends(
            store, since=parse_since(since), by=by, query=topic, progress=bar.topics
        )
    if as_json:
        import json

        env.out.file.write(json.dumps(found.to_dict(), ensure_ascii=False) + "\n")
    else:
        print_trends(env, found)
    if plot is not None:
        from papercli.deliver import write_atomic
        from papercli.plot import render_plot

        env.info(f"wrote {write_atomic(Path(plot), render_plot(found, fmt))}")


# --- the store ------------------------------------------------------------------------------------


@app.command()
def papers(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="First seen since 1d, 7d or a DATE."),
    source: str = typer.Option(None, "--source", help="Only this source (or prefix): hf, arxiv..."),
    limit: int = typer.Option(None, "--limit", help="At most N papers (after sorting)."),
    sort: str = typer.Option(
        "seen", "--sort", help="seen (first seen, oldest first), date (newest first), upvotes."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
    fmt: str = typer.Option(None, "--format", "-f", help="Export: bibtex, csl-json, jsonl or csv."),
    output: Path = typer.Option(None, "-o", "--output", help="With --format: write to FILE."),
) -> None:
    """List the papers in the store, with upvotes and comments where known, or export them
    with --format (BibTeX, CSL-JSON, JSON lines, CSV).

    With --json, one line per paper carrying every stored field, in the shape of a digest's
    JSON papers.

    Example: papercli papers --since 7d --format bibtex -o week.bib
    """
    env: Environment = ctx.obj
    from papercli.digest import check_count, parse_since
    from papercli.fetch import source_filter
    from papercli.report import print_papers, sort_papers

    check_count("--limit", limit)
    _check_export_options(fmt, output, as_json)
    settings = _settings()
    with _store(settings) as store:
        if source is not None:
            source = source_filter(source, store.source_names())
        found = store.papers(since=parse_since(since) if since else None, source=source)
    found = sort_papers(found, sort)[:limit]
    if fmt:
        _export(env, found, fmt, output)
    elif as_json:
        import json

        for paper in found:
            env.out.file.write(json.dumps(paper.to_json(), ensure_ascii=False) + "\n")
    else:
        print_papers(env, found)


def _check_export_options(fmt: str | None, output: Path | None, as_json: bool) -> None:
    from papercli.history.export import EXPORT_FORMATS

    if fmt is not None and fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format {fmt!r} is not known", hint=f"use {', '.join(EXPORT_FORMATS)}")
    if fmt and as_json:
        raise UsageError("--json and --format both choose the output", hint="give one of them")
    if output is not None and not fmt:
        raise UsageError("-o needs --format", hint="e.g. --format bibtex -o papers.bib")


def _export(env: Environment, papers, fmt: str, output: Path | None) -> None:
    """Papers in an export format, to stdout or written whole to `output`."""
    from papercli.deliver import write_atomic
    from papercli.history.export import export

    text = export(papers, fmt)
    if output is None:
        env.write(text)
        return
    write_atomic(output, text)
    env.info(f"wrote {len(papers)} papers to {output}")


@app.command()
def search(
    ctx: typer.Context,
    query: str = typer.Argument(
        ..., help='Words, "a phrase", prefix*, title:word, authors:name, AND, OR, NOT, (...).'
    ),
    since: str = typer.Option(None, "--since", help="First seen since 1d, 7d or a DATE."),
    author: str = typer.Option(None, "--author", help="An author's name or part of it."),
    category: str = typer.Option(None, "--category", help="A category or archive: cs.LG, cs."),
    limit: int = typer.Option(20, "--limit", help="At most N papers, best first."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
    fmt: str = typer.Option(None, "--format", "-f", help="Export: bibtex, csl-json, jsonl or csv."),
    output: Path = typer.Option(None, "-o", "--output", help="With --format: write to FILE."),
) -> None:
    """Search every stored paper's title, abstract and authors, best match first.

    Ranked by bm25 with titles weighted above abstracts. A query FTS5 cannot read (an unclosed
    quote or bracket) is an error (exit 2).

    Example: papercli search '"flow matching" diffus*' --since 30d --category cs.LG
    """
    env: Environment = ctx.obj
    from papercli.digest import parse_since
    from papercli.history.search import search as search_store
    from papercli.report import print_hits

    _check_export_options(fmt, output, as_json)
    settings = _settings()
    with _store(settings) as store:
        hits = search_store(
            store,
            query,
            since=parse_since(since) if since else None,
            author=author,
            category=category,
            limit=limit,
        )
    if fmt:
        _export(env, [hit.paper for hit in hits], fmt, output)
    elif as_json:
        import json

        for hit in hits:
            line = json.dumps(hit.to_json(), ensure_ascii=False)
            env.out.file.write(line + "\n")
    else:
        print_hits(env, hits)


@app.command()
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="JSON (every source) instead of a table."),
    show_all: bool = typer.Option(False, "--all", help="Every source, not only the last 20."),
) -> None:
    """Show the store and the last fetch of each source (ok, nothing announced, or failed).

    The table shows the 20 sources fetched most recently, saved files by their file name.

    Example: papercli status
    """
    env: Environment = ctx.obj
    from papercli.report import print_status

    settings = _settings()
    with _store(settings) as store:
        print_status(env, settings, store, as_json=as_json, show_all=show_all)


# --- scheduled digests ---------------------------------------------------------------------------


@app.command("run")
def run_digest(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A digest defined as [digest.NAME] in the config."),
    no_fetch: bool = typer.Option(False, "--no-fetch", help="Use the store as it is."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write the .eml; send and mark nothing."),
    output: str = typer.Option(None, "-o", "--output", help="With --dry-run: the .eml file."),
) -> None:
    """Fetch a named digest's sources and email what its recipients have not had yet.

    This is the command for cron: quiet when nothing is new, non-zero when something broke.

    Example: papercli run diffusion
    """
    env: Environment = ctx.obj
    from papercli.deliver import eml_bytes
    from papercli.runner import report, run_named_digest

    settings = _settings()
    result, messages = run_named_digest(settings, name, fetch=not no_fetch, dry_run=dry_run)
    if dry_run:
        for msg in messages:
            _write_eml(env, eml_bytes(msg), output)
        if not messages:
            env.info(f"{name}: nothing new to send")
        _exit_on_failures(env, result.fetched)  # a dry run is how one tests the cron job
        return
    report(result)
    _exit_on_failures(env, result.fetched)


@app.command()
def feed(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A digest defined as [digest.NAME] in the config."),
    output: Path = typer.Option(None, "-o", "--output", help="Write the feed to FILE.xml."),
    no_fetch: bool = typer.Option(False, "--no-fetch", help="Use the store as it is."),
    self_url: str = typer.Option(None, "--url", help="Where the feed is served (rel=self)."),
) -> None:
    """Write a named digest's Atom feed: its papers of the last `since`, one entry per paper.

    Fetches the digest's sources first (unless --no-fetch); entries keep their id across
    versions. For cron next to a web server: `papercli schedule NAME --feed FILE`.

    Example: papercli feed diffusion -o /var/www/feeds/diffusion.xml
    """
    env: Environment = ctx.obj
    from papercli.deliver import write_atomic
    from papercli.history.named_feed import build_named_feed

    if self_url is not None and not self_url.lower().startswith(("https://", "http://")):
        raise UsageError(
            f"--url {self_url!r} is not an http(s) URL", hint="e.g. https://x.org/f.xml"
        )
    if output is not None and output.is_dir():  # a web server's directory: NAME.xml inside it
        output = output / f"{name}.xml"
    result = build_named_feed(
        _settings(), name, fetch=not no_fetch, self_url=self_url, info=env.info
    )
    if output is None:
        env.write(result.text)
    else:
        write_atomic(output, result.text)
        env.info(f"wrote {len(result.papers)} papers to {output}")
    _exit_on_failures(env, result.fetched)


@app.command()
def send(
    ctx: typer.Context,
    retry: bool = typer.Option(
        False, "--retry", help="Kept for earlier scripts: `send` alone does the same."
    ),
) -> None:
    """Send the digests that could not be sent before (kept in the outbox).

    Example: papercli send
    """
    env: Environment = ctx.obj
    from papercli.errors import DeliveryError
    from papercli.runner import retry_outbox

    result = retry_outbox(_settings())
    env.info(f"outbox: sent {len(result.sent)}, still waiting {len(result.failed)}")
    if result.failed:
        raise DeliveryError(
            f"{len(result.failed)} message(s) could not be sent: {result.errors[0].message}",
            hint="they stay in the outbox; run `papercli send` again later",
        )
    if result.quarantined:
        for line in result.quarantined[1:]:
            env.error(line)
        raise DeliveryError(result.quarantined[0])


@app.command()
def schedule(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A digest defined as [digest.NAME] in the config."),
    at: str = typer.Option("07:30", "--at", help="Time of day, HH:MM (local time)."),
    weekdays: bool = typer.Option(False, "--weekdays", help="Monday to Friday only."),
    install_it: bool = typer.Option(False, "--install", help="Add it to your crontab."),
    feed: Path = typer.Option(
        None, "--feed", help="Write the digest's Atom feed to FILE instead of emailing it."
    ),
) -> None:
    """Print the crontab line that runs a named digest (or --install it).

    With --feed FILE the line writes the digest's Atom feed there (`papercli feed NAME -o FILE`);
    a digest can have both lines.

    Example: papercli schedule diffusion --at 07:30 --weekdays --install
    """
    env: Environment = ctx.obj
    from papercli.runner import DigestConfig
    from papercli.schedule import cron_line, install, settings_for_cron

    settings = _settings()
    DigestConfig.from_settings(settings, name)  # fail now, not at 07:30, if it is not defined
    line = cron_line(
        name,
        at=at,
        weekdays=weekdays,
        log_path=settings.home / "logs" / f"{name}.log",
        config_path=settings.config_path.absolute(),
        env=settings_for_cron(),
        options=_global_options_for_cron(env, settings),
        feed=feed.absolute() if feed else None,
    )
    (settings.home / "logs").mkdir(parents=True, exist_ok=True)
    if install_it:
        changed = install(line, f"{name}:feed" if feed else name)
        env.info("crontab updated" if changed else "crontab already has this line")
    env.out.print(line, markup=False, soft_wrap=True)


def _global_options_for_cron(env: Environment, settings: Settings) -> list[str]:
    """The global options given to `schedule` itself, for the line it prints."""
    options = ["--db", str(settings.db_path.absolute())] if env.db else []
    return [*options, "--offline"] if env.offline else options


# --- personal relevance --------------------------------------------------------------------------


library_app = typer.Typer(no_args_is_help=True, help="Your own papers, as positive examples.")
app.add_typer(library_app, name="library")


@library_app.command("add")
def library_add(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="BibTeX, CSL-JSON or ids."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
):
    """Add your own papers (a BibTeX or CSL-JSON export, or a list of arXiv ids/URLs).

    Entries are matched to stored papers by arXiv id, then by title; the others keep their own
    title and abstract. Adding the same file again changes nothing.

    Example: papercli library add ~/zotero-export.bib
    """
    from papercli.personal.library import add_files
    from papercli.personal.signals import Signals

    env = _env()
    with _store(_settings()) as store:
        report = add_files(Signals(store), files)
    if as_json:
        import json

        env.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    env.info(
        f"read {report.read}: {report.matched} matched in the store,"
        f" {report.own_text} kept with their own text, {len(report.skipped)} skipped;"
        f" {report.added} added to the library ({report.already} already in it)"
    )
    for skipped in report.skipped:
        env.info(f"  skipped {skipped.label}: {skipped.reason}")


@library_app.command("list")
def library_list(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per entry."),
):
    """List your library: each entry's key, title, the file it came from and whether it is a
    stored paper or kept with its own text.

    Example: papercli library list
    """
    from papercli.personal.signals import Signals

    env = _env()
    with _store(_settings()) as store:
        entries = Signals(store).library()
    if as_json:
        import json

        for e in entries:
            row = {"key": e.key, "title": e.title, "paper_id": e.paper_id, "file": e.origin}
            env.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if not entries:
        env.info("the library is empty: papercli library add FILE")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for name in ("key", "title", "file", "in the store"):
        table.add_column(name, overflow="fold")
    for e in entries:
        table.add_row(e.key, e.title, Path(e.origin).name, "yes" if e.paper_id else "own text")
    env.out.print(table)


@library_app.command("remove")
def library_remove(
    names: list[str] = typer.Argument(..., metavar="KEY|FILE...", help="Keys or file names."),
):
    """Remove entries from your library: by key (as `library list` shows it) or every entry
    that came from a file.

    Example: papercli library remove zotero-export.bib
    """
    from papercli.personal.signals import Signals

    with _store(_settings()) as store:
        gone = Signals(store).remove_library(names)
    from papercli.render import plural

    _env().info(f"removed {plural(len(gone), 'entry', 'entries')} from the library")


def _rate(ids: list[str], rating: int | None) -> None:
    from papercli.personal.signals import Signals
    from papercli.render import plural

    with _store(_settings()) as store:
        signals = Signals(store)
        if rating is None:
            done = signals.unrate(ids)
            unrated = plural(len(done), "paper")
            _env().info(f"unrated {unrated}" + (f": {', '.join(done)}" if done else ""))
        else:
            done = signals.rate(ids, rating)
            verb = "liked" if rating > 0 else "disliked"
            _env().info(f"{verb} {', '.join(done)}")


@app.command()
def like(ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids as digests show them.")):
    """Tell papercli you want papers like these (the personal ranking learns from it).

    Example: papercli like 2411.12345
    """
    from papercli.personal.signals import LIKE

    _rate(ids, LIKE)


@app.command()
def dislike(
    ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids as digests show them."),
):
    """Tell papercli you are not interested in these papers: personal digests (--rank
    personal) stop showing them and rank papers like them lower.

    Example: papercli dislike 2411.12345
    """
    from papercli.personal.signals import DISLIKE

    _rate(ids, DISLIKE)


@app.command()
def unrate(ids: list[str] = typer.Argument(..., metavar="ID...", help="Ids as digests show them.")):
    """Forget a like or dislike.

    Example: papercli unrate 2411.12345
    """
    _rate(ids, None)


@app.command()
def follow(name: str = typer.Argument(..., help='An author, e.g. "Ada Lovelace".')):
    """Always keep papers by this author, first, marked "followed author".

    Names match through initials, accents, hyphens and "Last, First".

    Example: papercli follow "Yann LeCun"
    """
    from papercli.personal.names import ambiguous, listed, matching_names
    from papercli.personal.signals import Signals
    from papercli.render import plural

    env = _env()
    with _store(_settings()) as store:
        signals = Signals(store)
        added = signals.follow(name)
        name = " ".join(name.split())
        names = signals.author_names()
        papers = signals.count_papers_by(matching_names(name, names))
        clash = ambiguous(name, names)
    env.info(
        f"{'following' if added else 'already following'} {name}:"
        f" {plural(papers, 'paper')} in the store"
        + (f"; ambiguous: {listed(clash)}" if clash else "")
    )


@app.command()
def unfollow(name: str = typer.Argument(..., help="A followed author.")):
    """Stop following a name you follow, spelled as you like ("LeCun, Yann" for "Yann LeCun").

    Other followed names it matches stay: unfollow "Chen" keeps a followed "Xi Chen".

    Example: papercli unfollow "Yann LeCun"
    """
    from papercli.personal.signals import Signals

    with _store(_settings()) as store:
        gone = Signals(store).unfollow(name)
    _env().info(f"no longer following {', '.join(gone)}")


@app.command()
def profile(
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
):
    """Show what papercli has learned: signals, the terms that pull papers up and down.

    Example: papercli profile --json
    """
    from papercli.personal.profile import print_profile
    from papercli.personal.profile import profile as build_profile
    from papercli.personal.signals import Signals

    env = _env()
    with _store(_settings()) as store:
        data = build_profile(Signals(store))
    if as_json:
        import json

        env.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        print_profile(env, data)


# --- config ---------------------------------------------------------------------------------------


@config_app.command("init")
def config_init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config file."),
) -> None:
    """Write a commented config file to start from.

    Example: papercli config init && $EDITOR "$(papercli config path)"
    """
    env: Environment = ctx.obj
    from papercli.configfile import write_default_config

    settings = _settings(missing_config_ok=True)
    path = write_default_config(settings.config_path, force=force)
    env.info(f"wrote {path}")


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Check the config file and print the settings in force, each with where it came from.

    Every table is checked (sources, [fetch], [smtp], [templates], each [digest.NAME]); each
    problem found is one line naming the file, the table and the key, exit 3.

    Example: papercli config check
    """
    env: Environment = ctx.obj
    from papercli.configcheck import check_config, settings_in_force
    from papercli.report import print_settings

    settings = _settings()
    digests = check_config(settings)
    print_settings(env, settings_in_force(settings), digests)


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print where the config file is (whether or not it exists).

    Example: papercli config path
    """
    env: Environment = ctx.obj
    env.out.print(str(_settings(missing_config_ok=True).config_path), markup=False)


# --- entry point ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None, env: Environment | None = None) -> int:
    """Run the CLI and return the exit code; every error ends here as one line on stderr.

    `env` holds the consoles and receives the global options (tests pass their own).

    Typer reports bad command lines itself (exit 2); papercli's own errors and bugs come out of
    it as exceptions and are turned into one line here.
    """
    env = env if env is not None else Environment()
    try:
        app(args=argv, prog_name="papercli", obj=env)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else ExitCode.BUG
    except KeyboardInterrupt:  # outside a command (while parsing the command line)
        env.error("interrupted")
        return ExitCode.INTERRUPTED
    except PapercliError as exc:
        if env.traceback:
            env.err.print(tb.format_exc(), markup=False)
        for line in exc.lines():
            env.error(line)
        return exc.exit_code
    except Exception as exc:
        if env.traceback:
            env.err.print(tb.format_exc(), markup=False)
        env.error(
            f"unexpected {type(exc).__name__}: {exc} "
            "(this is a bug: run again with --traceback and report it)"
        )
        return ExitCode.BUG
    return ExitCode.OK
