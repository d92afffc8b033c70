"""The reader's own library files read as library entries, matched to the papers in the store.

Three kinds of file, told apart by their content:

- BibTeX, as Zotero, Mendeley, JabRef and Google Scholar export it (parsed by bibtexparser, LaTeX
  decoded): the arXiv id comes from `eprint` (with `archivePrefix`/`eprinttype` arXiv, or one
  that reads as an arXiv id), an arxiv.org `url`, a `doi` 10.48550/arXiv.X, or "arXiv:X" in
  `journal`/`note`/`number`/`howpublished` (Google Scholar writes "arXiv preprint arXiv:X");
- CSL-JSON, Zotero's other export (a list of items): `number` "arXiv:X", `URL`, `DOI`;
- a text file of arXiv ids or URLs, one a line (`#` starts a comment).

Each entry is matched to a stored paper by its arXiv id, then by its folded title
("Attention Is {All} You Need" is "attention is all you need"); an entry not in the store keeps
its own title and abstract as the text to learn from.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercli.errors import ParseError
from papercli.models import Paper, local_id, split_arxiv_id
from papercli.personal.names import strip_accents
from papercli.personal.signals import LibraryEntry, Signals

_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv(?:\.org)?[:\s./]*(?:abs/|pdf/)?|10\.48550/arxiv\.)"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)",
    re.IGNORECASE,
)
_BARE_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")


@dataclass
class Candidate:
    """One entry as the file gives it, before matching."""

    label: str  # how the report names it: the BibTeX key, the CSL id, the line number
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    # BibTeX's abstract as written: decoded only for an entry that keeps its own text (most
    # match a stored paper, and decoding LaTeX is what made reading a large export slow).
    latex_abstract: str = ""

    def own_abstract(self) -> str:
        """The abstract as text."""
        return _clean(_decode_latex(self.latex_abstract)) if self.latex_abstract else self.abstract


@dataclass
class Skipped:
    label: str
    reason: str


@dataclass
class FileRead:
    """What one file gave: candidates, and what could not be read at all (with why)."""

    path: Path
    kind: str  # bibtex, csl-json, ids
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def read_file(path: Path) -> FileRead:
    """The entries of one library file; raises ParseError when it cannot be read at all, and
    UsageError when there is no such file (as `fetch` does)."""
    from papercli.errors import UsageError

    if not path.is_file():
        what = "a directory" if path.is_dir() else "no such file"
        raise UsageError(f"{path}: {what}", hint="give a BibTeX, CSL-JSON or text file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(
            f"cannot read library file {path}: {exc}",
            hint="give a BibTeX, CSL-JSON or text file in UTF-8",
        ) from exc
    if re.match(r"\s*TY  - ", text):  # RIS: its lines would read as ids that are not there
        raise ParseError(
            f"{path} is a RIS file, which papercli does not read",
            hint="export the collection as BibTeX or CSL-JSON",
        )
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        return read_csl_json(path, text)
    if re.search(r"^\s*@\w+\s*[{(]", text, re.MULTILINE):
        return read_bibtex(path, text)
    return read_id_list(path, text)


def arxiv_id_in(text: str | None) -> str | None:
    """The arXiv id a field names, without version.

    'arXiv preprint arXiv:1706.03762' -> '1706.03762'; 'http://arxiv.org/abs/2411.12345v2' ->
    '2411.12345'; '10.48550/arXiv.2301.00001' -> '2301.00001'; 'hep-th/9901001' -> the same.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = _ARXIV_IN_TEXT.search(text)
    if match:
        return split_arxiv_id(match.group(1))[0]
    if _BARE_ID.match(text):
        return split_arxiv_id(text)[0]
    return None


# The BibTeX fields papercli reads (decoded from LaTeX when they hold any), but the abstract.
_BIBTEX_FIELDS = frozenset(
    [
        "title",
        "author",
        "eprint",
        "archiveprefix",
        "eprinttype",
        "url",
        "doi",
        "journal",
        "note",
        "number",
        "howpublished",
        "archivenumber",
    ]
)
# Text with none of these reads the same before and after LaTeX decoding (checked in the tests).
_LATEX = re.compile(r"[\\{}$%~&#^_`]|--|''")
_decoder: Any = None


def _decode_latex(value: str) -> str:
    """LaTeX to text with the decoder bibtexparser's LatexDecodingMiddleware builds (math kept
    as written, \\url{x} as x); text without LaTeX as it is. Only the fields papercli reads
    are decoded, not every field of every entry as that middleware does."""
    global _decoder
    if not _LATEX.search(value):
        return value
    if _decoder is None:
        from pylatexenc.latex2text import (
            LatexNodes2Text,
            MacroTextSpec,
            get_default_latex_context_db,
        )

        context = get_default_latex_context_db()
        context.add_context_category(
            "papercli-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
        )
        _decoder = LatexNodes2Text(
            latex_context=context, keep_braced_groups=False, math_mode="verbatim"
        )
    try:
        return str(_decoder.latex_to_text(value))
    except Exception:  # the middleware too keeps a value it cannot decode
        return value


