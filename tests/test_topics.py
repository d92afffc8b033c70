"""papercli.topics (and its text folding) on the real seed page and the real arXiv RSS capture."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papercli.models import Paper
from papercli.sources.arxiv_rss import parse as parse_rss
from papercli.sources.files import parse_jsonl, parse_text
from papercli.topics import Match, TopicModel, acronyms, build_topics
from papercli.topics.text import STOP_WORDS, Folder, clean, fold_word, phrase

from .conftest import EXAMPLES

SEED = EXAMPLES / "hf-daily-papers-jul-31.txt"
RSS = Path("arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml")
CS_DAILY = Path("abstracts/cs-daily-sample-9940.jsonl.gz")

# Read off the seed page: every paper whose title or abstract says "diffusion" in any form
# ("Diffusion Models", "diffusion-based", "Stable Diffusion V3", "diffusion network" ...).
DIFFUSION_TITLES = [
    "Generative Pre-Trained Diffusion Paradigm for Zero-Shot Time Series Forecasting",
    "Generative Visual Prompt: Unifying Distributional Control of Pre-Trained Generative Models",
    "InstructCV: Instruction-Tuned Text-to-Image Diffusion Models as Vision Generalists",
    "Is Model Collapse Inevitable? Breaking the Curse of Recursion by Accumulating Real and "
    "Synthetic Data",
    "LLM Blueprint: Enabling Text-to-Image Generation with Complex and Detailed Prompts",
    "Large Concept Models: Language Modeling in a Sentence Representation Space",
    "Large Generative Graph Models",
    "Prompting Forgetting: Unlearning in GANs via Textual Guidance",
    "ProSpect: Prompt Spectrum for Attribute-Aware Personalization of Diffusion Models",
    "RealRAG: Retrieval-augmented Realistic Image Generation via Self-reflective Contrastive "
    "Learning",
    "Self-Consuming Generative Models with Curated Data Provably Optimize Human Preferences",
    "Semi-Parametric Neural Image Synthesis",
    "VEDIT: Latent Prediction Architecture For Procedural Video Representation Learning",
]


@pytest.fixture(scope="module")
def seed() -> list[Paper]:
    papers = parse_text(SEED.read_bytes()).papers
    assert len(papers) == 67
    return papers


@pytest.fixture(scope="module")
def model(seed: list[Paper]) -> TopicModel:
    return build_topics(seed)


def _titles(papers: list[Paper], matches: list[Match]) -> list[str]:
    return sorted(papers[m.index].title for m in matches)


# --- folding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("models", "model"),
        ("studies", "study"),
        ("approaches", "approach"),
        ("processes", "process"),
        ("bias", "bias"),
        ("series", "series"),
        ("corpus", "corpus"),
        ("gpus", "gpu"),
        ("lms", "lm"),
        ("modelling", "modeling"),
        ("labelled", "labeled"),
        ("optimisation", "optimization"),
        ("characterised", "characterized"),
        ("behaviours", "behavior"),
        ("colour", "color"),
        ("centre", "center"),
        ("denoising", "denoising"),
        ("supervised", "supervised"),
        ("promising", "promising"),
        ("noise", "noise"),
    ],
)
def test_fold_word(word: str, folded: str) -> None:
    assert fold_word(word) == folded


@pytest.mark.parametrize(
    ("variants", "folded"),
    [
        (["pre-training", "pretraining", "pre training", "Pre-Training"], "pretraining"),
        (["multi-agent", "multi agent", "multiagent", "Multi-Agents"], "multiagent"),
        (["diffusion models", "Diffusion Model", "diffusion-models"], "diffusion model"),
        (["diffusion-based", "diffusion"], "diffusion"),
        (["modelling", "modeling", "Modelling"], "modeling"),
        (["optimise", "optimize"], "optimize"),
        (["large language models", "Large Language Model"], "large language model"),
        (["fine-grained", "fine grained"], "fine grained"),
        (["self-supervised", "Self-Supervised"], "selfsupervised"),
        (["state-of-the-art diffusion", "novel diffusion approach"], "diffusion"),
    ],
)
def test_variants_fold_to_one_phrase(variants: list[str], folded: str) -> None:
    folder = Folder()
    assert {phrase(folder, v) for v in variants} == {folded}


def test_tokens_mark_phrase_breaks_and_drop_boilerplate() -> None:
    tokens = Folder().tokens("In this paper, we propose a novel method for Diffusion Models.")
    assert [t for t in tokens if t] == ["diffusion", "model"]
    assert tokens[-1] is None
    assert phrase(Folder(), "theory of the mind") == "theory | mind"


def test_clean_strips_math_latex_and_links() -> None:
    text = clean(
        r"We bound $\alpha \leq 2$ via \textbf{Schr\"odinger} maps (https://github.com/a/b, "
        r"mail x@y.org) \cite{k}"
    )
    assert "alpha" not in text and "github" not in text and "@" not in text
    assert "schrodinger" in text and "cite" not in text
    assert Folder().tokens("3D scenes in 2024 with 7B models") == [
        "3d", "scene", None, None, None, None, "model",
    ]  # fmt: skip


def test_acronyms_come_from_definitions(seed: list[Paper]) -> None:
    table = acronyms(seed, Folder())
    assert table["llm"] == ["large language model"]
    assert "llm" in table["large language model"]
    # "Electronic Health Records (EHR)", "Generative Adversarial Networks (GANs)"
    assert table["ehr"] == ["electronic health record"]
    assert table["gan"] == ["generative adversarial network"]


def test_acronyms_with_lower_case_letters(fixtures: Path) -> None:
    papers = parse_jsonl(gzip.decompress((fixtures / CS_DAILY).read_bytes())).papers[:3000]
    table = acronyms(papers, Folder())
    # "Low-Rank Adaptation (LoRA)": the 'o' of LoRA is not an initial.
    assert "low rank adaptation" in table["lora"]
    assert "retrieval augmented generation" in table["rag"]
    assert "vision language model" in table["vlm"]


# --- topics -----------------------------------------------------------------------------------


def test_build_is_deterministic(seed: list[Paper], model: TopicModel) -> None:
    again = build_topics(seed)
    assert again.topics == model.topics
    assert again.assignments == model.assignments
    assert again.match(["diffusion", "LLM"]) == model.match(["diffusion", "LLM"])
    other = build_topics(seed, 5, seed=1)
    assert other.topics == build_topics(seed, 5, seed=1).topics


def test_topics_are_ordered_and_cover_every_paper(seed: list[Paper], model: TopicModel) -> None:
    assert 5 <= len(model.topics) <= 10
    assert [t.id for t in model.topics] == list(range(len(model.topics)))
    assert [(-t.size, t.label) for t in model.topics] == sorted(
        (-t.size, t.label) for t in model.topics
    )
    assert len(model.assignments) == len(seed)
    for topic in model.topics:
        assert model.assignments.count(topic.id) == topic.size


def test_labels_are_readable(model: TopicModel) -> None:
    labels = [t.label for t in model.topics]
    assert len(set(labels)) == len(labels)
    for topic in model.topics:
        terms = topic.label.split(", ")
        assert 2 <= len(terms) <= 4, topic.label
        assert terms == topic.terms[: len(terms)]
        words = [w for term in terms for w in re.split(r"[\s\-]+", term.lower())]
        assert len(words) == len(set(words)), f"a fragment repeats in {topic.label!r}"
        for term in terms:
            assert not term.isdigit() and term.lower() not in STOP_WORDS, topic.label
            assert term == term.strip() and "'" not in term


def test_labels_use_the_papers_spelling(seed: list[Paper], model: TopicModel) -> None:
    text = " ".join(" ".join(f"{p.title} {p.abstract}".split()) for p in seed).lower()
    for topic in model.topics:
        for term in topic.terms:
            assert term.lower() in text, f"{term!r} of {topic.label!r} is not how papers say it"


def test_topics_of_the_rss_capture_recover_archives(fixtures: Path) -> None:
    from sklearn.metrics import normalized_mutual_info_score

    papers = parse_rss((fixtures / RSS).read_bytes()).papers
    assert len(papers) == 1504
    archives = [p.categories[0].split(".")[0] for p in papers]
    model = build_topics(papers, 20)
    assert len(model.topics) == 20
    # Measured 0.46-0.47 (scikit-learn's documented LSA + k-means: 0.42); see benchmarks/.
    assert normalized_mutual_info_score(archives, model.assignments) >= 0.44
    labels = {t.label for t in model.topics}
    assert any("quantum" in label for label in labels)
    assert any("black hole" in label for label in labels)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_inputs(seed: list[Paper], n: int) -> None:
    model = build_topics(seed[:n])
    assert len(model.topics) == min(n, 1)
    assert model.assignments == [0] * n
    # Of the first two papers only "Large Concept Models" says diffusion ("diffusion-based").
    assert [m.index for m in model.match(["diffusion"])] == ([1] if n == 2 else [])
    assert model.closest_topics("diffusion") == model.topics[:3]
    if n:
        assert model.topics[0].size == n and model.topics[0].label


def test_two_papers_can_be_two_topics(seed: list[Paper]) -> None:
    model = build_topics(seed[:2], 2)
    assert sorted(model.assignments) == [0, 1]
    assert model.topics[0].label != model.topics[1].label


def test_empty_texts_make_one_topic() -> None:
    papers = [Paper(id=f"x{i}", title="", abstract="") for i in range(3)]
    model = build_topics(papers)
    assert model.assignments == [0, 0, 0]
    assert model.topics[0].label == "other"


def test_progress_reports_stages(seed: list[Paper]) -> None:
    seen: list[tuple[str, float]] = []
    build_topics(seed, 4, progress=lambda stage, done: seen.append((stage, done)))
    stages = [stage for stage, _ in seen]
    assert stages[0] == "reading" and stages[-1] == "done"
    assert {"clustering", "labelling"} <= set(stages)
    assert all(0.0 <= done <= 1.0 for _, done in seen)


@pytest.mark.parametrize("trim", [False, True])
def test_heap_is_kept_or_trimmed_where_the_scale_says(seed: list[Paper], trim, monkeypatch) -> None:
    # Below 10,000 papers the heap keeps what it frees for the next stage's arrays (handing
    # pages back only makes them fault in again); from there freed pages go back.
    import dataclasses

    import papercli.topics as topics
    from papercli.topics import features, memory

    calls: list[tuple] = []

    def recorded(name: str):
        return lambda *args: calls.append((name, *args)) or 1  # (mallopt's success)

    monkeypatch.setattr(memory, "_libc", recorded)
    monkeypatch.setattr(
        topics, "scale_for", lambda n: dataclasses.replace(features.scale_for(n), trim_heap=trim)
    )
    assert not features.scale_for(9_999).trim_heap and features.scale_for(10_000).trim_heap
    want = build_topics(seed, 4)
    if trim:
        assert calls == [("malloc_trim", 0)] * 2
    else:  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        assert calls == [("mallopt", -3, 32 << 20), ("mallopt", -1, 64 << 20)]
    monkeypatch.undo()
    again = build_topics(seed, 4)
    assert (again.topics, again.assignments) == (want.topics, want.assignments)


def test_the_heap_functions_are_glibcs_own() -> None:
    import platform

    from papercli.topics import memory

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert memory._libc("mallopt") is None  # nothing to tune elsewhere
        return
    assert memory._libc("mallopt") is not None and memory._libc("malloc_trim") is not None
    assert memory._libc("no_such_function") is None
    assert memory.keep_freed()  # both thresholds taken


# --- matching ---------------------------------------------------------------------------------


def test_diffusion_finds_the_papers_that_mention_it(seed: list[Paper], model: TopicModel) -> None:
    matches = model.match(["diffusion"])
    assert _titles(seed, matches) == sorted(DIFFUSION_TITLES)
    assert all(m.terms == ["diffusion"] for m in matches)
    # Title mentions rank first.
    top = {seed[m.index].title for m in matches[:3]}
    assert all("Diffusion" in title for title in top)
    assert matches == sorted(matches, key=lambda m: (-m.score, m.index))
    assert all(0.5 <= m.score <= 1.0 for m in matches)


def test_excludes_remove_papers(seed: list[Paper], model: TopicModel) -> None:
    matches = model.match(["diffusion"], excludes=["video"])
    titles = _titles(seed, matches)
    with_video = {"Large Generative Graph Models", DIFFUSION_TITLES[-1]}
    assert titles == sorted(set(DIFFUSION_TITLES) - with_video)
    for title in titles:
        paper = next(p for p in seed if p.title == title)
        assert "video" not in (paper.title + paper.abstract).lower()


def test_excluded_is_lexical_only(seed: list[Paper], model: TopicModel) -> None:
    excluded = model.excluded(["video", "GAN"])
    for i, paper in enumerate(seed):
        text = f"{paper.title} {paper.abstract}"
        says = re.search(r"video|\bGANs?\b|generative adversarial net", text, re.I) is not None
        assert (i in excluded) == says, paper.title
    assert model.excluded([]) == set()


def test_queries_are_or_ed_and_keep_their_terms(seed: list[Paper], model: TopicModel) -> None:
    both = model.match(["unlearning", "time series"])
    assert _titles(seed, both) == sorted(
        _titles(seed, model.match(["unlearning"])) + _titles(seed, model.match(["time series"]))
    )
    terms = {seed[m.index].title: m.terms for m in both}
    assert terms["Who's Harry Potter? Approximate Unlearning in LLMs"] == ["unlearning"]
    assert terms[
        "TEMPO: Prompt-based Generative Pre-trained Transformer for Time Series Forecasting"
    ] == ["time series"]


def test_acronym_query_finds_the_spelled_out_form(seed: list[Paper], model: TopicModel) -> None:
    matches = {seed[m.index].title: m for m in model.match(["LLM"])}
    spelled = "GPT Self-Supervision for a Better Data Annotator"
    paper = next(p for p in seed if p.title == spelled)
    assert "LLM" not in paper.title + paper.abstract
    assert [t.lower() for t in matches[spelled].terms] == ["large language models"]


def test_hyphen_variants_match(seed: list[Paper], model: TopicModel) -> None:
    hyphen = _titles(seed, model.match(["pre-training"]))
    assert hyphen == _titles(seed, model.match(["pretraining"]))
    assert hyphen == _titles(seed, model.match(["Pre Training"]))
    assert "Synthetic continued pretraining" in hyphen
    assert "PLIP: Language-Image Pre-training for Person Representation Learning" in hyphen


def test_close_papers_match_without_the_words(seed: list[Paper], model: TopicModel) -> None:
    matches = model.match(["image generation with diffusion"])
    assert matches and all(m.score < 0.5 and m.terms for m in matches)
    assert all("image" in " ".join(m.terms) or "diffusion" in " ".join(m.terms) for m in matches)


def test_no_match_gives_nothing_and_closest_topics(model: TopicModel) -> None:
    assert model.match(["quantum chromodynamics"]) == []
    assert model.match(["the of and"]) == []
    closest = model.closest_topics("quantum chromodynamics")
    assert len(closest) == 3 and all(t.label for t in closest)
    near = model.closest_topics("text-to-image diffusion", n=1)[0]
    assert near.id == model.assignments[next(m.index for m in model.match(["diffusion"]))] or any(
        "image" in term.lower() or "diffusion" in term.lower() for term in near.terms
    )


# Pieces of text that stress the cut at white space: punctuation glued to words, hyphens,
# characters the word pattern drops, the markers' own characters, and odd white space.
_PIECES = [
    "model",
    "models",
    "pre",
    "-",
    "training",
    "(e.g.,",
    "(",
    ")",
    '"',
    "!",
    "[",
    "—",
    "x+y",
    "a/b",
    "U.S.",
    "state-of-the-art",
    " ",
    "\n",
    "\t",
    "\x1c",
    "\x1e",
    "\x1f",
    "\ue01e",
    "\ue01f",
    "\u00a0",
    ",",
    ".",
    "'s",
    "diffusion-based",
    "$x$",
    "https://x.org/a",
    "LLMs",
    "–",
    "—",
    "é",
    "3D",
    "1.5",
    "gpt-4",
    "real-time",
    "co",
    "based",
    "x_y",
    "--",
    "‐",
    "²",
    "٣",
]


def _terms_word_by_word(title: str, abstract: str) -> list[str | None]:
    """What encode_papers must give: every word of the word pattern folded on its own."""
    from papercli.topics.text import _WORD, fold_compound

    terms: list[str | None] = []
    for text, marker in ((title, "\x1f"), (abstract, "\x1e")):
        terms += [t for word in _WORD.findall(clean(text)) for t in fold_compound(word)]
        terms.append(marker)
    return terms


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
            st.lists(st.sampled_from(_PIECES), max_size=30).map("".join),
        ),
        max_size=4,
    )
)
def test_encode_papers_matches_folding_word_by_word(pairs) -> None:
    folder = Folder()
    got = [folder.terms[i] or None for i in folder.encode_papers(pairs).tolist()]
    want = [t for title, abstract in pairs for t in _terms_word_by_word(title, abstract)]
    assert got == want


def test_encode_one_text_matches_folding_word_by_word(fixtures) -> None:
    # Folder.encode (queries, a digest's matching, acronyms) against the word pattern's words
    # folded one by one, prefixes written apart then joined: the same terms for every text.
    from papercli.topics.text import _WORD, fold_compound

    papers = parse_rss((fixtures / RSS).read_bytes()).papers[:300]
    folder, words_folder = Folder(), Folder()
    for paper in papers:
        for text in (paper.title, paper.abstract, paper.abstract.upper()):
            words = [t for word in _WORD.findall(clean(text)) for t in fold_compound(word)]
            want = words_folder._join_prefixes([words_folder.term_id(t) for t in words])
            assert folder.tokens(text) == [words_folder.terms[i] or None for i in want]


def test_encode_papers_on_a_real_feed(fixtures) -> None:
    papers = parse_rss((fixtures / RSS).read_bytes()).papers[:300]
    folder = Folder()
    got = [folder.terms[i] or None for i in folder.encode_papers(
        (p.title, p.abstract) for p in papers).tolist()]  # fmt: skip
    want = [t for p in papers for t in _terms_word_by_word(p.title, p.abstract)]
    assert got == want


def _rss_tfidf(fixtures, columns: int | None, papers: int = 300):
    """Real TF-IDF of the RSS capture (float64): wider than tall, or cut to `columns` terms."""
    import numpy as np
    from scipy import sparse

    from papercli.topics.features import count, encode, scale_for, weigh

    papers = parse_rss((fixtures / RSS).read_bytes()).papers[:papers]
    folder = Folder()
    stream = encode(papers, folder, lambda stage, done: None)
    counts, bigrams = count(stream, len(folder.terms))
    weights = weigh(counts, folder, bigrams, scale_for(len(papers)))[0].astype(np.float64)
    return sparse.csr_matrix(weights[:, :columns] if columns else weights)


@pytest.mark.parametrize("columns", [None, 200])
def test_truncated_svd_agrees_with_scikit_learn(fixtures, columns) -> None:
    # Wider than tall (the SVD samples the terms' side), and cut to 200 terms, taller than wide.
    # Cholesky QR in place of Householder QR: the same results to far below the 6 decimals the
    # points keep, or the topics move.
    import numpy as np
    from sklearn.decomposition import TruncatedSVD

    from papercli.topics.features import truncated_svd

    matrix = _rss_tfidf(fixtures, columns)
    assert (matrix.shape[0] < matrix.shape[1]) == (columns is None)
    # scikit-learn fixes the signs by the right vectors since 1.5, as papercli does; before, by
    # the left ones, so there only the magnitudes can be compared.
    signs = np.asarray if sklearn_version() >= (1, 5) else np.abs
    for seed in (0, 7):
        svd = TruncatedSVD(60, algorithm="randomized", n_iter=3, random_state=seed)
        want = svd.fit_transform(matrix)
        points, singular, directions = truncated_svd(matrix, 60, seed)
        assert np.max(np.abs(signs(points) - signs(want))) < 1e-12
        assert np.max(np.abs(singular - svd.singular_values_)) < 1e-12
        assert np.max(np.abs(signs(directions) - signs(svd.components_))) < 1e-12


def test_truncated_svd_of_too_few_distinct_papers_gives_scikit_learns_bits(fixtures) -> None:
    # 30 papers, each 3 times: a rank of 30, below the 70 columns sampled, where Cholesky QR
    # fails. Householder QR then gives TruncatedSVD's bits.
    import numpy as np
    from scipy import sparse
    from sklearn.decomposition import TruncatedSVD

    from papercli.topics.features import _cholesky_qr2, truncated_svd

    base = _rss_tfidf(fixtures, None, papers=30)
    matrix = sparse.csr_matrix(sparse.vstack([base, base, base]))
    sampled = matrix.T @ np.random.RandomState(0).normal(size=(90, 70))
    assert _cholesky_qr2(np.ascontiguousarray(sampled)) is None
    signs = np.asarray if sklearn_version() >= (1, 5) else np.abs
    svd = TruncatedSVD(60, algorithm="randomized", n_iter=3, random_state=0)
    want = svd.fit_transform(matrix)
    points, singular, directions = truncated_svd(matrix, 60, 0)
    assert np.array_equal(signs(points), signs(want))
    assert np.array_equal(singular, svd.singular_values_)
    assert np.array_equal(signs(directions), signs(svd.components_))


def test_cholesky_qr2_gives_an_orthonormal_basis_of_the_same_columns() -> None:
    import numpy as np

    from papercli.topics.features import _cholesky_qr2

    rng = np.random.default_rng(0)
    # Columns of very different sizes and a condition number near 1e4, as the SVD's LU steps
    # can leave them.
    sampled = (
        rng.normal(size=(2000, 40)) @ np.diag(np.logspace(0, 4, 40)) @ rng.normal(size=(40, 40))
    )
    basis = _cholesky_qr2(sampled.copy())
    assert basis is not None
    assert np.max(np.abs(basis.T @ basis - np.eye(40))) < 1e-14
    # The same span: projecting the columns onto the basis leaves nothing out.
    residual = sampled - basis @ (basis.T @ sampled)
    assert np.max(np.abs(residual)) < 1e-9 * np.max(np.abs(sampled))


def sklearn_version() -> tuple[int, int]:
    import sklearn

    major, minor = sklearn.__version__.split(".")[:2]
    return int(major), int(minor)


def test_distinct_points_are_counted_as_numpy_unique_counts_them() -> None:
    import numpy as np

    from papercli.topics.clustering import _distinct

    rng = np.random.default_rng(0)
    for _ in range(200):
        n, d = int(rng.integers(1, 30)), int(rng.integers(1, 4))
        points = rng.integers(-2, 3, size=(n, d)) * rng.choice([1e-5, 0.5])
        points = np.where(rng.random((n, d)) < 0.2, -0.0, points)  # -0.0 equals 0.0
        for enough in (1, 3, 50):
            want = min(enough, len(np.unique(points.round(4), axis=0)))
            assert _distinct(points, enough) == want


def test_a_term_is_spelled_as_papers_write_it_when_a_dash_comes_early(fixtures: Path) -> None:
    """'cospeech gesture' is written 'co-speech gesture': the dash within its first four letters
    once hid every spelling, and the label read 'cospeech gesture', a word no paper uses."""
    from papercli.topics.labels import surface

    with gzip.open(fixtures / CS_DAILY) as lines:
        papers = [p for p in parse_jsonl(lines.read()).papers if "co-speech" in p.abstract]
    assert len(papers) >= 3
    folder = Folder()
    folder.encode_papers((p.title, p.abstract) for p in papers)
    assert surface("cospeech gesture", folder.spellings, papers) == "co-speech gesture"


def test_spellings_found_from_their_heads_are_those_a_full_scan_finds(fixtures: Path) -> None:
    """Both short cuts, the pattern tried only where a head starts and the search by hand in an
    ASCII text (no pattern compiled), find what the pattern finds scanning the whole text."""
    from papercli.topics.labels import _finditer, _heads, _spelling_pattern, _Written

    with gzip.open(fixtures / CS_DAILY) as lines:
        papers = parse_jsonl(lines.read()).papers[:600]
    folder = Folder()
    folder.encode_papers((p.title, p.abstract) for p in papers)
    texts = [t for p in papers for t in (p.title, p.abstract)] + ["Pre - training; re-pre-train"]
    # Real texts written other ways: dashes doubled or spaced, upper case, words glued by '_',
    # lines broken.
    dashed = [t for t in texts if "-" in t][:150]
    texts += [t.replace("-", "--") for t in dashed] + [t.replace("-", " - ") for t in dashed]
    texts += [t.upper() for t in dashed[:50]] + [t.replace(" ", "_", 5) for t in dashed[:50]]
    texts += [t.replace(" ", "\n") for t in texts[:100]]
    terms = ["pretraining", "large language model", "llm", "fine grained", "multiagent",
             "state space model", "model", "cospeech gesture", "ray", "data", "x ray",
             "vision language model", "text image", "preprocessing"]  # fmt: skip
    found = by_hand = 0
    for term in terms + folder.terms[3:80]:
        pattern, heads = _spelling_pattern(term, folder.spellings), _heads(term, folder.spellings)
        written = _Written(term, folder.spellings)
        by_hand += written.forms is not None
        for text in texts if term in terms else texts[:300]:
            want = [m.span() for m in pattern.finditer(text)]
            if heads:
                assert [m.span() for m in _finditer(pattern, heads, text)] == want, (term, text)
            assert written.find(text) == want, (term, text)
            found += len(want)
    assert found > 5000
    assert by_hand > 80  # (most terms are searched by hand)


def test_title_shares_in_one_pass_are_those_searched_term_by_term(fixtures: Path) -> None:
    """Ranking a topic's candidates by their share of its titles counts every candidate's
    words and word pairs at once; each share must be what searching that term gives."""
    import random

    from papercli.topics.features import count, encode, scale_for, weigh
    from papercli.topics.labels import _TopicText
    from papercli.topics.text import ngrams

    papers = parse_jsonl(gzip.decompress((fixtures / CS_DAILY).read_bytes())).papers[:1000]
    folder = Folder()
    stream = encode(papers, folder, lambda stage, done: None)
    counts, bigram_keys = count(stream, len(folder.terms))
    names = weigh(counts, folder, bigram_keys, scale_for(len(papers)))[2]
    rng = random.Random(1)
    compared = found = 0
    for size in (1, 2, 5, 40, 300) * 3:
        members = sorted(rng.sample(range(len(papers)), size))
        said = {g for m in members for g in ngrams(folder.tokens(papers[m].title))}
        terms = sorted(said & set(names))[:40] + rng.sample(names, 20) + ["qqq unknown", "a b c"]
        shares = _TopicText(stream.subset(members), folder).title_shares(terms)
        one_by_one = _TopicText(stream.subset(members), folder)
        assert shares == {term: one_by_one.title_share(term) for term in terms}
        compared += len(terms)
        found += sum(share > 0 for share in shares.values())
    assert compared > 700 and found > 250  # phrases of both lengths, in titles and not


def test_the_cycle_collector_is_off_while_topics_are_built_and_as_it_was_after(fixtures) -> None:
    import gc

    papers = parse_rss((fixtures / RSS).read_bytes()).papers[:80]
    during: list[bool] = []
    assert gc.isenabled()
    build_topics(papers, 3, progress=lambda stage, done: during.append(gc.isenabled()))
    assert during and not any(during)
    assert gc.isenabled()
    gc.disable()
    try:
        build_topics(papers, 3)
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


@pytest.mark.parametrize("block", [256, 7, 5000])
def test_smoothing_gives_the_bits_of_the_plain_formula(fixtures, block, monkeypatch) -> None:
    # Blockwise and summed a neighbour at a time, the smoothed points are the formula's own
    # bits: k-means starts from them, so a last bit moved could move the topics.
    import numpy as np

    from papercli.topics import features

    matrix = _rss_tfidf(fixtures, None, papers=600)
    points = features.normalize_rows(features.truncated_svd(matrix, 40, 0)[0])
    similarity = points @ points.T
    nearest = np.argpartition(-similarity, 10, axis=1)[:, :11]
    want = features.normalize_rows(0.2 * points + 0.8 * points[nearest].mean(axis=1))
    monkeypatch.setattr(features, "_SMOOTH_BLOCK", block)
    assert np.array_equal(features._smooth(points, 10), want)
