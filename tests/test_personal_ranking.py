"""`digest --rank personal`: order, cut, reasons in every format, followed authors, cold start."""

from __future__ import annotations

import email
import json

import pytest

from papercli.personal.model import Scorer
from papercli.personal.ranking import NO_POSITIVES, NO_SIGNALS, NOTHING_TO_TELL_FROM, current_model
from papercli.personal.signals import Signals
from papercli.store import Store
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES
from tests.test_personal_library import BIB
from tests.test_personal_signals import CS_2018, cs_store  # noqa: F401 (a fixture)


def _json(db, *args):
    result = run_cli("--db", str(db), "digest", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out), result.err


def _order(data):
    return [(e["id"], e["score"]) for e in data["papers"] + data["more"] + data["updates"]]


@pytest.fixture
def seeded(cs_store):  # noqa: F811
    """The 2018 cs store with the Zotero BibTeX export as the library."""
    assert run_cli("--db", str(cs_store), "library", "add", str(BIB)).code == 0
    return cs_store


def test_without_signals_one_line_and_the_default_order(cs_store):  # noqa: F811
    default, _ = _json(cs_store)
    personal, err = _json(cs_store, "--rank", "personal")
    assert err.strip() == NO_SIGNALS
    assert personal == default


def test_personal_rank_orders_by_the_model(seeded):
    data, err = _json(seeded, "--rank", "personal")
    assert NO_SIGNALS not in err
    for topic in data["topics"]:
        scores = [e["score"] for e in data["papers"] if e["topic"] == topic["id"]]
        assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for _, s in _order(data))
    assert all(e["why"] for e in data["papers"] + data["updates"])
    default, _ = _json(seeded)
    assert [e["id"] for e in data["updates"]] != [e["id"] for e in default["updates"]]
    # The replacements, not grouped into topics: the library's own papers first, then the
    # papers on reinforcement learning, near the textbook the library holds only as a title.
    updates = data["updates"]
    assert [e["id"] for e in updates[:3]] == ["1804.07006", "1804.07459", "1705.05420"]
    assert updates[0]["why"][0] == "in your library"
    assert updates[3]["why"][0].startswith(
        "close to library paper: Reinforcement Learning: An Introduction"
    )
    assert "Reinforcement Learning" in updates[3]["title"]


