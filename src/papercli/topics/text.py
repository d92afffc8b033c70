"""Research text -> folded terms: the normalisation papercli's topics and matching share.
(The first stage of the topics pipeline; also the acronyms the papers define.)

Abstracts write one idea many ways: "pre-training", "pretraining" and "pre training";
"modelling" and "modeling"; "optimise" and "optimize"; "diffusion models" and "diffusion model".
`Folder.tokens` folds each onto one term and drops LaTeX, URLs, numbers, stop words and the
boilerplate every paper repeats ("in this paper we propose a novel approach"), leaving a stream
of terms with `None` where a phrase breaks, so a bigram never spans a comma or a dropped word.

    >>> Folder().tokens("We propose a novel pre-training method for Diffusion Models.")
    [None, None, None, None, 'pretraining', None, None, 'diffusion', 'model', None]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import chain, pairwise
from typing import TYPE_CHECKING, NamedTuple

from papercli.models import Paper

if TYPE_CHECKING:
    import numpy as np


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Math and markup carry no topic words a reader would recognise; links and emails carry none.
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>]*[^\s)\]>.,;:]")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+\*?")
# Accents written in LaTeX keep their letter: Schr\"odinger -> Schrodinger, Fr\'{e}chet -> Frechet.
_LATEX_ACCENT = re.compile(r"\{?\\(?:['\"`^~=.]|[uvHckr](?=\{))\s*\{?([a-zA-Z])\}?\}?")
# A word may hold hyphens ("pre-training", "vision-language"); punctuation is kept as a token
# because it ends a phrase.
_WORD = re.compile(r"\w+(?:['’\-‐‑]\w+)*|[.,;:!?()\[\]{}\"|/–—\-\x1e\x1f]")
# The word pattern's one-character words that are never part of a longer word ('-' joins
# words), each folded to a break.
_LONE_MARKS = '.,;:!?()[]{}"|/–—'
# Term numbers of the markers `Folder.encode_papers` writes after each title and each paper.
TITLE_END = 1
PAPER_END = 2
_MARKERS = {"\x1f": TITLE_END, "\x1e": PAPER_END}
# What `encode_papers` writes for the markers: characters `str.split` keeps (unlike \x1e and
# \x1f, which it counts as white space) and `clean` takes out of the papers' own text.
_SPLIT_MARKERS = {"\ue01f": TITLE_END, "\ue01e": PAPER_END}
_SPLIT_BATCH = 128  # papers whose text is split into pieces at once (`Folder.encode_papers`)
_HYPHENS = re.compile(r"['’]s$|['’]|[\-‐‑]")
# The few number-led words that name a thing: 2D, 3D, 5G.
_NUMBER_WORD = re.compile(r"\dd|[456]g")
_BREAKS = re.compile(r"(?: \|)+")

# Prefixes that are never words on their own: "pre-training", "pre training" -> "pretraining".
PREFIXES = _words("pre post non multi semi anti inter intra sub")
# Prefixes joined only when hyphenated ("co-training", "self-supervised"; "CO emission" apart).
_HYPHEN_PREFIXES = PREFIXES | _words("super co re un bi over under self")
# Second halves that only say "this kind of": "diffusion-based" -> "diffusion".
_WEAK_SUFFIXES = _words(
    "based driven aware free like level wise oriented related specific dependent guided "
    "enabled inspired powered assisted centric agnostic"
)
# Hyphenated boilerplate dropped whole.
_BOILERPLATE_COMPOUNDS = _words(
    "state-of-the-art plug-and-play off-the-shelf step-by-step out-of-the-box "
    "easy-to-use well-known so-called large-scale real-world long-standing"
)

STOP_WORDS = _words("""
    a about above across after again against al all almost along already also although always
    am among an and another any are aren't around as at be became because been before being
    below between beyond both but by can cannot could did do does doing done down due during
    each either else enough especially et etc even ever every few for from further furthermore
    had has have having he her here hers herself him himself his how however i ie if in into
    is it its itself just least less let like likewise made many may me might more moreover
    most mostly much must my myself namely neither never nevertheless no nor not now of off
    often on once one only onto or other others otherwise our ours ourselves out over own per
    perhaps rather same several shall she should since so some still such than that the their
    theirs them themselves then there thereby therefore these they this those though three
    through thus to together too toward towards two under unless until up upon us very via was
    we well were what whatever when whenever where whereas whether which while who whom whose
    why will with within without would yet you your yours
    able achieve achieved achieves achieving address addressed addresses addressing allow
    allowing allows alternative analyze analyzed analyzes approach approaches art based
    better called case cases challenge challenges challenging characterize characterized
    compared comparison competitive comprehensive conduct conducted consider considered
    considering consistently contribution contributions crucial current currently demonstrate
    demonstrated demonstrates demonstrating describe described design designed despite develop
    developed developing different difficult effective effectively effectiveness efficient
    efficiently enable enabled enables enabling enhance enhanced enhances enhancing evaluate
    evaluated evaluating existing experiments explore explored exploring extensive extensively
    feasible finally find findings first focus focused framework frameworks fully gain gains
    given good great higher highly identify important improve improved improvement
    improvements improves improving include included includes including increase increasing
    increasingly indicate introduce introduced introduces introducing investigate
    investigated key known largely lead leading leads learn level limited lower main mainly
    method methods methodology new notably novel observe observed obtain obtained offer offers
    outperform outperforming outperforms overall paper particular particularly perform
    performance performed performing performs potential present presented presents previous
    previously primarily problem problems promising propose proposed proposes provide provided
    provides providing range recent recently reduce reduced reduces reducing remain remains
    report reported require required requires research respectively result results reveal
    reveals robust second setting settings show showed showing shown shows significant
    significantly similar simple simultaneously specific specifically strategy strong studied
    studies study successfully suggest superior support task tasks technique techniques terms
    third use used uses useful using usually valuable variety various version way ways whole
    wide widely work works yield yields
    """)

# British -> American spellings no suffix rule catches.
_SPELLINGS = {
    "centre": "center", "centres": "centers", "centred": "centered", "fibre": "fiber",
    "fibres": "fibers", "metre": "meter", "metres": "meters", "litre": "liter",
    "programme": "program", "programmes": "programs", "catalogue": "catalog",
    "catalogues": "catalogs", "defence": "defense", "licence": "license", "ageing": "aging",
    "artefact": "artifact", "artefacts": "artifacts", "grey": "gray", "judgement": "judgment",
    "aluminium": "aluminum", "sulphur": "sulfur", "analyse": "analyze", "analysed": "analyzed",
    "analysing": "analyzing", "catalyse": "catalyze", "catalysed": "catalyzed",
    "paralyse": "paralyze", "oesophagus": "esophagus", "oestrogen": "estrogen",
    "haemoglobin": "hemoglobin", "anaemia": "anemia", "tumour": "tumor", "tumours": "tumors",
    "travelling": "traveling",
}  # fmt: skip
# -our words (behaviour, colour ...) and -ll- doublings (modelling, labelled ...) by root.
_OUR = re.compile(
    r"^(behavi|col|neighb|fav|lab|harb|hum|flav|rum|vap|hon|vig|arm|endeav|od|sav)our"
)
_DOUBLE_L = re.compile(
    r"^(model|label|travel|signal|cancel|fuel|level|tunnel|channel|counsel|total|marshal"
    r"|funnel|jewel|dial|equal|rival|pixel|kernel|shovel|parcel|barrel)l(ing|ed|er|ers)$"
)
# -ise/-isation -> -ize/-ization, except the words whose -ise is not that suffix.
_ISE = re.compile(r"^(\w{3,})is(e|ed|es|ing|ation|ations|er|ers|able)$")
_ISE_ENDINGS = ("ise", "ised", "ises", "ising", "isation", "isations", "iser", "isers", "isable")
_ISE_EXCEPTIONS = re.compile(
    r"(noise|wise|^rise|arise|cise|vise|prise|romise|emise|raise|guise|poise|cruise|chise"
    r"|adise|ndise|pertise|vertise|chastise|mortise)$"
)
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
_PLURAL_EXCEPTIONS = _words(
    "alias atlas bias canvas chaos cosmos ethos gas kudos lens news pancreas series species "
    "thermos whereas has was does his this its plus thus yes bus axis iris gis gps"
)

Terms = tuple[str | None, ...]
_BREAK: Terms = (None,)


def fold_word(word: str) -> str:
    """One lower-case word's folded form: American spelling, singular.

    'modelling' -> 'modeling', 'optimisation' -> 'optimization', 'behaviours' -> 'behavior',
    'models' -> 'model', 'studies' -> 'study', 'approaches' -> 'approach', 'bias' -> 'bias'.
    """
    word = _SPELLINGS.get(word, word)
    if "our" in word:
        word = _OUR.sub(r"\1or", word)
    if "ll" in word:
        word = _DOUBLE_L.sub(r"\1\2", word)
    ise = _ISE.match(word) if word.endswith(_ISE_ENDINGS) else None
    if ise and not _ISE_EXCEPTIONS.search(ise.group(1) + "ise"):
        word = f"{ise.group(1)}iz{ise.group(2)}"
    return _singular(word)


def _singular(word: str) -> str:
    if not word.endswith("s") or word in _PLURAL_EXCEPTIONS:
        return word
    if len(word) <= 3:
        return word[:-1] if len(word) == 3 else word  # an acronym's plural: 'LMs', 'AIs', 'IDs'
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("us") and _CONSONANTS.issuperset(word[:-2]):
        return word[:-1]  # 'GPUs' -> 'gpu'; 'corpus' stays
    if word.endswith("is") and len(word) == 4:
        return word[:-1]  # 'APIs' -> 'api'; 'axis' is an exception
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def clean(text: str) -> str:
    """Lower-cased text without math, LaTeX commands, links and emails.

    'Pre-training with $\\alpha$ (see https://x.org).' -> 'pre-training with   (see  ).'
    """
    if "$" in text or "\\" in text:
        text = _LATEX_ACCENT.sub(r"\1", text)
        text = _MATH.sub(" ", text)
        text = _LATEX_COMMAND.sub(" ", text).replace("{", " ").replace("}", " ")
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:  # an email address, or a handle: no topic words either way
        text = " ".join(word for word in text.split() if "@" not in word)
    if "\x1e" in text or "\x1f" in text or "\ue01e" in text or "\ue01f" in text:
        for marker in ("\x1e", "\x1f", "\ue01e", "\ue01f"):
            text = text.replace(marker, " ")
    return text.lower()


def _term(word: str) -> str | None:
    """A plain word's term, None for stop words, numbers and single letters."""
    if len(word) < 2 or word in STOP_WORDS:
        return None
    if not word[0].isalpha():
        return word if _NUMBER_WORD.fullmatch(word) else None
    term = fold_word(word)
    return None if len(term) < 2 or term in STOP_WORDS else term


