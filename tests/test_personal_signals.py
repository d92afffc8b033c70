"""Signals kept in the store: like, dislike, unrate, follow, unfollow, profile; author names."""

from __future__ import annotations

import json
import sqlite3

import pytest

from papercli.personal.names import (
    ambiguous,
    fold_name,
    matching_names,
    name_key,
    same_author,
)
from papercli.personal.signals import Signals
from papercli.store import MIGRATIONS, Store
from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES

CS_2018 = (
    FIXTURES
    / "arxiv-list"
    / "cs_new_2018-07-20_TRUNCATED_extracted-from-ravoro-arxiv-helper-urls.py.html"
)

RSS_2024 = FIXTURES / "arxiv-rss" / "jmmeus-aioarxiv-2024-11-28" / "rss_mock_feed.xml"
HF_2024 = FIXTURES / "hf-daily" / "html" / "papers_date-2024-08-01_slbqc.html"
HF_2026 = FIXTURES / "hf-daily" / "api" / "daily_papers_date-2026-08-21.json"


@pytest.fixture
def cs_store(tmp_path):
    """A store holding the 87 papers of the real cs /new page of 2018-07-20."""
    db = tmp_path / "papers.db"
    result = run_cli("--db", str(db), "fetch", str(CS_2018))
    assert result.code == 0, result.err
    return db


def _signals(db):
    return Signals(Store(db))


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Étienne André", "Etienne Andre", True),  # accents
        ("André, Étienne", "Étienne André", True),  # "Last, First"
        ("E. André", "Étienne André", True),  # initials
        ("Drozdz, S.", "Stanisław Drożdż", True),  # ł and ż
        ("P.-Y. Chen", "Pin-Yu Chen", True),  # hyphenated given names as initials
        ("Pin Yu Chen", "Pin-Yu Chen", True),
        ("PY Chen", "Pin-Yu Chen", True),  # initials run together
        ("Bo Chen", "Pin-Yu Chen", False),
        # A hyphen, a space or nothing between the parts of a compound name.
        ("Eduardo Cotilla Sanchez", "Eduardo Cotilla-Sanchez", True),
        ("Iker Garcia Ferrero", "García-Ferrero, Iker", True),
        ("Iker GarciaFerrero", "Iker García Ferrero", True),
        ("Yugang Jiang", "Yu-gang Jiang", True),
        ("Yugang Jiang", "Yu Gang Jiang", True),
        ("Jiang, Yugang", "Yu-Gang L. Jiang", True),
        ("Yugang Jiang", "Yu Jiang", False),
        ("Yugang Jiang", "Yuga Jiang", False),
        ("Iker Garcia", "Iker García-Ferrero", False),  # one family name of two
        ("E. Cotilla Sanchez", "Eduardo Cotilla-Sanchez", True),
        ("Iker G. Ferrero", "Iker García-Ferrero", False),  # an initial is not a family name
        ("Yann Le Cun", "LeCun, Yann", True),  # particles join the family name
        ("Charo I. del Genio", "Charo del Genio", True),  # fewer given names
        # "Y.-G." is one given name of two parts (Yu-Gang), not Y. and a dropped middle name.
        ("Y.-G. Jiang", "Yu-Gang Jiang", True),
        ("Y.-G. Jiang", "Yu Gang Jiang", True),
        ("Y.-G. Jiang", "Yi Jiang", False),
        ("P.-Y. Chen", "Peng Chen", False),
        ("Y.-G. Jiang", "Y.-J. Jiang", False),
        ("Y.-G. Jiang", "Yugang Jiang", False),  # nothing says where "Yugang" splits
        ("Pin Chen", "Pin-Yu Chen", False),  # half a compound given name is another name
        # A lone initial stands for the whole given name, compound or not.
        ("Y. Jiang", "Yu-Gang Jiang", True),
        ("Y. Jiang", "Y.-G. Jiang", True),
        ("Y. G. Jiang", "Yi Jiang", True),  # two given names, the second one dropped
        ("F. Y. Li", "Fu-Xing Li", False),  # not F. for Fu-Xing and Y. for a dropped name
        ("C. David Lin", "C.-J. David Lin", True),
    ],
)
def test_same_author(a, b, same):
    assert same_author(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("LeCun, Yann", "yann   lecun", True),
        ("Étienne André", "Andre, Etienne", True),
        ("Pin-Yu Chen", "CHEN, Pin Yu", True),  # a hyphen or a space
        ("Iker Garcia Ferrero", "García-Ferrero, Iker", True),
        ("Chen", "Xi Chen", False),  # one names the other, but they are two names
        ("Chen, P.", "Pin-Yu Chen", False),
        ("Y.-G. Jiang", "Yugang Jiang", False),  # initials are not the name in full
        ("Wei Wang", "wang", False),
    ],
)
def test_name_key_tells_spellings_of_one_name(a, b, same):
    assert (name_key(a) == name_key(b)) is same