def test_min_score_cuts(seeded):
    everything, _ = _json(seeded, "--rank", "personal")
    scores = sorted(s for _, s in _order(everything))
    cut = scores[len(scores) // 2]
    kept, _ = _json(seeded, "--rank", "personal", "--min-score", str(cut))
    assert 0 < len(_order(kept)) < len(scores)
    assert min(s for _, s in _order(kept)) >= cut
    bad = run_cli("--db", str(seeded), "digest", "--rank", "personal", "--min-score", "2")
    assert bad.code == 2 and "min score 2.0 is not between 0 and 1" in bad.err
    above = run_cli("--db", str(seeded), "digest", "--rank", "personal", "--min-score", "1")
    assert above.code == 0, above.err
    assert above.err == "no paper scores 1.0 or more: lower --min-score\n"


def test_rank_within_the_topic_matches(seeded):
    data, _ = _json(seeded, "--rank", "personal", "--topic", "learning")
    plain, _ = _json(seeded, "--topic", "learning")
    assert sorted(e["id"] for e in data["papers"] + data["more"] + data["updates"]) == sorted(
        e["id"] for e in plain["papers"] + plain["more"] + plain["updates"]
    )
    assert all(e["matched_terms"] == ["learning"] for e in data["papers"])


def test_followed_authors_come_first_even_outside_the_topic(seeded):
    run_cli("--db", str(seeded), "follow", "André, E.")
    data, _ = _json(seeded, "--rank", "personal", "--topic", "learning", "--min-score", "0.99")
    first = data["papers"][0]
    assert first["id"] == "1807.07091"  # timed automata: no "learning" in it
    assert first["why"][0] == "followed author: Étienne André"
    assert data["topics"][0]["label"] == "Followed authors"


def test_like_then_unrate_gives_the_same_ranking(seeded):
    before, _ = _json(seeded, "--rank", "personal")
    assert run_cli("--db", str(seeded), "like", "1807.07525").code == 0
    liked, _ = _json(seeded, "--rank", "personal")
    assert _order(liked) != _order(before)
    assert run_cli("--db", str(seeded), "unrate", "1807.07525").code == 0
    after, _ = _json(seeded, "--rank", "personal")
    assert after == before


def _places(db):
    data, _ = _json(db, "--rank", "personal")
    ranked = sorted(_order(data), key=lambda pair: (-pair[1], pair[0]))
    return {paper_id: place for place, (paper_id, _) in enumerate(ranked)}


def test_a_dislike_hides_the_paper_and_pushes_papers_like_it_down(seeded):
    disliked = "1807.07436"  # polyphonic sound event detection: near the library's speech paper
    alike = "1807.00129"  # sound event localization and detection: its closest paper in the store
    before = _places(seeded)
    assert disliked in before
    assert run_cli("--db", str(seeded), "dislike", disliked).code == 0
    after = _places(seeded)
    assert disliked not in after  # "not interested": not shown again
    # Places, not scores: a dislike that only lowered every score alike would not pass.
    assert after[alike] > before[alike] + 10
    # The default order does not use the signals, and shows it still.
    default, _ = _json(seeded)
    assert disliked in dict(_order(default))
    assert run_cli("--db", str(seeded), "unrate", disliked).code == 0
    assert _places(seeded) == before


def test_a_disliked_paper_by_a_followed_author_stays_hidden(seeded):
    run_cli("--db", str(seeded), "follow", "André, E.")
    followed = "1807.07091"  # timed automata, by Étienne André
    assert followed in _places(seeded)
    assert run_cli("--db", str(seeded), "dislike", followed).code == 0
    assert followed not in _places(seeded)


def test_a_dislike_alone_hides_the_paper_and_keeps_the_default_order(cs_store):  # noqa: F811
    default, _ = _json(cs_store)
    disliked = default["papers"][0]["id"]
    assert run_cli("--db", str(cs_store), "dislike", disliked).code == 0
    personal, err = _json(cs_store, "--rank", "personal")
    assert err.strip() == NO_POSITIVES
    assert disliked not in dict(_order(personal))
    # Nothing to rank by: the rest keep the default order.
    assert [i for i, _ in _order(personal)] == [i for i, _ in _order(default) if i != disliked]


def test_followed_authors_alone_come_first_the_rest_in_default_order(cs_store):  # noqa: F811
    assert run_cli("--db", str(cs_store), "follow", "André, E.").code == 0
    default, _ = _json(cs_store, "--no-updates")
    personal, err = _json(cs_store, "--no-updates", "--rank", "personal", "--min-score", "0.5")
    assert err.strip() == NO_POSITIVES
    order = [e["id"] for e in personal["papers"] + personal["more"]]
    assert order[0] == "1807.07091"  # by Étienne André
    rest = [e["id"] for e in default["papers"] + default["more"] if e["id"] != "1807.07091"]
    assert order[1:] == rest  # --min-score has no score to cut by: nothing is dropped


def test_a_library_of_every_stored_paper_says_there_is_nothing_to_tell_it_from(
    cs_store,  # noqa: F811
    tmp_path,
):
    ids = [e["id"] for e in _json(cs_store)[0]["papers"]]
    ids += [e["id"] for e in _json(cs_store)[0]["more"] + _json(cs_store)[0]["updates"]]
    listing = tmp_path / "ids.txt"
    listing.write_text("\n".join(ids) + "\n")
    assert run_cli("--db", str(cs_store), "library", "add", str(listing)).code == 0
    _, err = _json(cs_store, "--rank", "personal")
    assert err.strip() == NOTHING_TO_TELL_FROM


def _a_day_earlier(db):
    """The store's papers and library as if fetched and added the day before."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE papers SET first_seen = '2026-01-01T07:00:00Z'")
        conn.execute("UPDATE library SET added_at = '2026-01-01T07:05:00Z'")


def test_a_new_day_does_not_retrain_the_model(seeded):
    """The weak negatives are the papers seen up to the reader's latest signal: a fetch does
    not change them, so the cached model stays."""
    _a_day_earlier(seeded)
    _json(seeded, "--rank", "personal")
    trained = current_model(Signals(Store(seeded)))
    assert (
        run_cli("--db", str(seeded), "fetch", str(EXAMPLES / "hf-daily-papers-jul-31.txt")).code
        == 0
    )
    model = current_model(Signals(Store(seeded)))
    assert model is not None and trained is not None
    assert (model.trained_at, model.signature) == (trained.trained_at, trained.signature)
    assert model.model["counts"] == {"liked": 0, "library": 7, "disliked": 0, "unrated": 82}


def test_the_same_store_gives_the_same_model_whenever_it_is_trained(tmp_path):
    """Trained before the next day's fetch, or only after it: the same ratings, library and
    papers give the same model and ranking."""
    early, late = tmp_path / "early.db", tmp_path / "late.db"
    for db in (early, late):
        assert run_cli("--db", str(db), "fetch", str(CS_2018)).code == 0
        assert run_cli("--db", str(db), "library", "add", str(BIB)).code == 0
        _a_day_earlier(db)
    _json(early, "--rank", "personal")  # trains on the first day
    for db in (early, late):
        assert (
            run_cli("--db", str(db), "fetch", str(EXAMPLES / "hf-daily-papers-jul-31.txt")).code
            == 0
        )
    one, two = (current_model(Signals(Store(db))) for db in (early, late))
    assert one is not None and two is not None
    assert one.model == two.model
    assert _order(_json(early, "--rank", "personal")[0]) == _order(
        _json(late, "--rank", "personal")[0]
    )


def test_the_profile_explains_the_model(seeded):
    model = current_model(Signals(Store(seeded)))
    assert model is not None
    up, _ = Scorer(model.model).top_terms(10)
    assert "tracking" in up
    assert model.model["counts"] == {"liked": 0, "library": 7, "disliked": 0, "unrated": 82}


# --- every format says why ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "text", "html", "email-html"])
def test_every_format_shows_the_reason_and_the_rating_command(seeded, fmt):
    run_cli("--db", str(seeded), "follow", "André, E.")
    result = run_cli("--db", str(seeded), "digest", "--rank", "personal", "--format", fmt)
    assert result.code == 0, result.err
    assert "why: followed author: Étienne André" in result.out
    assert "close to library paper: Attention Is All You Need" in result.out
    assert "papercli like 1807.07108" in result.out
    data, _ = _json(seeded, "--rank", "personal")
    shown = data["papers"]
    assert result.out.count("why: ") >= len(shown) + len(data["updates"])


@pytest.mark.parametrize("fmt", ["md", "text", "html", "email-html", "json"])
def test_a_digest_with_no_replacements_ranks_in_every_format(tmp_path, fmt):
    """Hugging Face papers have no announce type, so the digest has no Updated section: the
    empty list of replacements is ranked too (it crashed on every such store)."""
    db = tmp_path / "papers.db"
    assert run_cli("--db", str(db), "fetch", str(EXAMPLES / "hf-daily-papers-jul-31.txt")).code == 0
    liked = json.loads(run_cli("--db", str(db), "digest", "--format", "json").out)["papers"][0]
    assert run_cli("--db", str(db), "like", liked["id"]).code == 0
    result = run_cli("--db", str(db), "digest", "--rank", "personal", "--format", fmt)
    assert result.code == 0, result.err
    assert "you liked it" in result.out


def test_no_updates_with_personal_rank(seeded):
    data, _ = _json(seeded, "--rank", "personal", "--no-updates")
    assert data["papers"] and data["updates"] == []
    assert all(e["why"] for e in data["papers"])


def test_json_has_score_and_why(seeded):
    data, _ = _json(seeded, "--rank", "personal")
    for entry in data["papers"] + data["more"] + data["updates"]:
        assert isinstance(entry["score"], float) and entry["why"]


def test_the_email_says_why(seeded):
    run_cli("--db", str(seeded), "follow", "André, E.")
    result = run_cli(
        "--db", str(seeded), "digest", "--rank", "personal", "--email-to", "me@example.org",
        "--dry-run",
    )  # fmt: skip
    assert result.code == 0, result.err
    bodies = _bodies(result.out)
    assert set(bodies) == {"text/plain", "text/html"}
    for body in bodies.values():
        assert "followed author: Étienne André" in body
        assert "close to library paper: Attention Is All You Need" in body
    assert "papercli like 1807.07108" in bodies["text/html"]


def _bodies(eml: str) -> dict[str, str]:
    message = email.message_from_string(eml)
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


# --- a named digest ------------------------------------------------------------------------


def test_a_named_digest_ranks_personally(seeded, papercli_home):
    config = papercli_home / "config.toml"
    config.write_text(
        '[digest.mine]\nrecipients = ["me@example.org"]\nrank = "personal"\nmin_score = 0.0\n'
        'since = "3650d"\nformat = "text"\n'
    )
    run_cli("--db", str(seeded), "follow", "Peng Gao")
    result = run_cli("--db", str(seeded), "--config", str(config), "run", "mine", "--dry-run")
    assert result.code == 0, result.err
    (body,) = _bodies(result.out).values()
    assert "followed author: Peng Gao" in body
    assert "close to library paper" in body
    config.write_text('[digest.mine]\nrecipients = ["me@example.org"]\nrank = "mine"\n')
    bad = run_cli("--db", str(seeded), "--config", str(config), "run", "mine", "--dry-run")
    assert bad.code == 3
    assert f"{config}: [digest.mine] rank: expected one of default, personal, found" in bad.err


def test_reasons_read_the_latex_of_the_titles_they_name(seeded):
    data, _ = _json(seeded, "--rank", "personal")
    whys = [w for e in data["papers"] + data["more"] + data["updates"] for w in e["why"]]
    assert any("close to library paper: FAST^2: an Intelligent Assistant" in w for w in whys)
    assert not any("$" in w for w in whys)