def fold_compound(word: str) -> Terms:
    """The terms of one word as written, hyphens and all.

    'pre-training' -> ('pretraining',); 'vision-language' -> ('vision', 'language');
    'diffusion-based' -> ('diffusion',); 'state-of-the-art' -> (None,); ',' -> (None,)
    """
    if word.isalpha():
        return (_term(word),)
    if not word[0].isalnum() or word in _BOILERPLATE_COMPOUNDS:
        return _BREAK
    return _fold_parts(_HYPHENS.sub(" ", word).split())


def _fold_parts(parts: list[str]) -> Terms:
    """The terms of a word's parts between hyphens ('vision', 'language')."""
    if len(parts) == 1:
        return (_term(parts[0]),)
    joined: list[str] = []
    for part in parts:
        if joined and joined[-1] in _HYPHEN_PREFIXES:
            joined[-1] += part
        else:
            joined.append(part)
    if len(joined) > 1 and joined[-1] in _WEAK_SUFFIXES:
        joined.pop()
    return tuple(_term(part) for part in joined)


def _hyphenated(word: str) -> list[str] | None:
    """The parts of a word of letters and digits joined by single ASCII hyphens, which is one
    word of `_WORD` and which `fold_compound` cuts at those hyphens alone; None otherwise.

    'real-time' -> ['real', 'time']; 'gpt-4' -> ['gpt', '4']; 'x--y', "model's" -> None
    """
    parts = word.split("-")
    if len(parts) > 1 and "" not in parts and "".join(parts).isalnum():
        return parts
    return None


