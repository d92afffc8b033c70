"""Labels: topic numbers -> Topics named by their most distinctive terms (class-based TF-IDF),
written the way the papers spell them, ordered by size then label."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from papercli.models import Paper, Topic
from papercli.topics.features import BREAK, Stream
from papercli.topics.text import PREFIXES, Folder, acronyms, dedupe

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

LABEL_TERMS = 3  # terms in a label
TOPIC_TERMS = 8  # terms kept on a Topic
COMPLETE_SHARE = 0.5  # a neighbour word in half the uses of a term joins its phrase
_LABEL_SAMPLE = 500  # papers of a topic read to word its label
SURFACE_SAMPLE = 12  # papers read to find how a term is written
# Words every field's abstracts use: a label names a subject with them only when nothing more
# telling is left ('reference, training, learning' read as no subject at all). Folded forms.
GENERIC = frozenset(
    {"learning", "training", "data", "model", "method", "approach", "framework", "performance",
     "result", "task", "system", "analysis", "problem", "study", "work", "information",
     "process", "application", "evaluation", "quality", "emission", "flux", "reference",
     "structure", "property", "effect", "feature", "magnetic", "cosmic",
     "mas", "kpc", "mpc", "kev", "mev", "gev", "tev"}  # units: 'M87 jet, mas, ...'
)  # fmt: skip


def label_topics(
    papers: Sequence[Paper],
    clusters: np.ndarray,
    weights: sparse.csr_matrix,
    names: list[str],
    folder: Folder,
    stream: Stream,
) -> tuple[list[Topic], list[int], dict[str, str]]:
    """Topics with readable labels, ordered by size then label; assignments follow the order."""
    import numpy as np

    found = sorted(set(clusters.tolist()))
    samples = [np.flatnonzero(clusters == c)[:_LABEL_SAMPLE].tolist() for c in found]
    synonyms = acronyms([papers[i] for sample in samples for i in sample[:150]], folder)
    surfaces: dict[str, str] = {}
    written: dict[str, _Written] = {}  # a term's place in a text is searched for once

    def spelled(term: str) -> _Written:
        if term not in written:
            written[term] = _Written(term, folder.spellings)
        return written[term]

    scores = _distinctive(clusters, found, weights)
    drafts = []
    for row, (cluster, members) in enumerate(zip(found, samples, strict=True)):
        order = np.argsort(-scores[row], kind="stable")[:40]
        candidates = {names[j]: float(scores[row, j]) for j in order if scores[row, j] > 0}
        text = _TopicText(stream.subset(members), folder)
        share = text.title_shares(list(candidates))
        ranked = sorted(
            candidates, key=lambda t: (t in GENERIC, -candidates[t] * (1 + share[t]), t)
        )

        def holding(
            term: str, members: list[int] = members, text: _TopicText = text
        ) -> list[Paper]:
            return [papers[members[i]] for i in text.papers_with(term)[:SURFACE_SAMPLE]]

        def fragment(term: str) -> bool:
            # 'ray' of 'X-ray', and 'ray microcalorimeter' of 'X-ray microcalorimeter'
            return _hyphen_bound(spelled(term), holding(term))

        shown = []
        for term in _pick_terms(ranked, text, TOPIC_TERMS, synonyms, fragment):
            if term not in surfaces:
                surfaces[term] = _surface(spelled(term), holding(term))
            shown.append(surfaces[term])
        drafts.append((cluster, int((clusters == cluster).sum()), dedupe(shown)))
    ordered = sorted(_unique_labels(drafts), key=lambda d: (-d[1], d[3], d[0]))
    new_id = {cluster: i for i, (cluster, *_rest) in enumerate(ordered)}
    topics = [
        Topic(id=new_id[c], label=label, terms=shown, size=size)
        for c, size, shown, label in ordered
    ]
    return topics, [new_id[c] for c in clusters.tolist()], surfaces


def _distinctive(clusters: np.ndarray, found: list[int], weights: sparse.csr_matrix) -> np.ndarray:
    """Class-based TF-IDF, (clusters, terms): a term's mean weight in the cluster times
    log(1 + its share of the cluster's papers / its smoothed share of the other papers).
    A term must be in two of the cluster's papers (one if the cluster has one)."""
    import numpy as np
    from scipy import sparse

    n = weights.shape[0]
    rows = np.searchsorted(found, clusters)
    member = sparse.csr_matrix(
        (np.ones(n, dtype=np.float32), (rows, np.arange(n))), shape=(len(found), n)
    )
    present = weights.copy()
    present.data[:] = 1
    sizes = np.asarray(member.sum(axis=1)).ravel()
    df_in = (member @ present).toarray()
    share_in = df_in / sizes[:, None]
    share_out = (df_in.sum(axis=0)[None, :] - df_in + 1) / (n - sizes[:, None] + 2)
    mean_weight = (member @ weights).toarray() / sizes[:, None]
    enough = df_in >= np.minimum(2, sizes)[:, None]
    return np.where(enough, mean_weight * np.log1p(share_in / share_out), 0.0)


class _TopicText:
    """The folded titles and abstracts of one topic's papers, to count and grow phrases."""

    def __init__(self, stream: Stream, folder: Folder) -> None:
        self.stream = stream
        self.folder = folder
        self._found: dict[str, np.ndarray] = {}  # a term is looked up for its rank, growth, use

    def _ids(self, term: str) -> list[int]:
        return [self.folder.find(word) or -1 for word in term.split()]

    def _find(self, term: str) -> np.ndarray:
        """Where `term` starts in the topic's stream."""
        found = self._found.get(term)
        if found is None:
            found = self._found[term] = self.stream.find(self._ids(term))
        return found

    def papers_with(self, term: str) -> list[int]:
        """The topic's papers (positions in its sample) that hold `term`."""
        return sorted(set(self.stream.paper_of(self._find(term)).tolist()))

    def df(self, term: str) -> int:
        """How many of the topic's papers hold `term`."""
        return len(self.papers_with(term))

    def title_share(self, term: str) -> float:
        """The share of the topic's titles that hold `term`: titles name topics."""
        stream = self.stream
        found = self._find(term)
        papers = stream.paper_of(found)
        in_title = found < stream.title_ends[papers]
        return len(set(papers[in_title].tolist())) / max(1, len(stream))

    def title_shares(self, terms: list[str]) -> dict[str, float]:
        """`title_share` of each term, its words and word pairs found in one pass over the
        titles (a topic ranks 40 candidates by it: one search each was a fifth of labelling)."""
        import numpy as np

        stream = self.stream
        ids = stream.ids.astype(np.int64)
        papers = len(stream)
        paper, in_title = stream.layout()
        width = len(self.folder.terms) + 1
        shares: dict[str, float] = {}
        singles: dict[int, list[str]] = {}
        doubles: dict[int, list[str]] = {}
        for term in terms:
            words = self._ids(term)
            if -1 in words or len(words) > 2:
                shares[term] = self.title_share(term)  # an unknown word, or a longer phrase
            elif len(words) == 1:
                singles.setdefault(words[0], []).append(term)
            else:
                doubles.setdefault(words[0] * width + words[1], []).append(term)
        pairs = ids[:-1] * width + ids[1:]
        pair_in_title = in_title[:-1] & (paper[:-1] == paper[1:])
        for values, usable, wanted in ((ids, in_title, singles), (pairs, pair_in_title, doubles)):
            if not wanted:
                continue
            at = np.flatnonzero(usable & np.isin(values, list(wanted)))
            # Each (term, paper) once: a share counts titles, not uses.
            hits = np.unique(values[at] * (papers + 1) + paper[at]) // (papers + 1)
            keys, counts = np.unique(hits, return_counts=True)
            found = dict(zip(keys.tolist(), counts.tolist(), strict=True))
            for key, named in wanted.items():
                for term in named:
                    shares[term] = found.get(key, 0) / max(1, papers)
        return shares

    def complete(self, term: str) -> str:
        """`term` grown by a word that nearly always goes with it in this topic.

        'language model' -> 'large language model' when most of its uses say 'large ...'.
        """
        grown = True
        while grown and len(term.split()) < 3:
            grown = False
            for before in (True, False):
                neighbour = self._neighbour(term, before)
                if neighbour:
                    term = f"{neighbour} {term}" if before else f"{term} {neighbour}"
                    grown = True
                    break
        return term

    def _neighbour(self, term: str, before: bool) -> str | None:
        ids = self._ids(term)
        found = self._find(term)
        if len(found) < 2:
            return None
        at = found - 1 if before else found + len(ids)
        at = at[(at >= 0) & (at < len(self.stream.ids))]
        words = self.stream.ids[at]
        keep = words != BREAK
        for own in set(ids):  # a phrase of one to three words: no np.isin on a tiny array
            keep &= words != own
        words = words[keep]
        if not len(words):
            return None
        # The commonest word, ties to the lowest term number (fixed for a corpus).
        count, word = max((n, -w) for w, n in Counter(words.tolist()).items())
        if count >= 2 and count >= COMPLETE_SHARE * len(found):
            return self.folder.terms[-word]
        return None


def _pick_terms(
    ranked: list[str],
    text: _TopicText,
    limit: int,
    synonyms: dict[str, list[str]],
    fragment: Callable[[str], bool],
) -> list[str]:
    """Up to `limit` terms that share no word, so no fragment repeats inside a phrase.

    ['fine', 'grained', 'fine grained', 'image'] -> ['fine grained', 'image']: a phrase takes
    the place of its words when it covers at least half of their uses, else it is skipped;
    overlapping phrases join when the papers say the joined phrase
    ('next token' + 'token prediction' -> 'next token prediction'). An acronym and its
    expansion count as one term ('llm', 'large language model'). A word the papers only write
    as part of a hyphenated word ('fine' of 'fine-tuning', 'fine-grained') is never a term.
    """
    chosen: list[str] = []
    for candidate in ranked:
        if len(chosen) >= limit:
            break
        term = text.complete(candidate)
        if any(_same_thing(term, c, synonyms) for c in chosen):
            continue
        # `fragment` reads the papers' text, so it is asked last: only of a term about to be
        # taken, which is the same as asking it of every term first.
        words = set(term.split())
        overlapping = [c for c in chosen if words & set(c.split())]
        if not overlapping:
            if not fragment(term):
                chosen.append(term)
            continue
        if len(overlapping) > 1 or any(term == c or _inside(term, c) for c in overlapping):
            continue
        old = overlapping[0]
        if _inside(old, term):
            if text.df(term) >= 0.5 * text.df(old) and not fragment(term):
                chosen[chosen.index(old)] = term
            continue
        joined = _join_overlap(old, term) or _join_overlap(term, old)
        if joined and text.df(joined) >= 2 and not fragment(term):
            chosen[chosen.index(old)] = joined
    return chosen


def _same_thing(a: str, b: str, synonyms: dict[str, list[str]]) -> bool:
    """Do two terms name one thing through an acronym? ('gs', '3d gaussian splatting') -> True
    when the papers define 'Gaussian Splatting (GS)'."""
    return any(
        other == whole or _inside(other, whole)
        for short, whole in ((a, b), (b, a))
        for other in synonyms.get(short, [])
    )


def _join_overlap(first: str, second: str) -> str | None:
    """'next token', 'token prediction' -> 'next token prediction'; None if they do not chain."""
    a, b = first.split(), second.split()
    for size in range(min(len(a), len(b)) - 1, 0, -1):
        if a[-size:] == b[:size]:
            return " ".join(a + b[size:])
    return None


def _inside(small: str, big: str) -> bool:
    """Is phrase `small` a whole-word part of phrase `big`? ('fine', 'fine grained') -> True."""
    return small != big and f" {small} " in f" {big} "


def surface(term: str, spellings: Callable[[str], list[str]], papers: Sequence[Paper]) -> str:
    """The way the papers most often write a folded term.

    'diffusion model' -> 'diffusion models'; 'pretraining' -> 'pre-training';
    'llm' -> 'LLMs'. Abstracts are searched first (titles capitalise every word).
    """
    return _surface(_Written(term, spellings), papers)


def _surface(written: _Written, papers: Sequence[Paper]) -> str:
    for texts in ([p.abstract for p in papers], [p.title for p in papers]):
        seen = Counter(
            " ".join(text[start:end].split()) for text in texts for start, end in written.find(text)
        )
        if seen:
            return _commonest_spelling(seen)
    return written.term


def _hyphen_bound(written: _Written, papers: Sequence[Paper]) -> bool:
    """Do the papers write a term mostly (80%) glued by a hyphen to another word?"""
    bound = total = 0
    for paper in papers:
        for text in (paper.title, paper.abstract):
            for start, end in written.find(text):
                total += 1
                bound += text[end : end + 1] in _DASHES or text[start - 1 : start] in _DASHES
    return total > 0 and bound >= 0.8 * total


_DASHES = frozenset("-‐‑")


class _Written:
    """Where a folded term is written in a text: the spans `_spelling_pattern(term)` matches.

    A label reads a dozen papers for each of some 150 terms, and compiling a pattern for each
    was most of that time, so in an ASCII text the pattern's own search is done here by hand,
    with the same result (`_spans`); the pattern is compiled only for a text it must read.
    """

    def __init__(self, term: str, spellings: Callable[[str], list[str]]) -> None:
        self.term = term
        self.spellings = spellings
        self.heads = _heads(term, spellings)
        # Each word's forms in the pattern's order, each as its pieces between runs of spaces
        # and dashes; None when a form is not ASCII words (IGNORECASE is then not lower()).
        forms = [
            tuple(tuple(form.lower().split(" ")) for form in _forms(word, spellings))
            for word in term.split()
        ]
        plain = all(_ascii_word(piece) for word in forms for form in word for piece in form)
        self.forms = forms if plain and self.heads else None
        self._pattern: re.Pattern[str] | None = None
        self._found: dict[str, list[tuple[int, int]]] = {}

    def find(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each match in `text`, in order, as `pattern.finditer` gives them."""
        found = self._found.get(text)
        if found is None:
            found = self._found[text] = self._search(text)
        return found

    def _search(self, text: str) -> list[tuple[int, int]]:
        if self.forms is not None and text.isascii():
            return _spans(self.forms, self.heads, _lowered(text))
        if self._pattern is None:
            self._pattern = _spelling_pattern(self.term, self.spellings)
        return [m.span() for m in _finditer(self._pattern, self.heads, text)]


@lru_cache(maxsize=256)
def _lowered(text: str) -> str:
    """A text lowered, kept for the next term searched in the same few papers."""
    return text.lower()


def _ascii_word(piece: str) -> bool:
    """An ASCII piece that starts and ends with a word character (dashes only inside)."""
    return bool(piece) and piece.isascii() and _is_word(piece[0]) and _is_word(piece[-1])


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # the pattern's \w


def _spans(
    forms: list[tuple[tuple[str, ...], ...]], heads: tuple[str, ...], lowered: str
) -> list[tuple[int, int]]:
    """The matches of `_spelling_pattern` in an ASCII text lowered, found as the pattern finds
    them: at each place a head starts (not inside a word), the words' forms are tried in the
    pattern's order, the first that leads to a whole match wins, and the next match starts
    after it. A form's pieces start and end with word characters, so a run of spaces and
    dashes between them can only be taken whole, as the pattern's greedy run takes it."""
    found = []
    end = 0
    for at in _head_starts(heads, lowered):
        if at < end or (at and _is_word(lowered[at - 1])):
            continue
        matched = _match_words(forms, 0, lowered, at)
        if matched >= 0:
            end = matched
            found.append((at, end))
    return found


def _head_starts(heads: tuple[str, ...], lowered: str) -> list[int]:
    """Every place, in order, where one of `heads` starts in a lowered text."""
    starts = set()
    for head in heads:
        at = lowered.find(head)
        while at >= 0:
            starts.add(at)
            at = lowered.find(head, at + 1)
    return sorted(starts)


def _match_words(forms: list[tuple[tuple[str, ...], ...]], word: int, text: str, at: int) -> int:
    """Where a match of words `word`... starting at `at` ends, or -1."""
    for form in forms[word]:
        end = _match_form(form, text, at)
        if end < 0:
            continue
        if word + 1 == len(forms):
            if end < len(text) and _is_word(text[end]):
                continue  # the pattern's (?!\w)
            return end
        after = _skip_separators(text, end)
        if after > end and (whole := _match_words(forms, word + 1, text, after)) >= 0:
            return whole
    return -1


def _match_form(form: tuple[str, ...], text: str, at: int) -> int:
    for i, piece in enumerate(form):
        if i:
            after = _skip_separators(text, at)
            if after == at:
                return -1
            at = after
        if not text.startswith(piece, at):
            return -1
        at += len(piece)
    return at


def _skip_separators(text: str, at: int) -> int:
    """The end of the run of spaces and dashes at `at` (the pattern's [\\s\\-‐‑]+)."""
    while at < len(text) and (text[at].isspace() or text[at] in _DASHES):
        at += 1
    return at


def _heads(term: str, spellings: Callable[[str], list[str]]) -> tuple[str, ...]:
    """The lower-case text every match of `_spelling_pattern(term)` starts with, one of these:
    the first word's forms up to a space or dash. () when one is not ASCII letters and digits."""
    heads = {
        _DASH_OR_SPACE.split(form, maxsplit=1)[0].lower()
        for form in _forms(term.split()[0], spellings)
    }
    if not all(head.isascii() and head.isalnum() for head in heads):
        return ()
    return tuple(sorted(heads))


def _finditer(
    pattern: re.Pattern[str], heads: tuple[str, ...], text: str
) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, the pattern tried only where one of its `heads` starts.

    In an ASCII text lowered, an ASCII head is found exactly where IGNORECASE could match it,
    and `match` at a position still sees the character before it (the pattern's `(?<!\\w)`), so
    the matches are the same; scanning every position of every abstract was most of the time
    labels took."""
    if not heads or not text.isascii():
        yield from pattern.finditer(text)
        return
    lowered = text.lower()
    end = 0
    for at in _head_starts(heads, lowered):
        if at >= end and (match := pattern.match(text, at)):
            end = match.end()
            yield match


_DASH_OR_SPACE = re.compile(r"[\s\-‐‑]")


def _forms(word: str, spellings: Callable[[str], list[str]]) -> list[str]:
    """How the papers write a folded word, longest first: 'pretraining' -> ['pre training',
    'pre-training', 'pretraining'] (a space stands for any run of spaces and dashes)."""
    written = {w for w in spellings(word) if "'" not in w and "’" not in w} | {word}
    for prefix in PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) > 2:
            written |= {f"{prefix} {r}" for r in [*spellings(rest), rest]}
    return sorted(written, key=lambda w: (-len(w), w))


def _spelling_pattern(term: str, spellings: Callable[[str], list[str]]) -> re.Pattern[str]:
    def forms(word: str) -> str:
        return "|".join(re.escape(w).replace(r"\ ", r"[\s\-‐‑]+") for w in _forms(word, spellings))

    body = r"[\s\-‐‑]+".join(f"(?:{forms(w)})" for w in term.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _commonest_spelling(seen: Counter[str]) -> str:
    """The commonest spelling ignoring case, in its commonest case, or lower case when that is
    not rare (capitals from starting a sentence or from Title Case are not the word's own)."""
    by_fold: Counter[str] = Counter()
    for written, count in seen.items():
        by_fold[written.casefold()] += count
    best = min(by_fold, key=lambda w: (-by_fold[w], w))
    cases = sorted(
        ((count, written) for written, count in seen.items() if written.casefold() == best),
        key=lambda item: (-item[0], item[1]),
    )
    lower = [(count, written) for count, written in cases if written == written.lower()]
    if lower and lower[0][0] * 3 >= cases[0][0]:
        return lower[0][1]
    return cases[0][1]


def _unique_labels(
    drafts: list[tuple[int, int, list[str]]],
) -> list[tuple[int, int, list[str], str]]:
    """Labels of LABEL_TERMS terms, changed where two topics would read the same."""
    used: set[str] = set()
    labelled = []
    for cluster, size, shown in sorted(drafts, key=lambda d: (-d[1], d[0])):
        options = [shown[:LABEL_TERMS]] + [
            [*shown[: LABEL_TERMS - 1], extra] for extra in shown[LABEL_TERMS:]
        ]
        labels = [", ".join(option) for option in options if option]
        base = labels[0] if labels else "other"
        labels += [base] + [f"{base} ({i})" for i in range(2, len(drafts) + 2)]
        label = next(label for label in labels if label not in used)
        used.add(label)
        labelled.append((cluster, size, shown, label))
    return labelled
