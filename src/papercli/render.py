"""Rendering a Digest: the Jinja environment, its filters, and the JSON export; returns strings.

Templates ship inside the package (`papercli.templates`); a user's template dirs come first, and
`default:NAME` always names the shipped template, so an override can extend the one it replaces:

    {% extends "default:digest.md.j2" %}
    {% block paper_facts %}{% endblock %}

Everything that comes from a page (titles, authors, abstracts, URLs) is untrusted: HTML output is
autoescaped, Markdown output goes through `md_escape`, and only http(s) URLs become links.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from papercli import __version__
from papercli.errors import UsageError
from papercli.models import ANNOUNCE_LABELS, Digest, DigestEntry, Paper, Topic

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import jinja2

TEMPLATES = {
    "md": "digest.md.j2",
    "html": "digest.html.j2",
    "text": "digest.txt.j2",
    "email-html": "email.html.j2",
}
FORMATS = (*TEMPLATES, "json")
DIGEST_FORMATS = (*FORMATS, "atom")  # atom: papercli.history.feed
EXTENSIONS = {"md": "md", "html": "html", "text": "txt", "email-html": "html", "json": "json"}
_HTML_FORMATS = {"html", "email-html"}
_ARXIV = "https://arxiv.org"

# Fixed English names: strftime's follow the locale, and the same digest must give the same bytes.
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Section:
    """One topic of the digest as the templates walk it.

    `anchor` is the topic heading's fragment id (GitHub's heading slug, so Markdown links work on
    GitHub too); `start` counts the entries of earlier sections, for numbering papers 1..N.
    """

    topic: Topic
    anchor: str
    entries: list[DigestEntry]
    start: int


# -- filters -------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters a page's text must not bring into a digest: C0/C1 controls (ESC, BEL, NUL) but line
# breaks and tabs, and the bidi embeddings, overrides and isolates that make "txt.exe" display as
# "exe.txt" (CVE-2021-42574's trick).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# A sentence ends at . ! or ? followed by space and something that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
# What would open a heading, list item or quote at the start of a line.
_MD_BLOCK_START = re.compile(r"^(\d+[.)](?=\s|$)|[#+\-])")


def _clean(text: str | None) -> str:
    """Whitespace collapsed to single spaces, control characters (terminal escapes) dropped."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def oneline(text: str | None) -> str:
    """Text on one line: 'a\n  b' -> 'a b' (abstracts come hard-wrapped)."""
    return _clean(text)


def first_sentences(text: str | None, n: int = 2, max_chars: int = 600) -> str:
    """The first `n` sentences of `text` on one line, cut at a word near `max_chars`.

    'We present X. It is fast. Code is out.' with n=2 -> 'We present X. It is fast.'
    """
    sentences = _SENTENCE_END.split(_clean(text))
    lead = " ".join(sentences[: max(n, 1)])
    if len(lead) <= max_chars:
        return lead
    return lead[:max_chars].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def authors_short(authors: Sequence[str] | None, max: int = 3) -> str:
    """Up to `max` names, then 'et al.': ['A', 'B', 'C', 'D'] -> 'A, B, C et al.'."""
    names = [_clean(name) for name in authors or () if _clean(name)]
    if len(names) <= max:
        return ", ".join(names)
    return ", ".join(names[:max]) + " et al."


def md_escape(text: str | None) -> str:
    """Text from a page made inert in Markdown: no emphasis, links, tables, HTML or blocks.

    'a <b> & *c*' -> 'a \\<b\\> & \\*c\\*'; '&lt;' -> '\\&lt;' (an entity would decode to '<').
    """
    text = _MD_SPECIAL.sub(r"\\\1", _clean(text))
    text = _MD_ENTITY.sub(r"\\&", text)
    return _MD_BLOCK_START.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)