def test_fold_name():
    assert fold_name("Müller, Jörg-Peter") == (("jorg-peter",), "muller")
    assert fold_name("L. -J. Chen") == (("l-j",), "chen")
    assert fold_name("Daniel W.C. Ho") == (("daniel", "w", "c"), "ho")


def test_ambiguous_names_in_the_real_page(cs_store):
    names = _signals(cs_store).author_names()
    chens = matching_names("Chen", names)
    assert chens == [
        "Bo Chen",
        "Bokan Chen",
        "Hao Chen",
        "Jiehua Chen",
        "Kan Chen",
        "Pin-Yu Chen",
        "Wen Chen",
    ]
    assert matching_names("B. Chen", names) == ["Bo Chen", "Bokan Chen"]
    assert ambiguous("Chen", names) == chens
    assert ambiguous("P. Chen", names) == []  # only Pin-Yu Chen
    assert matching_names("Gao, P.", names) == ["Peng Gao"]


def test_compound_initials_in_the_real_pages(tmp_path):
    db = str(tmp_path / "papers.db")
    for page in (RSS_2024, HF_2026):
        assert run_cli("--db", db, "fetch", str(page)).code == 0
    names = _signals(db).author_names()
    assert matching_names("Y. Jiang", names) == [
        "Yi Jiang",
        "Yichen Jiang",
        "Yu-gang Jiang",
        "Yuming Jiang",
    ]
    assert matching_names("Y.-G. Jiang", names) == ["Yu-gang Jiang"]
    assert matching_names("P. Chen", names) == [
        "Peihao Chen",
        "Peiyang Chen",
        "Peng Chen",
        "Peng-Hui Chen",
        "Pengcheng Chen",
    ]
    assert matching_names("P.-H. Chen", names) == ["Peng-Hui Chen"]
    result = run_cli("--db", db, "follow", "Y.-G. Jiang")
    assert result.err.strip() == "following Y.-G. Jiang: 1 paper in the store"


def test_compound_names_through_hyphens_spaces_or_nothing(tmp_path):
    db = str(tmp_path / "papers.db")
    for page in (HF_2024, HF_2026):
        assert run_cli("--db", db, "fetch", str(page)).code == 0
    names = _signals(db).author_names()
    assert matching_names("Iker Garcia Ferrero", names) == ["Iker García-Ferrero"]
    assert matching_names("Yugang Jiang", names) == ["Yu-gang Jiang"]
    for name in ("Iker Garcia Ferrero", "Yu Gang Jiang"):
        result = run_cli("--db", db, "follow", name)
        assert result.err.strip() == f"following {name}: 1 paper in the store"


# --- the migration --------------------------------------------------------------------------


def test_signal_tables_come_with_the_migration(tmp_path):
    db = tmp_path / "papers.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert {"ratings", "library", "followed_authors", "personal_model"} <= tables
    assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


# --- like, dislike, unrate --------------------------------------------------------------------


