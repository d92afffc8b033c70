"""Files people hand papercli: JSON lines of papers, and the plain text of a Daily Papers page.

JSON lines (kind "jsonl"), one paper per line, in any of these shapes:
- papercli's own export, each line `Paper.to_dict()` (read back exactly);
- arXiv's metadata dump: `authors` as one string "A, B and C" (or `authors_parsed`),
  `categories` "cs.LG cs.AI", `versions` [{"version": "v1", "created": ...}], `journal-ref`;
- daily-digest dumps: {id, categories (primary first), title, summary, authors, comment, pdf, abs};
- Hugging Face Daily Papers API items ({"paper": {...}, ...}), one per line.
`iter_jsonl` streams, so a file of any length never sits in memory whole.

Plain text (kind "text"): the text of a Daily Papers page as a browser copies it, a short header,
then for each paper a title paragraph (one short line with no final period) followed by its
abstract (a long paragraph). Papers get `local_id(title)` unless the title line holds an arXiv id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date as Date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papercli.errors import ParseError, UsageError
from papercli.models import Page, Paper, local_id, split_arxiv_id
from papercli.sources.base import SourceSpec, spec

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.settings import FetchSettings

JSONL_KIND = "jsonl"
TEXT_KIND = "text"
JSONL_SOURCE = "JSON lines"

_PAPER_FIELDS = frozenset(Paper.__dataclass_fields__)
# Field kinds from the dataclass's own annotations, so a field added to Paper is checked too.
_LIST_FIELDS = frozenset(
    name for name, spec in Paper.__dataclass_fields__.items() if str(spec.type).startswith("list")
)
_INT_FIELDS = frozenset(
    name for name, spec in Paper.__dataclass_fields__.items() if str(spec.type).startswith("int")
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VERSION = re.compile(r"v(\d+)")


# --- JSON lines ------------------------------------------------------------------------------


def sniff_jsonl(data: bytes) -> bool:
    """Does the first non-blank line hold a JSON object that reads as a paper?"""
    for line in _leading_lines(data):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return False
        return isinstance(record, dict) and _looks_like_paper(record)
    return False


def parse_jsonl(data: bytes, *, url: str | None = None) -> Page:
    """Read a whole JSON lines body; for big files prefer `iter_jsonl` over the open file."""
    return Page(kind=JSONL_KIND, papers=list(iter_jsonl(data.splitlines())))


def iter_jsonl(lines: Iterable[bytes | str]) -> Iterator[Paper]:
    """Papers from JSON lines, one at a time; blank lines are skipped.

    Raises ParseError naming the line (counted from 1) that is not a paper.
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise _line_error(number, f"not JSON ({exc})") from exc
        if not isinstance(record, dict):
            raise _line_error(number, "not a JSON object")
        try:
            yield paper_from_record(record)
        except ValueError as exc:
            raise _line_error(number, str(exc)) from exc


def paper_from_record(record: dict[str, Any]) -> Paper:
    """One JSON object, in any of the shapes this module reads, as a Paper.

    `{"id": "2503.11731", "title": "T", "summary": "A", "categories": ["cs.CV", "cs.RO"]}` ->
    Paper(id='2503.11731', title='T', abstract='A', categories=['cs.CV', 'cs.RO'],
    primary_category='cs.CV'). Raises ValueError saying what is missing or of the wrong type.
    """
    if isinstance(record.get("paper"), dict):
        from papercli.sources import hf

        try:
            return hf.paper_from_item(record)
        except ParseError as exc:
            raise ValueError("a Hugging Face item with no paper id or title") from exc
    if record.keys() >= _PAPER_FIELDS:
        return _exported_paper(record)
    return _foreign_paper(record)


def _looks_like_paper(record: dict[str, Any]) -> bool:
    if isinstance(record.get("paper"), dict):
        return True
    return isinstance(record.get("title"), str) and any(
        key in record for key in ("id", "abstract", "summary", "authors")
    )


def _exported_paper(record: dict[str, Any]) -> Paper:
    """papercli's own export: every field as written, the default arXiv URL dropped again."""
    values = {name: record[name] for name in _PAPER_FIELDS}
    for name, value in values.items():
        _check_type(name, value)
    for name in ("id", "title"):
        if not values[name].strip():
            raise ValueError(f"empty {name}")
    paper = Paper(**values)
    if paper.url == f"https://arxiv.org/abs/{paper.id}":
        paper.url = None
    return paper