def abs_url(value: Paper | str | None, base: str = _ARXIV) -> str | None:
    """An absolute http(s) URL safe to put in a link, or None.

    A Paper gives its abstract page (falling back to arxiv.org when its own URL is unusable);
    '/abs/2408.00714' -> 'https://arxiv.org/abs/2408.00714'; 'javascript:alert(1)' -> None.
    Quotes, spaces, parentheses and angle brackets are percent-encoded so the URL can neither
    leave an HTML attribute nor end a Markdown link early.
    """
    if isinstance(value, Paper):
        own = abs_url(value.url, base)
        if own or value.id.startswith("title:"):
            return own
        return f"{_ARXIV}/abs/{quote(value.id)}"
    text = _clean(value)
    if not text:
        return None
    url = urljoin(base.rstrip("/") + "/", text)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=":/?#[]@!$&*+,;=%~")


def datefmt(value: str | None, style: str = "iso") -> str:
    """An ISO date or timestamp in one of three styles, in English whatever the locale.

    '2024-08-01T17:00:08.000Z' -> 'iso': '2024-08-01', 'short': '1 Aug 2024',
    'long': 'Thursday, 1 August 2024'. Text that is not a date comes back unchanged.
    """
    text = _clean(value)
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return text
    month = _MONTHS[day.month - 1]
    if style == "long":
        return f"{_DAYS[day.weekday()]}, {day.day} {month} {day.year}"
    if style == "short":
        return f"{day.day} {month[:3]} {day.year}"
    return day.isoformat()


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun: (1, 'paper') -> '1 paper'; (1234, 'upvote') -> '1,234 upvotes'."""
    word = singular if n == 1 else plural_form or singular + "s"
    return f"{n:,} {word}"


def wrap(text: str | None, width: int = 78, indent: int = 0, first: str | None = None) -> str:
    """Text filled to `width` columns, lines after the first indented by `indent` spaces.

    URLs and other long words are never broken, so they stay clickable in a mail client.
    """
    return textwrap.fill(
        _clean(text),
        width=width,
        initial_indent=" " * indent if first is None else first,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def slug(text: str | None) -> str:
    """A heading's fragment id as GitHub makes it: 'Diffusion & image editing' ->
    'diffusion--image-editing'."""
    return re.sub(r"[^\w\- ]", "", _clean(text).lower()).replace(" ", "-")


def repo_name(url: str | None) -> str:
    """'https://github.com/google-research/envharness' -> 'google-research/envharness'."""
    parts = urlsplit(_clean(url))
    path = parts.path.strip("/").removesuffix(".git")
    return path if parts.netloc.endswith("github.com") and path else _clean(url)


# LaTeX a title or abstract carries: math ($...$, \(...\)), a command with one braced argument
# (\emph{x}), an accent (\"o, {\'e}), a bare command (\LaTeX), an escaped character (\%).
_TEX = re.compile(
    r"\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)|\\\[.+?\\\]"
    r"|\{?\\[\"'`^~=.](?:\{\w\}|\w)\}?"
    r"|\\[A-Za-z]+\*?(?:\{[^{}$]*\})?"
    r"|\\[%&_#$]",
    re.DOTALL,
)


def tex_to_text(text: str | None) -> str:
    """The LaTeX in a title or abstract written as plain Unicode text; the rest untouched.

    '$\\Lambda$CDM' -> 'ΛCDM'; '$O(n^2)$' -> 'O(n^2)'; '10\\% of \\emph{all}' -> '10% of all';
    '5% of runs' stays (outside LaTeX a % is just a percent sign).
    """
    text = text or ""
    if "$" not in text and "\\" not in text:
        return text
    return re.sub(r"(?<=\S)  +(?=\S)", " ", _TEX.sub(lambda m: _tex_span(m.group(0)), text))


@lru_cache(maxsize=4096)
def _tex_span(span: str) -> str:
    try:
        text = _latex_to_text().latex_to_text(span)
    except Exception:  # a malformed span reads better raw than not at all
        return span
    if not text.strip():  # a layout command reads as a space; an unknown one stays raw
        return " " if span.strip("\\*") in _LAYOUT else span
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _latex_to_text():
    """One converter for every span (making one costs more than converting a span)."""
    import logging

    from pylatexenc.latex2text import LatexNodes2Text

    logging.getLogger("pylatexenc").setLevel(logging.ERROR)  # it warns on every odd brace
    return LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


_LAYOUT = frozenset(
    {"newline", "linebreak", "par", "noindent", "quad", "qquad", "medskip", "smallskip", "bigskip"}
)


def announce_label(paper: Paper) -> str:
    """How a card names the paper's announce type: 'new', 'cross-list', 'replacement', or ''
    for a paper without one (Hugging Face)."""
    return ANNOUNCE_LABELS.get(paper.announce_type or "", "")


def _is_date(value: str | None) -> bool:
    """'2024-08-01' and '2024-08-01T17:00:08Z' -> True; '<a href=...>', 'soon', None -> False."""
    if not value or not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?", value.strip()):
        return False
    try:
        date.fromisoformat(value.strip()[:10])
    except ValueError:
        return False
    return True


def safe_text(text: str) -> str:
    """`text` without control characters or bidi overrides, in every format alike.

    'Diffusion \x1b[2J\u202etxt.exe' -> 'Diffusion  [2Jtxt.exe' (a control becomes a space).
    """
    return _BIDI.sub("", _UNSAFE.sub(" ", text))


def readable(paper: Paper) -> Paper:
    """The paper with its text shown as text: LaTeX written out (title, abstract, comments,
    summary), and no control characters or bidi overrides in anything a template shows."""

    def text(value: str | None) -> str | None:
        return safe_text(tex_to_text(value)) if value else value

    return replace(
        paper,
        title=text(paper.title) or "",
        abstract=text(paper.abstract) or "",
        comments=text(paper.comments),
        ai_summary=text(paper.ai_summary),
        authors=[safe_text(a) for a in paper.authors],
        # A byline shows a date or nothing: any other text (HTML, a link) from a file is dropped.
        published=paper.published if _is_date(paper.published) else None,
        updated=paper.updated if _is_date(paper.updated) else None,
        journal_ref=safe_text(paper.journal_ref) if paper.journal_ref else paper.journal_ref,
    )


def paper_links(paper: Paper) -> list[tuple[str, str]]:
    """(name, safe URL) of each place to read the paper, in reading order."""
    names = {"abs": "abstract", "pdf": "PDF", "html": "HTML", "hf": "Hugging Face",
             "code": "code", "project": "project page"}  # fmt: skip
    base = {"code": "https://github.com"}
    links = paper.links()
    safe = [(k, abs_url(links[k], base.get(k, _ARXIV))) for k in names if k in links]
    return [(_link_name(k, url, names), url) for k, url in safe if url]


def _link_name(kind: str, url: str, names: dict[str, str]) -> str:
    """'code' links name their GitHub repo: 'code: google-research/envharness'."""
    if kind == "code" and repo_name(url) != url:
        return f"code: {repo_name(url)}"
    return names[kind]


def doi_url(doi: str | None) -> str | None:
    """'10.1103/PhysRevD.103.103025' -> 'https://doi.org/10.1103/PhysRevD.103.103025'."""
    text = _clean(doi)
    return abs_url("https://doi.org/" + text) if text else None


FILTERS = {
    "oneline": oneline,
    "first_sentences": first_sentences,
    "authors_short": authors_short,
    "md_escape": md_escape,
    "abs_url": abs_url,
    "datefmt": datefmt,
    "plural": plural,
    "wrap": wrap,
    "slug": slug,
    "repo_name": repo_name,
    "announce_label": announce_label,
    "paper_links": paper_links,
    "doi_url": doi_url,
}


# -- environment ---------------------------------------------------------------------------------


def shipped_templates() -> Traversable:
    """The templates that ship with papercli (the top-level templates/ dir of the source tree)."""
    try:
        return importlib.resources.files("papercli.templates")
    except ModuleNotFoundError:
        # setuptools' editable installs cannot import a namespace package mapped from outside
        # the package dir (pypa/setuptools#4943); wheels can. Editable means a source tree.
        return Path(__file__).resolve().parents[2] / "templates"


def _resource_loader(root: Traversable) -> jinja2.BaseLoader:
    """A loader over a Traversable, so templates load from a wheel, a zip or a source tree."""
    import jinja2

    def load(name: str) -> tuple[str, str, Any] | None:
        node = root
        for part in name.split("/"):
            if part in ("", ".", ".."):
                return None
            node = node.joinpath(part)
        if not node.is_file():
            return None
        return node.read_text(encoding="utf-8"), str(node), lambda: True

    return jinja2.FunctionLoader(load)


def environment(
    template_dirs: Sequence[Path] = (), *, autoescape_html: bool = True
) -> jinja2.Environment:
    """The Jinja environment: the user's `template_dirs` first, then the shipped templates.

    `default:digest.html.j2` always names the shipped one. Templates named `*.html`, `*.htm`,
    `*.xml` (with or without `.j2`) are autoescaped unless `autoescape_html` is False.
    """
    import jinja2

    shipped = _resource_loader(shipped_templates())
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({"default": shipped}, delimiter=":")]
    if template_dirs:
        loaders.append(jinja2.FileSystemLoader([str(d) for d in template_dirs]))
    loaders.append(shipped)
    autoescape = (
        jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=False,
        )
        if autoescape_html
        else False
    )
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


# -- rendering -----------------------------------------------------------------------------------


def render(
    digest: Digest,
    fmt: str,
    *,
    template: Path | None = None,
    template_dirs: Sequence[Path] = (),
) -> str:
    """The digest as `fmt` (md, html, text, json, email-html), or through the file `template`.

    A user template is found through its own dir first, so it can include files beside it and
    extend `default:...`. HTML formats escape everything, whatever the template's name.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if fmt == "json":
        if template is not None:
            raise UsageError("--template cannot be used with the json format", hint="drop one")
        return (
            json.dumps(digest_to_json(digest), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        )
    dirs = list(template_dirs)
    name = TEMPLATES[fmt]
    if template is not None:
        if not template.is_file():
            raise UsageError(f"template file {template} not found", hint="check --template")
        dirs.insert(0, template.parent)
        name = template.name
    values = context(readable_digest(digest))
    return _render_template(environment(dirs), name, values, fmt, user=bool(dirs))


def _render_template(
    env: jinja2.Environment, name: str, values: dict[str, Any], fmt: str, *, user: bool
) -> str:
    import jinja2

    if fmt in _HTML_FORMATS:
        env = env.overlay(autoescape=True)
    try:
        return env.get_template(name).render(values)
    except jinja2.TemplateError as exc:
        if not user:
            raise
        where = f" line {exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise UsageError(
            f"template {name}{where}: {exc.message or type(exc).__name__}",
            hint="fix the template, or drop --template / the template dir",
        ) from exc