def test_like_dislike_unrate(cs_store):
    db = str(cs_store)
    liked = run_cli("--db", db, "like", "1804.07006", "https://arxiv.org/abs/1804.07459v2")
    assert liked.code == 0, liked.err
    assert "liked 1804.07006, 1804.07459" in liked.err
    assert run_cli("--db", db, "dislike", "1807.07127").code == 0
    assert _signals(cs_store).ratings() == {"1804.07006": 1, "1804.07459": 1, "1807.07127": -1}
    # A dislike replaces a like of the same paper.
    assert run_cli("--db", db, "dislike", "1804.07459").code == 0
    assert _signals(cs_store).ratings()["1804.07459"] == -1
    result = run_cli("--db", db, "unrate", "1804.07459", "1807.07127")
    assert result.code == 0
    assert "unrated 2 papers: 1804.07459, 1807.07127" in result.err
    assert _signals(cs_store).ratings() == {"1804.07006": 1}


def test_unknown_ids_are_an_error_that_names_them(cs_store):
    result = run_cli("--db", str(cs_store), "like", "1804.07006", "2411.99999", "title:abc")
    assert result.code == 2
    assert result.err.strip() == (
        "Error: not in the store: 2411.99999, title:abc; use the ids a digest shows,"
        " and fetch the paper first"
    )
    assert _signals(cs_store).ratings() == {}  # nothing half-done


def test_ids_pasted_as_one_argument_are_each_rated(cs_store):
    result = run_cli("--db", str(cs_store), "like", "1804.07006, 1804.07459 ,1807.07127")
    assert result.code == 0, result.err
    assert _signals(cs_store).ratings() == {"1804.07006": 1, "1804.07459": 1, "1807.07127": 1}


@pytest.mark.parametrize("given", ["", " ", ","])
def test_no_id_is_an_error(cs_store, given):
    result = run_cli("--db", str(cs_store), "like", given)
    assert result.code == 2
    assert result.err.strip() == "Error: no paper ids given; e.g. papercli like 2411.12345"


# --- follow ---------------------------------------------------------------------------------


def test_follow_and_unfollow(cs_store):
    db = str(cs_store)
    result = run_cli("--db", db, "follow", "Gao, P.")
    assert result.code == 0
    assert "following Gao, P.: 3 papers in the store" in result.err
    again = run_cli("--db", db, "follow", "GAO,   P")
    assert "already following GAO, P" in again.err
    assert "ambiguous: Bo Chen / Bokan Chen / Hao Chen" in run_cli("--db", db, "follow", "Chen").err
    assert _signals(cs_store).followed() == ["Chen", "Gao, P."]
    assert run_cli("--db", db, "unfollow", "gao, p").code == 0
    assert _signals(cs_store).followed() == ["Chen"]
    missing = run_cli("--db", db, "unfollow", "Ada Lovelace")
    assert missing.code == 2
    assert missing.err.strip() == (
        "Error: not following 'Ada Lovelace'; `papercli profile` lists who you follow"
    )


def test_unfollow_undoes_the_follow_of_that_name_only(cs_store):
    db = str(cs_store)
    for name in ("Chen", "Pin-Yu Chen", "Gao, P.", "Y.-G. Jiang", "Yugang Jiang"):
        assert run_cli("--db", db, "follow", name).code == 0
    # "Chen" names Pin-Yu Chen too, but following both was two choices: undo one.
    result = run_cli("--db", db, "unfollow", "Chen")
    assert result.code == 0, result.err
    assert "no longer following Chen" in result.err
    assert run_cli("--db", db, "unfollow", "Y.-G. Jiang").code == 0
    assert _signals(cs_store).followed() == ["Gao, P.", "Pin-Yu Chen", "Yugang Jiang"]
    # Other spellings of the same name: case, accents, "Last, First", hyphen or space.
    assert run_cli("--db", db, "unfollow", "CHEN, Pin Yu").code == 0
    assert run_cli("--db", db, "unfollow", "yu-gang jiang").code == 0
    assert _signals(cs_store).followed() == ["Gao, P."]