class Folder:
    """Folds text to terms, numbered, remembering each word's fold so a corpus pays once a word.

    Term 0 is the phrase break; `terms[i]` is term i. The memory also answers which words of the
    corpus fold to a term (`spellings`), which is how a label finds the spelling readers know.

        >>> folder = Folder()
        >>> [folder.terms[i] for i in folder.encode("Multi agent, multi-agents")]
        ['multiagent', '', 'multiagent']
    """

    def __init__(self) -> None:
        self.terms: list[str] = ["", *_MARKERS]
        self._ids: dict[str, int] = {term: i for i, term in enumerate(self.terms)}
        self.prefix_ids: set[int] = set()
        self.spelled: list[list[str]] = [[] for _ in self.terms]  # term number -> its words
        self._pieces = _Pieces(self)
        for marker, i in {**_MARKERS, **_SPLIT_MARKERS}.items():
            self._pieces.add(marker, (i,))

    def term_id(self, term: str | None) -> int:
        """The number of a term (0 for None), numbering it if it is new."""
        if not term:
            return 0
        found = self._ids.get(term)
        if found is None:
            found = self._ids[term] = len(self.terms)
            self.terms.append(term)
            self.spelled.append([])
            if term in PREFIXES:
                self.prefix_ids.add(found)
        return found

    def find(self, term: str) -> int | None:
        """The number of a known term, None if the corpus never had it."""
        return self._ids.get(term)

    def encode(self, text: str) -> list[int]:
        """The term numbers of `text` in order, 0 where a phrase breaks.

        A digest with queries folds every paper's title and abstract here: the pieces' term
        numbers are read straight from the flat lists, most of them one number long, rather
        than through a slice per piece (a quarter of the time on 2,000 texts)."""
        pieces = self._pieces
        numbers = list(map(pieces.__getitem__, clean(text).split()))
        terms, starts, lengths = pieces.terms, pieces.starts, pieces.lengths
        ids: list[int] = []
        append, extend = ids.append, ids.extend
        for number in numbers:
            start = starts[number]
            if lengths[number] == 1:
                append(terms[start])
            else:
                extend(terms[start : start + lengths[number]])
        if not self.prefix_ids.isdisjoint(ids):
            ids = self._join_prefixes(ids)
        return ids

    def encode_papers(self, papers: Iterable[tuple[str, str]]) -> np.ndarray:
        """The term numbers of many (title, abstract) pairs at once, each title followed by
        TITLE_END and each abstract by PAPER_END. One pass over one string is much faster
        than a pass per text; prefixes written apart are left for `join` to glue.

        The text is cut at white space, and each piece ('training,' or 'pre-training') is
        looked up whole: a corpus repeats its pieces, so the word pattern runs once per
        distinct piece (`_Folds`) instead of once per word. No word of `_WORD` spans white
        space, so the terms are the same as `_WORD.findall` over the whole text. The text is
        split `_SPLIT_BATCH` papers at a time: the pieces of 4,096 abstracts alone took 40 MB."""
        import numpy as np

        pieces = self._pieces
        found: list[int] = []
        texts: list[str] = []
        for title, abstract in papers:
            texts.append(f"{clean(title)} \ue01f {clean(abstract)} \ue01e ")
            if len(texts) == _SPLIT_BATCH:
                found += map(pieces.__getitem__, "".join(texts).split())
                texts.clear()
        found += map(pieces.__getitem__, "".join(texts).split())
        numbers = np.asarray(found, np.int64)
        del found
        # Each piece's run of term numbers, laid end to end (numpy, not a Python loop).
        starts = np.asarray(pieces.starts, np.int64)[numbers]
        lengths = np.asarray(pieces.lengths, np.int64)[numbers]
        ends = np.cumsum(lengths)
        positions = np.repeat(starts - (ends - lengths), lengths) + np.arange(
            ends[-1] if len(ends) else 0
        )
        return np.asarray(pieces.terms, np.int32)[positions]

    def join(self, prefix: int, following: int) -> int:
        """The term of a prefix and the term after it: ('pre', 'training') -> 'pretraining'."""
        joined = self.terms[prefix] + self.terms[following]
        return self.term_id(_term(joined) or joined)

    def tokens(self, text: str) -> list[str | None]:
        """The terms of `text` in order, None where a phrase breaks."""
        terms = self.terms
        return [terms[i] or None for i in self.encode(text)]

    def spellings(self, term: str) -> list[str]:
        """The words of the corpus that fold to exactly `term`: 'model' -> ['models', 'model']."""
        found = self._ids.get(term)
        return self.spelled[found] if found is not None else []

    def learnt(self) -> Learnt:
        """What this folder learnt from its texts, as plain lists (to send to another process)."""
        pieces = self._pieces
        return Learnt(
            self.terms, self.spelled, list(pieces), pieces.terms, pieces.starts, pieces.lengths
        )

    def absorb(self, other: Learnt) -> np.ndarray:
        """Takes in what another folder learnt from texts that come after this folder's, and
        returns that folder's term numbers as this one's (`absorb(...)[i]` for its term i).

        Afterwards this folder holds what it would had it read those texts itself, in the same
        order: the same term numbers, spellings and pieces. A term the other folder met first
        is new here only if this folder never met it, and new terms are numbered in the order
        the other folder met them, which is the order reading its texts here would meet them."""
        import numpy as np

        numbers = np.fromiter(map(self.term_id, other.terms), np.int32, len(other.terms))
        pieces = self._pieces
        # Spellings first: a word is a new spelling only if no earlier text had it as a piece.
        for number, words in enumerate(other.spelled):
            new = [word for word in words if word not in pieces]
            if new:
                self.spelled[numbers[number]].extend(new)
        for number, piece in enumerate(other.pieces):
            if piece not in pieces:
                start = other.starts[number]
                ids = numbers[other.piece_terms[start : start + other.lengths[number]]]
                pieces.add(piece, tuple(ids.tolist()))
        return numbers

    def _join_prefixes(self, ids: list[int]) -> list[int]:
        """['pre', 'training'] -> ['pretraining']: a prefix written apart joins the next term."""
        out: list[int] = []
        for i in ids:
            if out and out[-1] in self.prefix_ids and i > PAPER_END:
                out[-1] = self.join(out[-1], i)
            else:
                out.append(i)
        return out