def readable_digest(digest: Digest) -> Digest:
    """The digest with every paper's LaTeX written as text (see `tex_to_text`)."""

    def entries(items: list[DigestEntry]) -> list[DigestEntry]:
        return [replace(entry, paper=readable(entry.paper)) for entry in items]

    return replace(
        digest,
        entries=entries(digest.entries),
        more=entries(digest.more),
        updates=entries(digest.updates),
    )


def format_for(fmt: str | None, output: str | None) -> str:
    """The format to render: `fmt` when given, else from -o FILE's extension, else md.

    (None, 'out/digest.html') -> 'html'; (None, 'notes.txt') -> 'text'; (None, 'feed.xml') ->
    'atom'; (None, 'dir/') -> 'md'.
    """
    if fmt:
        return fmt
    suffix = Path(output or "").suffix.lower().lstrip(".")
    by_extension = {"md": "md", "markdown": "md", "html": "html", "htm": "html",
                    "txt": "text", "text": "text", "json": "json", "xml": "atom",
                    "atom": "atom"}  # fmt: skip
    if output and not output.endswith(("/", "\\")) and suffix:
        if suffix not in by_extension:
            raise UsageError(
                f"cannot tell the format of {output!r} from its extension",
                hint="name it .md, .html, .txt, .json or .xml (Atom), or give --format",
            )
        return by_extension[suffix]
    return "md"