def read_bibtex(path: Path, text: str) -> FileRead:
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock

    # The parser logs each bad block as a warning; papercli reports them in its own summary.
    parser_log = logging.getLogger("bibtexparser")
    level = parser_log.level
    parser_log.setLevel(logging.ERROR)
    try:
        library = bibtexparser.parse_string(text)
    finally:
        parser_log.setLevel(level)
    found = FileRead(path, "bibtex")
    for block in library.failed_blocks:
        line = getattr(block, "start_line", 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            found.skipped.append(Skipped(f"{block.key} (line {line})", "duplicate key"))
        else:
            found.skipped.append(Skipped(f"line {line}", "not a readable BibTeX entry"))
    for entry in library.entries:
        fields = {
            key.lower(): _decode_latex(str(f.value)) if key.lower() in _BIBTEX_FIELDS else ""
            for key, f in entry.fields_dict.items()
        }
        raw_abstract = next(
            (str(f.value) for key, f in entry.fields_dict.items() if key.lower() == "abstract"), ""
        )
        found.candidates.append(
            Candidate(
                label=entry.key,
                title=_clean(fields.get("title")),
                authors=[_clean(a) for a in re.split(r"\s+and\s+", fields.get("author", "")) if a],
                arxiv_id=_bibtex_arxiv_id(fields),
                latex_abstract=raw_abstract,
            )
        )
    return found


def _bibtex_arxiv_id(fields: dict[str, str]) -> str | None:
    eprint = fields.get("eprint", "")
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    if eprint and (prefix == "arxiv" or _BARE_ID.match(eprint.strip())):
        found = arxiv_id_in(eprint)
        if found:
            return found
    for name in ("url", "doi", "journal", "note", "number", "howpublished", "archivenumber"):
        found = arxiv_id_in(fields.get(name))
        if found and (name != "doi" or "10.48550" in fields[name]):
            return found
    return None


def read_csl_json(path: Path, text: str) -> FileRead:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"{path} is not valid CSL-JSON ({exc.msg} at line {exc.lineno})",
            hint="export it again from your reference manager",
        ) from None
    items = data if isinstance(data, list) else data.get("items", [data])
    found = FileRead(path, "csl-json")
    for number, item in enumerate(items, 1):
        label = str(item.get("id", f"item {number}")) if isinstance(item, dict) else f"#{number}"
        if not isinstance(item, dict):
            found.skipped.append(Skipped(label, "not a CSL-JSON item"))
            continue
        arxiv_id = None
        for name in ("number", "URL", "DOI", "archive_location", "container-title", "note"):
            value = item.get(name)
            arxiv_id = arxiv_id_in(value if isinstance(value, str) else None)
            if arxiv_id and (name != "DOI" or "10.48550" in str(value)):
                break
            arxiv_id = None
        found.candidates.append(
            Candidate(
                label=label,
                title=_clean(_text(item.get("title"))),
                abstract=_clean(_text(item.get("abstract"))),
                authors=[_csl_name(a) for a in item.get("author") or [] if isinstance(a, dict)],
                arxiv_id=arxiv_id,
            )
        )
    return found


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _csl_name(author: dict[str, Any]) -> str:
    """{'family': 'Vaswani', 'given': 'Ashish'} -> 'Ashish Vaswani'; {'literal': 'X'} -> 'X'."""
    if author.get("literal"):
        return str(author["literal"])
    return " ".join(str(author[k]) for k in ("given", "family") if author.get(k))


def read_id_list(path: Path, text: str) -> FileRead:
    found = FileRead(path, "ids")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("http") else line
        line = line.strip()
        if not line:
            continue
        arxiv_id = arxiv_id_in(line) or _from_url(line)
        if arxiv_id is None:
            found.skipped.append(Skipped(f"line {number}", f"no arXiv id in {line[:60]!r}"))
        else:
            found.candidates.append(Candidate(label=f"line {number}", arxiv_id=arxiv_id))
    return found


def _from_url(text: str) -> str | None:
    """'https://huggingface.co/papers/2411.12345' -> '2411.12345'."""
    if "://" not in text:
        return None
    try:
        return split_arxiv_id(text.rstrip("/").split("#")[0].split("?")[0])[0]
    except ValueError:
        return None


def _clean(text: str | None) -> str:
    """Braces (BibTeX's case protection) dropped and white space collapsed."""
    return " ".join((text or "").replace("{", "").replace("}", "").split())