def test_unfollow_of_a_name_not_followed_says_which_are_close(cs_store):
    db = str(cs_store)
    for name in ("Pin-Yu Chen", "Gao, P.", "Yann LeCun"):
        assert run_cli("--db", db, "follow", name).code == 0
    # "Peng Gao" is one of the people "Gao, P." names, not the name followed.
    peng = run_cli("--db", db, "unfollow", "Peng Gao")
    assert peng.code == 2
    assert peng.err.strip() == "Error: not following 'Peng Gao'; closest followed: Gao, P."
    chen = run_cli("--db", db, "unfollow", "Chen")
    assert chen.err.strip() == "Error: not following 'Chen'; closest followed: Pin-Yu Chen"
    typo = run_cli("--db", db, "unfollow", "Yan LeCun")
    assert typo.err.strip() == "Error: not following 'Yan LeCun'; closest followed: Yann LeCun"
    assert _signals(cs_store).followed() == ["Gao, P.", "Pin-Yu Chen", "Yann LeCun"]


# --- profile --------------------------------------------------------------------------------


def test_profile_without_signals(cs_store):
    result = run_cli("--db", str(cs_store), "profile", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["likes"] == data["dislikes"] == data["library"] == data["followed_authors"] == 0
    assert data["trained_at"] is None
    assert data["pull_up"] == data["push_down"] == []


def test_profile_counts_terms_and_ambiguity(cs_store):
    db = str(cs_store)
    # Three visual-tracking papers liked, a market-prices paper disliked.
    assert run_cli("--db", db, "like", "1804.07006", "1804.07459", "1804.08208").code == 0
    assert run_cli("--db", db, "dislike", "1807.07120").code == 0
    run_cli("--db", db, "follow", "Chen")
    run_cli("--db", db, "follow", "Étienne André")
    data = json.loads(run_cli("--db", db, "profile", "--json").out)
    assert (data["likes"], data["dislikes"], data["library"], data["followed_authors"]) == (
        3,
        1,
        0,
        2,
    )
    assert "tracking" in data["pull_up"]
    assert data["trained_on"] == {"liked": 3, "library": 0, "disliked": 1, "unrated": 83}
    assert data["trained_at"]
    by_name = {f["name"]: f for f in data["followed"]}
    assert by_name["Chen"]["ambiguous"] is True
    assert by_name["Étienne André"] == {
        "name": "Étienne André",
        "spellings": ["Étienne André"],
        "ambiguous": False,
        "papers": 1,
    }
    table = run_cli("--db", db, "profile")
    assert table.code == 0
    assert "likes" in table.out and "tracking" in table.out
    assert "'Chen' is ambiguous in the store: Bo Chen / Bokan Chen" in table.err


def test_the_model_is_cached_until_the_signals_change(cs_store):
    db = str(cs_store)
    run_cli("--db", db, "like", "1804.07006")
    first = json.loads(run_cli("--db", db, "profile", "--json").out)["trained_at"]
    signals = _signals(cs_store)
    cached = signals.cached_model()
    assert cached is not None and cached.trained_at == first
    signals.store._conn.execute("UPDATE personal_model SET trained_at = 'kept'")
    assert json.loads(run_cli("--db", db, "profile", "--json").out)["trained_at"] == "kept"
    run_cli("--db", db, "like", "1804.07459")
    assert json.loads(run_cli("--db", db, "profile", "--json").out)["trained_at"] != "kept"


def test_a_name_shared_by_many_lists_a_few_and_counts_the_rest(tmp_path):
    db = str(tmp_path / "papers.db")
    assert run_cli("--db", db, "fetch", str(RSS_2024)).code == 0
    said = run_cli("--db", db, "follow", "Chen").err.strip()
    shown, rest = said.split("; ambiguous: ")[1].rsplit(" and ", 1)
    assert len(shown.split(" / ")) == 8
    assert rest.endswith(" more") and int(rest.split()[0]) > 50
    profile = run_cli("--db", db, "profile").err.strip()
    assert profile.endswith("; follow the full name to keep only one")
    assert len(profile) < 300


@pytest.mark.parametrize(
    "given", ["Kfoury, A., Chen, P.", "Ada Lovelace and Alan Turing", "A. B; C. D"]
)
def test_several_names_in_one_follow_are_refused(cs_store, given):
    result = run_cli("--db", str(cs_store), "follow", given)
    assert (result.code, result.err) == (
        2,
        f"Error: {given!r} reads as several names; follow one author at a time\n",
    )
    assert _signals(cs_store).followed() == []
