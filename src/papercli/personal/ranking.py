"""Personal ranking: the cached model trained when the signals change, and each paper's reasons.

signals (likes, library, dislikes, followed authors) -> `current_model` (retrained only when
the signals' signature differs from the cached one) -> `Ranker.judge(papers)`: a score, the
reasons it is kept ("followed author: X", the closest liked or library paper, the terms that
weighed most), followed authors first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from papercli.models import RANKS, DigestEntry, Paper
from papercli.personal.model import STRONG, WEAK, Example, Scorer, train
from papercli.personal.names import readings, same_author
from papercli.personal.signals import DISLIKE, LIKE, CachedModel, Signals
from papercli.store import Store

RECENT_UNRATED = 1000  # the latest unrated papers that stand for "not this" (weak negatives)
NO_SIGNALS = "no personal signals yet (like, library add or follow): showing the default order"
NO_POSITIVES = (
    "no likes or library yet, so nothing to rank by: disliked papers are hidden, followed"
    " authors first, the rest in the default order (like papers or add your library)"
)
NOTHING_TO_TELL_FROM = (
    "every stored paper is liked or in your library, so there is nothing to tell them from:"
    " showing the default order (fetch new papers to rank them)"
)


def examples(signals: Signals, recent: int = RECENT_UNRATED) -> list[Example]:
    """What the model learns from, in a fixed order: liked and library papers (positives),
    disliked papers (strong negatives), the latest unrated papers (weak negatives)."""
    ratings = signals.ratings()
    rated = signals.store.papers(ids=sorted(ratings)) if ratings else []
    found: list[Example] = []
    for paper in rated:
        if ratings[paper.id] == LIKE:
            found.append(Example(paper.id, paper.title, paper.abstract, 1, 1.0, "liked"))
    liked = {e.id for e in found}
    for entry in signals.library():
        if (entry.paper_id or entry.key) not in liked:
            ident = entry.paper_id or entry.key
            found.append(Example(ident, entry.title, entry.abstract, 1, 1.0, "library"))
    for paper in rated:
        if ratings[paper.id] == DISLIKE:
            found.append(Example(paper.id, paper.title, paper.abstract, 0, STRONG, "disliked"))
    for paper in signals.recent_unrated(recent):
        found.append(Example(paper.id, paper.title, paper.abstract, 0, WEAK, "unrated"))
    return found


def current_model(signals: Signals) -> CachedModel | None:
    """The model for the signals as they are now: the cached one, or trained and cached anew.

    None when there is nothing to learn from (no like and no library paper, or nothing else
    in the store to tell them from).
    """
    if not signals.has_positives():
        return None
    signature = signals.signature(RECENT_UNRATED)
    cached = signals.cached_model()
    if cached is not None and cached.signature == signature:
        return cached
    found = examples(signals)
    if not any(e.label == 1 for e in found) or not any(e.label == 0 for e in found):
        return None
    return signals.save_model(signature, train(found))


@dataclass
class Judgement:
    """Why a paper is where it is: its score, whether a followed author wrote it, the reasons."""

    score: float
    followed: str | None = None  # the author's name as the paper spells it
    why: list[str] = field(default_factory=list)


class Ranker:
    """Scores papers with a trained model and the followed authors."""

    def __init__(
        self,
        model: CachedModel | None,
        followed: Sequence[str],
        disliked: Iterable[str] = (),
    ) -> None:
        self.scorer = Scorer(model.model) if model is not None else None
        self.followed = [readings(name) for name in followed]
        self.disliked = frozenset(disliked)  # papers the reader said no to: not shown again

    def followed_author(self, paper: Paper) -> str | None:
        """The first author of `paper` who is followed, as the paper spells the name."""
        for author in paper.authors:
            read = readings(author)  # once, not once per followed name
            if any(same_author(name, read) for name in self.followed):
                return author
        return None

    def judge(self, papers: Sequence[Paper]) -> list[Judgement]:
        """One Judgement per paper, in order."""
        scored = (
            self.scorer.score([(p.title, p.abstract) for p in papers])
            if self.scorer is not None
            else []
        )
        out = []
        for i, paper in enumerate(papers):
            judgement = Judgement(scored[i].score if scored else 0.0)
            judgement.followed = self.followed_author(paper)
            if judgement.followed:
                judgement.why.append(f"followed author: {judgement.followed}")
            if scored:
                one = scored[i]
                if one.closest is not None and one.closest["id"] != paper.id:
                    where = "liked" if one.closest["kind"] == "liked" else "library"
                    judgement.why.append(
                        f"close to {where} paper: {_short(one.closest['title'])}"
                        f" (similarity {one.similarity:.2f})"
                    )
                elif one.closest is not None:
                    judgement.why.append(
                        "you liked it" if one.closest["kind"] == "liked" else "in your library"
                    )
                if one.terms:
                    judgement.why.append("terms: " + ", ".join(one.terms))
                if not judgement.why:
                    judgement.why.append("nothing in common with your papers")
            out.append(judgement)
        return out


def rank_entries(
    ranker: Ranker, entries: list[DigestEntry], min_score: float | None
) -> list[DigestEntry]:
    """Entries scored and explained by `ranker`, ordered: followed authors first, then by
    score, then by id. Dropped: the papers the reader disliked ("not interested" means not
    this paper again, whoever wrote it), and those under `min_score` (not those by a followed
    author). Without a model (only dislikes or followed authors so far) the entries keep
    their order, followed authors first, and `min_score` has nothing to cut by."""
    entries = [e for e in entries if e.paper.id not in ranker.disliked]
    judged = ranker.judge([e.paper for e in entries])
    if ranker.scorer is None:
        for entry, judgement in zip(entries, judged, strict=True):
            entry.why = judgement.why
        followed = [e for e, j in zip(entries, judged, strict=True) if j.followed is not None]
        return followed + [e for e, j in zip(entries, judged, strict=True) if j.followed is None]
    kept: list[tuple[bool, DigestEntry]] = []
    for entry, judgement in zip(entries, judged, strict=True):
        if judgement.followed is None and min_score is not None and judgement.score < min_score:
            continue
        entry.score, entry.why = judgement.score, judgement.why
        kept.append((judgement.followed is not None, entry))
    kept.sort(key=lambda pair: (not pair[0], -round(pair[1].score, 6), pair[1].paper.id))
    return [entry for _, entry in kept]


def _short(title: str, limit: int = 80) -> str:
    from papercli.render import tex_to_text  # '$^2$' reads '^2', as the cards show titles

    title = " ".join(tex_to_text(title).split())
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def ranker_for(signals: Signals, info: Callable[[str], None] = lambda line: None) -> Ranker | None:
    """The Ranker for the store's signals, or None when there are none (default order).

    What is missing for a model, when signals exist but cannot train one, is said through
    `info` in one line: dislikes and followed authors still apply without it.
    """
    followed = signals.followed()
    disliked = [paper_id for paper_id, rating in signals.ratings().items() if rating == DISLIKE]
    model = current_model(signals)
    if model is None:
        if signals.has_positives():
            info(NOTHING_TO_TELL_FROM)
        else:
            info(NO_POSITIVES if followed or disliked else NO_SIGNALS)
        if not followed and not disliked:
            return None
    return Ranker(model, followed, disliked)


def check_rank(rank: str | None, min_score: float | None) -> str:
    """The rank asked for, checked: 'default' or 'personal' (None is 'default')."""
    from papercli.errors import UsageError

    rank = (rank or "default").strip().lower()
    if rank not in RANKS:
        raise UsageError(f"--rank {rank!r} is not one of {', '.join(RANKS)}")
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise UsageError(f"min score {min_score} is not between 0 and 1", hint="e.g. 0.5")
    return rank


def ranker_from_store(store: Store, rank: str, info: Callable[[str], None]) -> Ranker | None:
    """The Ranker a digest ranked `rank` uses: None for the default order, or when there are
    no signals yet (said in one line through `info`)."""
    if rank != "personal":
        return None
    return ranker_for(Signals(store), info)