def _check_type(name: str, value: Any) -> None:
    if name in _LIST_FIELDS:
        good = isinstance(value, list) and all(isinstance(item, str) for item in value)
        expected = "a list of strings"
    elif name in _INT_FIELDS:
        good = value is None or (
            isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
        )
        expected = "a whole number or null"  # and within 64 bits, as SQLite stores it
    else:
        good = isinstance(value, str) or (value is None and name not in ("id", "title"))
        expected = "a string" if name in ("id", "title") else "a string or null"
    if not good:
        raise ValueError(f"{name!r} should be {expected}")


def _foreign_paper(record: dict[str, Any]) -> Paper:
    title = _text(_field(record, "title"))
    if not title:
        raise ValueError("no title")
    paper_id, version = _identify(_field(record, "id"), title)
    versions = _versions(record.get("versions"))
    categories = _categories(record.get("categories"))
    url = _text(_field(record, "url")) or _text(_field(record, "abs"))
    return Paper(
        id=paper_id,
        title=title,
        authors=_authors(record),
        abstract=_text(_field(record, "abstract")) or _text(_field(record, "summary")) or "",
        version=version or _int(record.get("version")) or (versions[-1][0] if versions else None),
        categories=categories,
        primary_category=_text(_field(record, "primary_category"))
        or (categories[0] if categories else None),
        published=_day(record.get("published")) or (versions[0][1] if versions else None),
        updated=_day(record.get("updated"))
        or (versions[-1][1] if versions else None)
        or _day(record.get("update_date")),
        comments=_text(_field(record, "comments")) or _text(_field(record, "comment")),
        journal_ref=_text(_field(record, "journal_ref")) or _text(_field(record, "journal-ref")),
        doi=_text(_field(record, "doi")),
        announce_type=_text(_field(record, "announce_type")),
        url=None if url in (None, f"https://arxiv.org/abs/{paper_id}") else url,
    )


def _field(record: dict[str, Any], name: str) -> str | None:
    """A text field, which must be a string (or null) when present."""
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name!r} should be a string")
    return value


def _identify(raw_id: str | None, title: str) -> tuple[str, int | None]:
    """'2503.11731v2' -> ('2503.11731', 2); no id -> a local id from the title."""
    if raw_id is None or not raw_id.strip():
        return local_id(title), None
    try:
        return split_arxiv_id(raw_id)
    except ValueError:
        return raw_id.strip(), None


def _authors(record: dict[str, Any]) -> list[str]:
    authors = record.get("authors")
    if isinstance(authors, str):
        return split_authors(authors)
    if isinstance(authors, list):
        names = (
            _text(author.get("name") if isinstance(author, dict) else author) for author in authors
        )
        return [name for name in names if name]
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list):
        names = (_parsed_name(parts) for parts in parsed)
        return [name for name in names if name]
    return []


def split_authors(text: str) -> list[str]:
    """An author string as arXiv writes it, split into names; affiliations in parentheses go.

    `A. Smith (MIT), B. Jones, and C. Wu` -> ['A. Smith', 'B. Jones', 'C. Wu'].
    """
    names = _outside_parentheses(text) if "(" in text or ")" in text else text.split(",")
    split = (
        part for name in names for part in (_AND.split(f" {name} ") if "and" in name else (name,))
    )
    cleaned = (" ".join(_LEADING_AND.sub("", part.strip()).split()) for part in split)
    return [name for name in cleaned if name]


_AND = re.compile(r"\s+and\s+")
_LEADING_AND = re.compile(r"^and\s+")


def _outside_parentheses(text: str) -> list[str]:
    """The comma-separated parts of `text`, parenthesised text left out (a character at a time:
    only the lines that hold a parenthesis pay for it)."""
    names: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth = max(0, depth + (char == "(") - (char == ")"))
        if depth == 0 and char == ",":
            names.append("".join(current))
            current = []
        elif depth == 0 and char != ")":
            current.append(char)
    names.append("".join(current))
    return names