def output_name(digest: Digest) -> str:
    """What a dated file in -o DIR/ is named after: the title, the queries, or the topics.

    'Daily digest' on queries ['diffusion', 'LLM'] -> 'diffusion-llm'; a named digest's
    title 'papercli: astro' -> 'astro'; no queries -> the first two topics' first terms.
    """
    if digest.queries:
        words = " ".join(digest.queries)
    elif digest.title not in ("", "Daily digest"):
        words = digest.title.removeprefix("papercli:")
    else:
        words = " ".join(t.label.split(" · ")[-1].split(",")[0] for t in digest.topics[:2])
    name = re.sub(r"[^\w]+", "-", words.casefold()).strip("-")[:60].strip("-")
    return name or "digest"


def context(digest: Digest) -> dict[str, Any]:
    """What every template sees: the digest, its sections in order, counts and the generator."""
    sections = sections_of(digest)
    return {
        "digest": digest,
        "sections": sections,
        "paper_count": sum(len(s.entries) for s in sections)
        + len(digest.more)
        + digest.unlisted_more,
        "topic_count": len(sections),
        # A stable topic's section, for the rising topics to link to (--stable-topics).
        "stable_anchors": {
            s.topic.stable_id: s.anchor for s in sections if s.topic.stable_id is not None
        },
        "generated_by": f"papercli {__version__}",
        "version": __version__,
    }