class Learnt(NamedTuple):
    """A folder's terms, spellings and pieces (see `Folder.learnt` and `Folder.absorb`)."""

    terms: list[str]
    spelled: list[list[str]]
    pieces: list[str]  # in the order they were met; piece i's term numbers are
    piece_terms: list[int]  # piece_terms[starts[i] : starts[i] + lengths[i]]
    starts: list[int]
    lengths: list[int]


class _Pieces(dict[str, int]):
    """piece of text between white space -> its number, folding a piece the first time it is
    looked up. Piece i's term numbers are `terms[starts[i] : starts[i] + lengths[i]]`, flat
    lists so that a whole corpus maps to term numbers with numpy."""

    def __init__(self, folder: Folder) -> None:
        super().__init__()
        self._folder = folder
        self.terms: list[int] = []
        self.starts: list[int] = []
        self.lengths: list[int] = []

    def add(self, piece: str, ids: tuple[int, ...]) -> int:
        number = self[piece] = len(self.starts)
        self.starts.append(len(self.terms))
        self.lengths.append(len(ids))
        self.terms.extend(ids)
        return number

    def ids(self, number: int) -> list[int]:
        start = self.starts[number]
        return self.terms[start : start + self.lengths[number]]

    def __missing__(self, piece: str) -> int:
        """A word ('pre-training') or several ('(e.g.,' is four), each word folded once.

        The common shapes skip the word pattern, with the terms it would give: a word of
        letters or digits alone ('models', 'gpt4'; `str.isalnum` is the pattern's `\\w`
        but '_'), or joined by hyphens ('real-time'), or either between marks ('models,')."""
        folder = self._folder
        if piece.isalnum():  # most pieces: one plain word
            number = folder.term_id(_term(piece))
            if number > PAPER_END:
                folder.spelled[number].append(piece)
            return self.add(piece, (number,))
        parts = _hyphenated(piece)
        if parts is not None:
            folded = _BREAK if piece in _BOILERPLATE_COMPOUNDS else _fold_parts(parts)
            return self._add_word(piece, folded)
        core = piece.strip(_LONE_MARKS)
        if core and core != piece and (core.isalnum() or _hyphenated(core) is not None):
            # 'models,' or '(real-time)': a word between marks, each mark a break
            number = self[core]
            lead = len(piece) - len(piece.lstrip(_LONE_MARKS))
            trail = len(piece) - lead - len(core)
            return self.add(piece, (0,) * lead + tuple(self.ids(number)) + (0,) * trail)
        words = _WORD.findall(piece)
        if len(words) == 1 and words[0] == piece:
            return self._add_word(piece, fold_compound(piece))
        return self.add(piece, tuple(chain.from_iterable(self.ids(self[word]) for word in words)))

    def _add_word(self, piece: str, folded: Terms) -> int:
        ids = tuple(map(self._folder.term_id, folded))
        if len(ids) == 1 and ids[0] > PAPER_END:
            self._folder.spelled[ids[0]].append(piece)
        return self.add(piece, ids)


