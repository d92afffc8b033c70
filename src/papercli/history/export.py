"""Papers as citation and data files: BibTeX, CSL-JSON, JSON lines and CSV, as text.

BibTeX follows arXiv's own export (@misc with eprint, archivePrefix, primaryClass, url), so
reference managers file the entries as arXiv preprints; CSL-JSON is what Zotero and pandoc
import. Nothing here writes a file: the caller decides where the text goes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from papercli.errors import UsageError
from papercli.models import Paper

EXPORT_FORMATS = ("bibtex", "csl-json", "jsonl", "csv")
EXTENSIONS = {"bibtex": "bib", "csl-json": "json", "jsonl": "jsonl", "csv": "csv"}
# What JSON lines and CSV carry, in this order.
FIELDS = (
    "id", "version", "title", "authors", "abstract", "categories", "primary_category",
    "published", "updated", "doi", "journal_ref", "comments", "url", "first_seen", "sources",
)  # fmt: skip

_NEW_ID = re.compile(r"(\d{2})(\d{2})\.\d{4,5}")
_OLD_ID = re.compile(r"[a-z\-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}")
# Name words that belong to the family name ('Ludwig van Beethoven' -> family 'van Beethoven').
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "le", "la"}
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_MATH = re.compile(r"\$[^$]+\$")
# TeX commands that read or write files or redefine others: math holding one is escaped whole.
_UNSAFE_IN_MATH = re.compile(
    r"\\(?:input|include|write|immediate|openin|openout|read|special|catcode|csname|let"
    r"|[egx]?def|(?:re)?newcommand|usepackage|directlua|url)(?![A-Za-z])"
)


def export(papers: Sequence[Paper], fmt: str) -> str:
    """`papers` in format `fmt` (one of EXPORT_FORMATS), as the text of one file."""
    writers: dict[str, Callable[[Sequence[Paper]], str]] = {
        "bibtex": to_bibtex,
        "csl-json": to_csl_json,
        "jsonl": to_jsonl,
        "csv": to_csv,
    }
    if fmt not in writers:
        raise UsageError(
            f"unknown export format {fmt!r}", hint=f"use one of {', '.join(EXPORT_FORMATS)}"
        )
    return writers[fmt](papers)


# --- keys and dates ------------------------------------------------------------------------------


def year_of(paper: Paper) -> int | None:
    """The year of the first version: from the arXiv id when it has one, else from the dates.

    '1706.03762' -> 2017; 'hep-th/9901001' -> 1999; a title-only paper published 2024-08-01 -> 2024.
    """
    match = _NEW_ID.fullmatch(paper.id) or _OLD_ID.fullmatch(paper.id)
    if match:
        yy = int(match.group(1))
        return 1900 + yy if yy >= 91 else 2000 + yy
    for day in (paper.published, paper.first_seen):
        if day and re.match(r"\d{4}", day):
            return int(day[:4])
    return None


def _ascii_word(text: str) -> str:
    """'Müller-Lüdenscheidt' -> 'mullerludenscheidt'; letters only, accents dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


def cite_key(paper: Paper) -> str:
    """A BibTeX key that stays the same across versions and exports and is unique per paper:
    first author's family name, year, then the arXiv id.

    Vaswani et al., 1706.03762 -> 'vaswani2017_1706.03762'; hep-th/9901001 -> '..._hep-th-9901001';
    a paper without an arXiv id ends in its stored id's hash ('..._title-0123abcd4567').
    """
    family = _split_name(paper.authors[0])[1] if paper.authors else ""
    name = _ascii_word(family.split()[-1] if family else "") or "anon"
    year = year_of(paper)
    suffix = re.sub(r"[^A-Za-z0-9.\-]+", "-", paper.id).strip("-")
    return f"{name}{year or ''}_{suffix}"


def _split_name(name: str) -> tuple[str, str]:
    """(given, family) of a name as listings write it.

    'Ashish Vaswani' -> ('Ashish', 'Vaswani'); 'Ludwig van Beethoven' -> ('Ludwig', 'van
    Beethoven'); 'Vaswani, Ashish' -> ('Ashish', 'Vaswani'); 'OpenAI' -> ('', 'OpenAI').
    """
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        return given.strip(), family.strip()
    words = name.split(" ")
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


# --- BibTeX --------------------------------------------------------------------------------------