# --- matching ---------------------------------------------------------------------------------


def fold_title(title: str) -> str:
    """A title reduced to what two spellings of it share: case, accents, LaTeX, hyphens,
    spaces and punctuation.

    'Attention Is {All} You Need.' -> 'attentionisallyouneed';
    'ΛCDM: Über-Tests' and '$\\Lambda$CDM: Uber tests' -> 'lambdacdmubertests'
    """
    text = re.sub(r"\\([A-Za-z]+)", r"\1", title)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = strip_accents("".join(_GREEK.get(c, c) for c in text))
    return "".join(re.findall(r"[a-z0-9]+", text))


_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρστυφχψω",
        [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "epsilon",
            "zeta",
            "eta",
            "theta",
            "iota",
            "kappa",
            "lambda",
            "mu",
            "nu",
            "xi",
            "omicron",
            "pi",
            "rho",
            "sigma",
            "tau",
            "upsilon",
            "phi",
            "chi",
            "psi",
            "omega",
        ],
        strict=True,
    )
)


@dataclass
class AddReport:
    """What `library add` did: read = matched + kept with their own text + skipped."""

    read: int = 0
    matched: int = 0  # found in the store (by arXiv id or title)
    own_text: int = 0  # not in the store: their own title and abstract kept
    already: int = 0  # in the library before (re-adding changes nothing)
    added: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "matched": self.matched,
            "own_text": self.own_text,
            "already_in_library": self.already,
            "added": self.added,
            "skipped": [{"entry": s.label, "reason": s.reason} for s in self.skipped],
        }


def match_entries(
    reads: Sequence[FileRead], papers_by_id: dict[str, Paper], titles: dict[str, str]
) -> tuple[list[LibraryEntry], AddReport]:
    """Library entries for the files' candidates, given the store's papers by id and its ids by
    folded title; the report counts each candidate once."""
    report = AddReport()
    entries: dict[str, LibraryEntry] = {}
    for read in reads:
        report.read += len(read.candidates) + len(read.skipped)
        # With several files, a skipped "line 8" says which file's.
        where = f"{read.path.name} " if len(reads) > 1 else ""
        origin = str(read.path.expanduser().absolute())  # `library remove` finds it by this
        report.skipped += [Skipped(where + s.label, s.reason) for s in read.skipped]
        for candidate in read.candidates:
            paper = papers_by_id.get(candidate.arxiv_id or "")
            if paper is None and candidate.title:
                found = titles.get(fold_title(candidate.title))
                paper = papers_by_id.get(found) if found else None
            if paper is not None:
                report.matched += 1
                entry = LibraryEntry(
                    paper.id, paper.title, paper.abstract, paper.authors, paper.id, origin
                )
            elif candidate.title:
                report.own_text += 1
                key = candidate.arxiv_id or local_id(candidate.title)
                entry = LibraryEntry(
                    key,
                    candidate.title,
                    candidate.own_abstract(),
                    candidate.authors,
                    None,
                    origin,
                )
            else:
                reason = (
                    f"arXiv {candidate.arxiv_id} is not in the store and the file gives no title"
                    if candidate.arxiv_id
                    else "no title and no arXiv id"
                )
                report.skipped.append(Skipped(where + candidate.label, reason))
                continue
            if entry.key in entries:
                report.skipped.append(Skipped(where + candidate.label, "the same paper twice"))
                if paper is not None:
                    report.matched -= 1
                else:
                    report.own_text -= 1
                continue
            entries[entry.key] = entry
    return list(entries.values()), report


def titles_of(papers: Iterable[Paper]) -> dict[str, str]:
    """Folded title -> paper id (the first paper of a title wins)."""
    found: dict[str, str] = {}
    for paper in papers:
        found.setdefault(fold_title(paper.title), paper.id)
    return found


def add_files(signals: Signals, paths: Sequence[Path]) -> AddReport:
    """Read library files and add their entries to the store's library; see `match_entries`.

    All files are read before anything is written: a file that cannot be read adds nothing.
    """
    reads = [read_file(Path(p)) for p in paths]
    ids = [c.arxiv_id for r in reads for c in r.candidates if c.arxiv_id]
    store = signals.store
    papers = {p.id: p for p in store.papers(ids=ids)} if ids else {}
    titles: dict[str, str] = {}
    if any(c.title and c.arxiv_id not in papers for r in reads for c in r.candidates):
        everything = list(store.iter_papers())
        titles = titles_of(everything)
        papers.update({p.id: p for p in everything if p.id in titles.values()})
    entries, report = match_entries(reads, papers, titles)
    known = set(signals.library_keys())
    report.already = sum(1 for e in entries if e.key in known)
    report.added = len(signals.add_library(entries))
    return report