def ngrams(terms: list[str | None]) -> list[str]:
    """Unigrams, then the bigrams of adjacent terms: [a, b, None, c] -> [a, b, c, 'a b']."""
    unigrams = [t for t in terms if t]
    bigrams = [f"{a} {b}" for a, b in pairwise(terms) if a and b and a != b]
    return unigrams + bigrams


def phrase(folder: Folder, text: str) -> str:
    """Text folded to the space-joined terms it holds, '|' where a phrase breaks.

    'Diffusion-Models' -> 'diffusion model'; 'theory of mind' -> 'theory | mind'
    """
    terms = folder.terms
    joined = " ".join([terms[i] or "|" for i in folder.encode(text)])
    return _BREAKS.sub(" |", joined).strip(" |")


def dedupe(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))


# --- acronyms ---------------------------------------------------------------------------------

_ACRONYM = re.compile(r"\(\s*([A-Z][A-Za-z0-9\-]*[A-Z0-9])(s?)\s*\)")
_JOINERS = frozenset(["of", "and", "for", "the", "in", "on", "to", "with", "a", "an", "by"])


def acronyms(papers: Sequence[Paper], folder: Folder) -> dict[str, list[str]]:
    """Acronyms the papers define, folded, mapped both ways.

    'Large Language Models (LLMs)' -> {'llm': ['large language model'],
    'large language model': ['llm']}
    """
    table: dict[str, set[str]] = {}
    folded: dict[str, str] = {}  # the same acronyms and expansions recur across the papers

    def phrased(text: str) -> str:
        found = folded.get(text)
        if found is None:
            found = folded[text] = phrase(folder, text)
        return found

    for paper in papers:
        for text in (paper.title, paper.abstract):
            for match in _ACRONYM.finditer(text):
                before = text[max(0, match.start() - 120) : match.start()].split()[-8:]
                acronym = match.group(1)
                capitals = "".join(c for c in acronym if c.isupper())
                expansion = _expansion(before, acronym) or _expansion(before, capitals)
                if not expansion:
                    continue
                short = phrased(match.group(1) + match.group(2))
                long = phrased(" ".join(expansion))
                if short and long and short != long and "|" not in long:
                    table.setdefault(short, set()).add(long)
                    table.setdefault(long, set()).add(short)
    return {key: sorted(values) for key, values in sorted(table.items())}


def _expansion(words: list[str], acronym: str) -> list[str]:
    """The trailing words whose initials spell the acronym, or [] if they do not.

    (['we', 'use', 'Retrieval-Augmented', 'Generation'], 'RAG') ->
    ['Retrieval-Augmented', 'Generation']; LoRA is tried as 'LoRA' and as 'LRA'.
    """
    letters = [c.lower() for c in acronym if c.isalpha()]
    taken: list[str] = []
    for word in reversed(words):
        if not letters:
            break
        initials = [part[0].lower() for part in word.split("-") if part and part[0].isalnum()]
        if initials and initials == letters[-len(initials) :]:
            del letters[-len(initials) :]
            taken.append(word)
        elif initials and initials[-1] == letters[-1]:
            letters.pop()
            taken.append(word)
        elif word.lower() in _JOINERS and taken:
            taken.append(word)
        else:
            return []
    if letters or not taken or taken[-1].lower() in _JOINERS:
        return []
    return taken[::-1]
