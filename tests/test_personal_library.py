"""`papercli library add`: BibTeX and CSL-JSON exports as Zotero writes them, id lists, matching."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papercli.personal import library as library_module
from papercli.personal.library import (
    _LATEX,
    _clean,
    _decode_latex,
    arxiv_id_in,
    fold_title,
    read_file,
)
from papercli.personal.signals import Signals
from papercli.store import Store
from tests.cli_helpers import run_cli
from tests.conftest import ROOT
from tests.test_personal_signals import cs_store  # noqa: F401 (a fixture)

LIBRARY = ROOT / "tests" / "fixtures" / "personal"
BIB = LIBRARY / "zotero-export.bib"
CSL = LIBRARY / "zotero-export.json"
IDS = LIBRARY / "reading-list.txt"


def _add(db, *files, json_out=True):
    args = ["--db", str(db), "library", "add", *map(str, files)]
    result = run_cli(*args, "--json") if json_out else run_cli(*args)
    assert result.code == 0, result.err
    return json.loads(result.out) if json_out else result


def _library(db):
    return {e.key: e for e in Signals(Store(db)).library()}


# --- matching rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("arXiv preprint arXiv:1706.03762", "1706.03762"),  # Google Scholar's journal field
        ("arXiv:1706.03762 [cs]", "1706.03762"),  # Zotero's note field
        ("http://arxiv.org/abs/2411.12345v2", "2411.12345"),
        ("https://arxiv.org/pdf/2411.12345v1.pdf", "2411.12345"),
        ("10.48550/arXiv.2301.00001", "2301.00001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("10.1109/SLT.2018.8639530", None),
        ("Expert Systems with Applications", None),
    ],
)
def test_arxiv_ids_in_fields(text, found):
    assert arxiv_id_in(text) == found


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Attention Is {All} You Need", "Attention is all you need."),
        ("{FAST}$^2$: an {Intelligent} {Assistant}", "FAST$^2$: an Intelligent Assistant"),
        (r"On the \(p\)-Norms of Hamming Distance", "On the $p$-Norms of Hamming Distance"),
        ("ΛCDM: Über-Tests", r"$\Lambda$CDM: Uber tests"),
        ("Multi-Task Learning", "Multitask learning"),
    ],
)
def test_titles_fold_alike(a, b):
    assert fold_title(a) == fold_title(b)


def test_different_titles_stay_apart():
    assert fold_title("Learning to Rank") != fold_title("Learning to Rank Papers")


# --- BibTeX ---------------------------------------------------------------------------------


def test_bibtex_parse_reports_every_entry():
    read = read_file(BIB)
    assert read.kind == "bibtex"
    assert [c.label for c in read.candidates] == [
        "gao_large_2018",
        "gao_complementary_2018",
        "sanabria_hierarchical_2018",
        "yu_fast2_2018",
        "andre_language_2018",
        "vaswani_attention_2017",
        "sutton_reinforcement_2018",
        "gao_large_2018a",
    ]
    by_key = {c.label: c for c in read.candidates}
    assert by_key["gao_large_2018"].arxiv_id == "1804.07006"  # url and doi
    assert by_key["gao_complementary_2018"].arxiv_id == "1804.07459"  # journal
    assert by_key["andre_language_2018"].arxiv_id == "1807.07091"  # eprint
    assert by_key["andre_language_2018"].authors[0] == "André, Étienne"  # LaTeX accents
    assert (
        by_key["yu_fast2_2018"].title
        == "FAST$^2$: an Intelligent Assistant for Finding Relevant Papers"
    )
    assert by_key["sanabria_hierarchical_2018"].arxiv_id is None
    assert [(s.label, s.reason) for s in read.skipped] == [
        ("line 73", "not a readable BibTeX entry"),
        ("gao_large_2018 (line 77)", "duplicate key"),
    ]


@pytest.mark.parametrize("source", ["zotero", "astro-ph export"])
def test_bibtex_reads_as_bibtexparser_decodes_every_field(source, fixtures, tmp_path):
    """papercli decodes only the fields it reads, and only those holding LaTeX; the result is
    the same as bibtexparser's LatexDecodingMiddleware over the whole file: on the Zotero
    export, and on papercli's own export of a real astro-ph listing (math in a third of its
    abstracts)."""
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    path = BIB
    if source != "zotero":
        db, path = tmp_path / "papers.db", tmp_path / "astro.bib"
        listing = fixtures / "arxiv-list/rendered-by-arxiv-browse/astro-ph_new.html"
        assert run_cli("--db", str(db), "fetch", str(listing)).code == 0
        assert run_cli("--db", str(db), "papers", "--format", "bibtex", "-o", str(path)).code == 0
    text = path.read_text(encoding="utf-8")
    decoded = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    whole = {
        e.key: {k.lower(): str(f.value) for k, f in e.fields_dict.items()} for e in decoded.entries
    }
    candidates = read_file(path).candidates
    assert len(candidates) == len(whole)
    for candidate in candidates:
        fields = whole[candidate.label]
        assert candidate.title == _clean(fields.get("title"))
        assert candidate.own_abstract() == _clean(fields.get("abstract"))
    if source != "zotero":
        assert sum("$" in c.latex_abstract for c in candidates) >= 30  # 32 of 97 hold math


# Letters, digits, spaces and the punctuation of titles and abstracts, the near-misses included.
_TEXTISH = st.text(
    alphabet=st.sampled_from(list("aZ09 .,;:!?'\"-+=*/()[]<>@|\n\tÉßλ–“”")),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(_TEXTISH)
def test_text_without_latex_is_kept_as_it_is_by_the_decoder_too(text):
    if _LATEX.search(text):
        return
    _decode_latex("\\relax")  # builds the decoder
    assert library_module._decoder.latex_to_text(text) == text


def test_library_add_bibtex(cs_store):  # noqa: F811
    report = _add(cs_store, BIB)
    assert report == {
        "read": 10,
        "matched": 5,
        "own_text": 2,
        "already_in_library": 0,
        "added": 7,
        "skipped": [
            {"entry": "line 73", "reason": "not a readable BibTeX entry"},
            {"entry": "gao_large_2018 (line 77)", "reason": "duplicate key"},
            {"entry": "gao_large_2018a", "reason": "the same paper twice"},
        ],
    }
    library = _library(cs_store)
    # Matched by arXiv id (url/doi, journal, eprint) and by folded title (with LaTeX).
    assert {"1804.07006", "1804.07459", "1807.07091", "1807.07104", "1705.05420"} <= set(library)
    assert library["1807.07104"].paper_id == "1807.07104"
    # Not in the store: kept with their own text (an abstract, or only a title).
    attention = library["1706.03762"]
    assert attention.paper_id is None
    assert attention.abstract.startswith("The dominant sequence transduction models")
    (book,) = [e for e in library.values() if e.title.startswith("Reinforcement Learning")]
    assert book.key.startswith("title:") and book.abstract == ""
    assert book.authors == ["Sutton, Richard S.", "Barto, Andrew G."]


def test_adding_the_same_file_again_changes_nothing(cs_store):  # noqa: F811
    _add(cs_store, BIB)
    before = _library(cs_store)
    again = _add(cs_store, BIB)
    assert (again["added"], again["already_in_library"]) == (0, 7)
    assert _library(cs_store) == before


def test_library_add_summary_line(cs_store):  # noqa: F811
    result = _add(cs_store, BIB, json_out=False)
    assert result.err.splitlines()[0] == (
        "read 10: 5 matched in the store, 2 kept with their own text, 3 skipped; 7 added to the"
        " library (0 already in it)"
    )
    assert "  skipped gao_large_2018 (line 77): duplicate key" in result.err


# --- CSL-JSON and id lists --------------------------------------------------------------------


def test_library_add_csl_json(cs_store):  # noqa: F811
    report = _add(cs_store, CSL)
    assert (report["read"], report["matched"], report["own_text"], report["added"]) == (6, 2, 2, 4)
    assert report["skipped"] == [
        {"entry": "#6", "reason": "not a CSL-JSON item"},
        {
            "entry": "http://zotero.org/users/5412373/items/ZZ0NOTIT",
            "reason": "no title and no arXiv id",
        },
    ]
    library = _library(cs_store)
    assert library["1804.08208"].paper_id == "1804.08208"  # container-title "arXiv:ID [cs]"
    assert library["1807.06469"].paper_id == "1807.06469"  # title with \(p\) vs $p$
    gan = library["1807.07133"]  # number "arXiv:..."; not in this store: its own text
    assert gan.paper_id is None and gan.abstract.startswith("Powerful generative adversarial")
    assert gan.authors[0] == "Osaid Rehman Nasir"


def test_library_add_id_list(cs_store):  # noqa: F811
    report = _add(cs_store, IDS)
    assert (report["read"], report["matched"], report["added"]) == (6, 4, 4)
    assert report["skipped"] == [
        {"entry": "line 7", "reason": "no arXiv id in 'ask Bob about the GAN paper'"},
        {
            "entry": "line 6",
            "reason": "arXiv 2411.99999 is not in the store and the file gives no title",
        },
    ]
    assert set(_library(cs_store)) == {"1807.07104", "1807.07091", "1804.07006", "1807.06469"}


def test_a_file_that_cannot_be_read_adds_nothing(cs_store, tmp_path):  # noqa: F811
    bad = tmp_path / "export.bib"
    bad.write_bytes(b"@article{x, title={Caf\xe9}}")  # Latin-1, not UTF-8
    result = run_cli("--db", str(cs_store), "library", "add", str(BIB), str(bad))
    assert result.code == 5
    assert result.err.startswith(f"Error: cannot read library file {bad}:")
    assert _library(cs_store) == {}


def test_a_missing_file_or_a_directory_is_a_usage_error(cs_store, tmp_path):  # noqa: F811
    for path, what in ((tmp_path / "nope.bib", "no such file"), (tmp_path, "a directory")):
        result = run_cli("--db", str(cs_store), "library", "add", str(BIB), str(path))
        assert (result.code, result.err) == (
            2,
            f"Error: {path}: {what}; give a BibTeX, CSL-JSON or text file\n",
        )
    assert _library(cs_store) == {}


def test_a_ris_export_is_refused_not_read_as_ids(cs_store, tmp_path):  # noqa: F811
    ris = tmp_path / "zotero.ris"  # Zotero's RIS export of one preprint
    ris.write_text(
        "TY  - PREP\nTI  - Attention Is All You Need\nAU  - Vaswani, Ashish\n"
        "UR  - http://arxiv.org/abs/1706.03762\nER  - \n",
        encoding="utf-8",
    )
    result = run_cli("--db", str(cs_store), "library", "add", str(ris))
    assert result.code == 5
    assert result.err.startswith(f"Error: {ris} is a RIS file, which papercli does not read;")


def test_library_list_and_remove_by_key_or_by_file(cs_store):  # noqa: F811
    db = str(cs_store)
    added = run_cli("--db", db, "library", "add", str(BIB), str(IDS))
    assert added.code == 0
    # Two files: each skipped entry says which file it is in.
    assert (
        "  skipped reading-list.txt line 7: no arXiv id in 'ask Bob about the GAN paper'"
        in added.err
    )
    assert "  skipped zotero-export.bib line 73: not a readable BibTeX entry" in added.err
    listed = [
        json.loads(line)
        for line in run_cli("--db", db, "library", "list", "--json").out.splitlines()
    ]
    assert {e["key"] for e in listed} == set(_library(cs_store))
    assert {e["file"] for e in listed} == {str(BIB), str(IDS)}
    from_ids = {e["key"] for e in listed if e["file"] == str(IDS)}
    # Unknown names change nothing, and are named.
    bad = run_cli("--db", db, "library", "remove", "1804.07006", "nope.bib")
    assert (bad.code, bad.err.splitlines()[0]) == (
        2,
        "Error: not in the library: nope.bib; `papercli library list` shows its keys and files",
    )
    assert len(_library(cs_store)) == len(listed)
    assert run_cli("--db", db, "library", "remove", "https://arxiv.org/abs/1804.07006v2").code == 0
    assert run_cli("--db", db, "library", "remove", str(IDS)).code == 0
    assert set(_library(cs_store)) == {e["key"] for e in listed} - from_ids - {"1804.07006"}
    table = run_cli("--db", db, "library", "list").out
    assert "Attention Is All You Need" in table and "own text" in table


def test_library_remove_keys_pasted_together_and_files_of_one_name(cs_store, tmp_path):  # noqa: F811
    db = str(cs_store)
    for folder, paper in (("a", "1807.07091"), ("b", "1807.07104")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "refs.txt").write_text(paper + "\n")
        assert run_cli("--db", db, "library", "add", str(tmp_path / folder / "refs.txt")).code == 0
    assert run_cli("--db", db, "library", "add", str(BIB)).code == 0
    same = run_cli("--db", db, "library", "remove", "refs.txt")
    assert same.code == 2 and same.err.startswith(
        "Error: 2 files of the library are named refs.txt"
    )
    assert run_cli("--db", db, "library", "remove", str(tmp_path / "a" / "refs.txt")).code == 0
    assert "1807.07091" not in _library(cs_store) and "1807.07104" in _library(cs_store)
    pasted = run_cli("--db", db, "library", "remove", "1706.03762, 1804.07006;1804.07459")
    assert pasted.code == 0, pasted.err
    assert not {"1706.03762", "1804.07006", "1804.07459"} & set(_library(cs_store))