def sections_of(digest: Digest) -> list[Section]:
    """The digest's topics with their entries; entries of an unlisted topic go last, 'Other'."""
    groups = [(topic, digest.entries_for(topic.id)) for topic in digest.topics]
    listed = {topic.id for topic in digest.topics}
    stray = [entry for entry in digest.entries if entry.topic_id not in listed]
    if stray:
        groups.append((Topic(id=-1, label="Other papers", terms=[], size=len(stray)), stray))
    sections: list[Section] = []
    seen: dict[str, int] = {}
    start = 0
    for topic, entries in groups:
        if not entries:
            continue
        anchor = slug(topic.label) or f"topic-{topic.id}"
        # GitHub numbers repeated heading slugs: label, label-1, label-2.
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        sections.append(Section(topic, f"{anchor}-{count}" if count else anchor, entries, start))
        start += len(entries)
    return sections


def digest_to_json(digest: Digest) -> dict[str, Any]:
    """The digest as plain data with a stable schema (the `json` format).

    {"title", "date", "generated_by", "queries", "excludes", "total_papers", "sort",
     "topics": [{"id", "label", "terms", "size", "papers": [ids]}], "papers": [{...}],
     "more": [papers beyond max_papers], "updates": [replacements]}; with --stable-topics each
    topic has "stable_id" and "trend", and "rising" lists the week's rising topics ({"id",
    "label", "current", "baseline", "ratio", "p_value"}); each paper has
    "announce_type" and "links" ({"abs", "pdf", "html", "hf", "code", "project"}, the known ones).
    """
    digest = readable_digest(digest)
    sections = sections_of(digest)
    return {
        "title": digest.title,
        "date": digest.date,
        "generated_by": f"papercli {__version__}",
        "queries": list(digest.queries),
        "excludes": list(digest.excludes),
        "total_papers": digest.total_papers,
        "topics": [
            {
                "id": s.topic.id,
                "label": s.topic.label,
                "terms": list(s.topic.terms),
                "size": s.topic.size,
                "papers": [entry.paper.id for entry in s.entries],
            }
            | (
                {"stable_id": s.topic.stable_id, "trend": s.topic.trend or "steady"}
                if s.topic.stable_id is not None
                else {}
            )
            for s in sections
        ],
        "sort": digest.sort,
        "papers": [_entry_json(entry) for s in sections for entry in s.entries],
        "more": [_entry_json(entry) for entry in digest.more],
        "updates": [_entry_json(entry) for entry in digest.updates],
    } | ({"rising": [asdict(topic) for topic in digest.rising]} if digest.rising else {})


def _entry_json(entry: DigestEntry) -> dict[str, Any]:
    return {
        **entry.paper.to_json(),
        "url": abs_url(entry.paper),  # only a link that is safe to follow
        "topic": entry.topic_id,
        # Rounded so the same digest dumps the same bytes on any machine's float maths.
        "score": round(entry.score, 4),
        "matched_terms": list(entry.matched_terms),
    } | ({"why": list(entry.why)} if entry.why else {})