def _parsed_name(parts: Any) -> str | None:
    """arXiv's authors_parsed entry [last, first, suffix] -> 'first last suffix'."""
    if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
        return None
    last, first, suffix = ([*parts, "", "", ""])[:3]
    return " ".join(" ".join((first, last, suffix)).split()) or None


def _categories(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []


def _versions(value: Any) -> list[tuple[int | None, str | None]]:
    """arXiv dump versions -> [(number, ISO date)], oldest first."""
    if not isinstance(value, list):
        return []
    versions = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        match = _VERSION.fullmatch(str(entry.get("version", "")))
        versions.append((int(match[1]) if match else None, _rfc_day(entry.get("created"))))
    return versions


def _rfc_day(value: Any) -> str | None:
    """'Mon, 2 Apr 2007 19:18:42 GMT' -> '2007-04-02'."""
    if not isinstance(value, str):
        return None
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return _day(value)


def _day(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and _ISO_DATE.match(value) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    """Whitespace folded (arXiv wraps titles and abstracts at 80 columns); '' -> None."""
    if not isinstance(value, str):
        return None
    if not _folded(value):
        value = " ".join(value.split())
    return value or None


# What str.split() cuts at, besides the space (a test holds these to str.isspace).
_ASCII_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_OTHER_SPACES = (
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _folded(text: str) -> bool:
    """Is `text` what folding its whitespace gives? A file papercli wrote, or one of folded
    abstracts, is: scanning for what folding changes costs a quarter of folding (an abstract is
    split into some 200 words and joined again)."""
    if text[:1] == " " or text[-1:] == " " or "  " in text:
        return False
    if any(space in text for space in _ASCII_SPACES):
        return False
    return text.isascii() or not any(space in text for space in _OTHER_SPACES)


def _leading_lines(data: bytes) -> Iterator[bytes]:
    """Lines from the start of `data`, without splitting all of a big body."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        line = data[start:end]
        if line.strip():
            yield line
        start = end + 1


def _line_error(number: int, problem: str) -> ParseError:
    return ParseError(f"{JSONL_SOURCE}, line {number}: {problem}", hint="fix or remove that line")


# --- plain text ------------------------------------------------------------------------------

_TITLE_MAX = 300
_ABSTRACT_MIN = 100
_ARXIV_IN_TITLE = re.compile(
    r"[\[(]?\s*(?:arXiv:\s*|https?://(?:www\.)?(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/)?"
    r"(\d{4}\.\d{4,5})(?:v(\d+))?\s*[\])]?",
    re.IGNORECASE,
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_LINES = (
    # 'Jul 31', 'July 31, 2024', 'Wed, Jul 31 2024'
    re.compile(
        rf"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:,?\s+(?P<year>\d{{4}}))?",
        re.IGNORECASE,
    ),
    # '31 Jul', '31 July 2024'
    re.compile(rf"(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\.?(?:,?\s+(?P<year>\d{{4}}))?", re.I),
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"),
)


def sniff_text(data: bytes) -> bool:
    """Is this plain text (not markup, not JSON) holding at least one title and abstract?"""
    if b"\x00" in data[:8192] or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"<", b"{", b"["):
        return False
    return bool(_read_text(_decode(data))[0])


def parse_text(data: bytes, *, url: str | None = None) -> Page:
    """Read the text of a Daily Papers page: header, then title / abstract paragraph pairs.

    A page title ("Daily Papers") and a date line ("Jul 31") are looked for in the header; the
    date becomes `Page.date` only when it has a year, and is kept in `Page.title` either way.
    """
    papers, header = _read_text(_decode(data))
    title, day, when = _header_facts(header)
    label = ", ".join(part for part in (title, when) if part) or None
    return Page(kind=TEXT_KIND, papers=papers, date=day, title=label)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _paragraphs(text: str) -> list[list[str]]:
    """Blocks separated by blank lines, each a list of its stripped, non-empty lines."""
    blocks = (block.split("\n") for block in re.split(r"\n[ \t\f\v]*\n", text))
    stripped = ([" ".join(line.split()) for line in block] for block in blocks)
    return [lines for lines in ([line for line in block if line] for block in stripped) if lines]


def _read_text(text: str) -> tuple[list[Paper], list[str]]:
    """(papers, header lines). A title is the short line right before an abstract paragraph;
    short lines anywhere else are page furniture (header, buttons, footer) and are skipped."""
    blocks = _paragraphs(text)
    papers: list[Paper] = []
    header: list[str] = []
    in_abstract = False
    index = 0
    while index < len(blocks):
        block = blocks[index]
        joined = " ".join(block)
        following = blocks[index + 1] if index + 1 < len(blocks) else []
        after_abstract, in_abstract, step = in_abstract, True, 1
        if _is_title(joined) and _is_abstract_block(following):
            papers.append(_text_paper(joined, " ".join(following)))
            step = 2
        elif _is_paper_block(block):
            papers.append(_text_paper(block[0], block[1]))
        elif after_abstract and _is_abstract_block(block):
            papers[-1].abstract += "\n\n" + joined  # an abstract of several paragraphs
        else:
            in_abstract = False
            if not papers:
                header.extend(block)
        index += step
    return papers, header


def _is_paper_block(block: list[str]) -> bool:
    """A title line and its abstract with no blank line between them."""
    return len(block) == 2 and _is_title(block[0]) and _is_abstract(block[1])


def _is_abstract_block(block: list[str]) -> bool:
    return bool(block) and not _is_paper_block(block) and _is_abstract(" ".join(block))


def _is_title(text: str) -> bool:
    return (
        0 < len(text) <= _TITLE_MAX
        and not text.endswith(".")
        and any(char.isalpha() for char in text)
    )


def _is_abstract(text: str) -> bool:
    return len(text) >= _ABSTRACT_MIN and (len(text) > _TITLE_MAX or not _is_title(text))


def _text_paper(title_line: str, abstract: str) -> Paper:
    match = _ARXIV_IN_TITLE.search(title_line)
    if match:
        title = " ".join((title_line[: match.start()] + " " + title_line[match.end() :]).split())
        title = title.strip(" -–—:|·") or title_line
        version = int(match[2]) if match[2] else None
        return Paper(id=match[1], title=title, abstract=abstract, version=version)
    return Paper(id=local_id(title_line), title=title_line, abstract=abstract)


def _header_facts(header: list[str]) -> tuple[str | None, str | None, str | None]:
    """(page title, ISO date or None, the date as written) from the header lines."""
    day = when = None
    for line in header:
        parsed = _parse_date_line(line)
        if parsed:
            when, day = line, parsed[0]
    titles = [line for line in header if _is_heading(line) and not _parse_date_line(line)]
    return (titles[-1] if titles else None), day, when


def _is_heading(line: str) -> bool:
    """A page heading reads like 'Daily Papers': two or more capitalised words, no end stop."""
    words = line.split()
    return (
        2 <= len(words) <= 8
        and line[-1].isalnum()
        and all(word[0].isupper() or not word[0].isalpha() for word in words)
    )


def _parse_date_line(line: str) -> tuple[str | None] | None:
    """('2024-07-31',) for a date line with a year, (None,) without one, None if not a date."""
    for pattern in _DATE_LINES:
        match = pattern.fullmatch(line.strip())
        if not match:
            continue
        month = match["month"]
        number = int(month) if month.isdigit() else _MONTHS[month.lower()]
        try:
            day = Date(int(match["year"] or 2000), number, int(match["day"]))
        except ValueError:
            continue
        return (day.isoformat() if match["year"] else None,)
    return None


# --- the source ----------------------------------------------------------------------------


class SavedFile:
    """A path to a saved page or file of any kind papercli reads, recognised by its content."""

    prefix = "file"
    aliases: tuple[str, ...] = ()
    sniffers = ((sniff_jsonl, parse_jsonl), (sniff_text, parse_text))

    def parse_name(self, rest: str) -> SourceSpec:
        if not rest:
            raise UsageError("`file` needs a path", hint="e.g. file:saved-page.html")
        return spec("file", rest)

    def name(self, source: SourceSpec) -> str:
        """The absolute path, so the same file has one name from any directory."""
        return str(Path(source.target).expanduser().absolute())

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        return [spec("file", arg) for arg in args]

    def from_url(self, url: str) -> SourceSpec | None:
        return None

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        from papercli.sources.detect import iter_file_pages

        yield from iter_file_pages(Path(source.target).expanduser(), max_bytes=fetch.max_bytes)


SOURCE = SavedFile()