def latex_escape(text: str) -> str:
    """Text as a BibTeX field value: LaTeX specials escaped, inline math ($...$) kept as it is
    when its braces balance and it reads or defines nothing (no \\input, \\def, ...), so the
    entry always parses, prints what the title says and cannot run TeX commands.

    'Q&A for 50% of C_n' -> 'Q\\&A for 50\\% of C\\_n'; '$\\Lambda$CDM' stays '$\\Lambda$CDM';
    'a {b' -> 'a \\{b'.
    """
    out: list[str] = []
    last = 0
    for match in _MATH.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        math = match.group(0)
        safe = _balanced(math) and not _UNSAFE_IN_MATH.search(math)
        out.append(math if safe else _escape_plain(math))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def _balanced(text: str) -> bool:
    depth = 0
    for i, char in enumerate(text):
        if char in "{}" and i and text[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _bib_name(name: str) -> str:
    """One author for an `and`-separated list; a name holding ' and ' is braced whole."""
    escaped = latex_escape(" ".join(name.split()))
    return "{" + escaped + "}" if re.search(r"\band\b", escaped, re.IGNORECASE) else escaped


def bibtex_entry(paper: Paper) -> str:
    """One @misc entry in the shape arXiv's own BibTeX export uses (plus doi and abstract)."""
    fields: list[tuple[str, str]] = [
        ("title", latex_escape(" ".join(paper.title.split()))),
        ("author", " and ".join(_bib_name(a) for a in paper.authors if a.strip())),
    ]
    year = year_of(paper)
    if year:
        fields.append(("year", str(year)))
    if not paper.id.startswith("title:"):
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        primary = paper.primary_category or (paper.categories[0] if paper.categories else None)
        if primary:
            fields.append(("primaryClass", primary))
    if paper.doi:
        fields.append(("doi", latex_escape(paper.doi)))
    if paper.abs_url:
        fields.append(("url", _url_value(paper.abs_url)))
    if paper.abstract.strip():
        fields.append(("abstract", latex_escape(" ".join(paper.abstract.split()))))
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
    return f"@misc{{{cite_key(paper)},\n{body}}}\n"


def _url_value(url: str) -> str:
    """A URL as BibTeX reads it: braces and backslashes cannot appear (they would unbalance)."""
    return re.sub(r"[{}\\\s]", lambda m: f"%{ord(m.group(0)):02X}", url)


def to_bibtex(papers: Sequence[Paper]) -> str:
    return "\n".join(bibtex_entry(paper) for paper in papers)


# --- CSL-JSON ------------------------------------------------------------------------------------


def _csl_name(name: str) -> dict[str, str]:
    given, family = _split_name(name)
    if not given:
        return {"literal": family}
    particle = [w for w in family.split(" ")[:-1] if w.lower() in _PARTICLES]
    if particle:
        return {
            "family": family.split(" ")[-1],
            "given": given,
            "non-dropping-particle": " ".join(particle),
        }
    return {"family": family, "given": given}


def _date_parts(paper: Paper) -> list[int] | None:
    """[2024, 8, 1] from published '2024-08-01'; else [2017, 6] from the id 1706.03762."""
    if paper.published and re.match(r"\d{4}-\d{2}-\d{2}", paper.published):
        return [int(part) for part in paper.published[:10].split("-")]
    match = _NEW_ID.fullmatch(paper.id) or _OLD_ID.fullmatch(paper.id)
    if match:
        year = year_of(paper)
        return [year, int(match.group(2))] if year else None
    year = year_of(paper)
    return [year] if year else None


def csl_item(paper: Paper) -> dict[str, Any]:
    """One CSL-JSON item; Zotero files type 'article' with publisher arXiv as a preprint, and
    reads `number` as its archive ID."""
    item: dict[str, Any] = {
        "id": cite_key(paper),
        "type": "article",
        "title": " ".join(paper.title.split()),
        "author": [_csl_name(a) for a in paper.authors if a.strip()],
    }
    parts = _date_parts(paper)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if not paper.id.startswith("title:"):
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{paper.id}"
    if paper.version:
        item["version"] = str(paper.version)
    if paper.abstract.strip():
        item["abstract"] = " ".join(paper.abstract.split())
    if paper.abs_url:
        item["URL"] = paper.abs_url
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.categories:
        item["keyword"] = ", ".join(paper.categories)
    if paper.comments:
        item["note"] = paper.comments
    return item


def to_csl_json(papers: Sequence[Paper]) -> str:
    return json.dumps([csl_item(p) for p in papers], ensure_ascii=False, indent=2) + "\n"


# --- JSON lines and CSV --------------------------------------------------------------------------


def _record(paper: Paper) -> dict[str, Any]:
    data = paper.to_dict()
    return {name: data[name] for name in FIELDS}


def to_jsonl(papers: Sequence[Paper]) -> str:
    return "".join(json.dumps(_record(p), ensure_ascii=False) + "\n" for p in papers)


def to_csv(papers: Sequence[Paper]) -> str:
    """A header row, then one row per paper; lists joined with '; ' (authors, categories)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for paper in papers:
        record = _record(paper)
        writer.writerow(
            [_cell("; ".join(v) if isinstance(v, list) else ("" if v is None else v))
             for v in record.values()]
        )  # fmt: skip
    return buffer.getvalue()


def _cell(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula (OWASP's CSV injection advice):
    '=HYPERLINK("http://x")' -> "'=HYPERLINK(\"http://x\")"; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
