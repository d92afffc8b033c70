"""Author names compared the way people write them: initials, accents, hyphens, "Last, First".

A name folds to (given names, family name), lower case, without accents or dots:

    >>> fold_name("Müller, Jörg-Peter")
    (('jorg', 'peter'), 'muller')
    >>> same_author("J.-P. Müller", "Jörg-Peter Muller")
    True
    >>> same_author("J. Smith", "Jane Smith"), same_author("John Smith", "Jane Smith")
    (True, False)

Given names match when each pair agrees, a lone initial agreeing with any name starting with it;
a name with fewer given names matches a longer one on the ones it has ("Yann LeCun" is "Yann A.
LeCun"). Family names must be equal after folding ("Le Cun" is "LeCun").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Particles written with the family name: "Ludwig van Beethoven" -> family "vanbeethoven".
_PARTICLES = frozenset(["van", "von", "der", "den", "de", "del", "della", "da", "di", "le", "la"])
_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv"])

FoldedName = tuple[tuple[str, ...], str]
_UNDECOMPOSABLE = str.maketrans("øØłŁđĐ", "oOlLdD")


def strip_accents(text: str) -> str:
    """'Jörg Ørsted' -> 'Jorg Orsted' (letters without a decomposition mapped by hand)."""
    text = text.translate(_UNDECOMPOSABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _given_parts(text: str) -> list[str]:
    """'J.-P.' -> ['j', 'p']; 'JP' -> ['j', 'p'] (capitals run together are initials);
    'Jean-Pierre' -> ['jean', 'pierre']."""
    parts: list[str] = []
    for word in re.findall(r"[^\W\d_]+", text):
        if word.isupper() and len(word) <= 3:
            parts += list(word.lower())
        else:
            parts.append(word.lower())
    return parts


def fold_name(name: str) -> FoldedName:
    """The (given names, family name) of an author name, folded; see the module docstring."""
    plain = strip_accents(" ".join(name.split()))
    if "," in plain:
        family, _, given = plain.partition(",")
        given_parts = [p for p in _given_parts(given) if p not in _SUFFIXES]
        return tuple(given_parts), "".join(_given_parts(family)).lower()
    words = [w for w in plain.split(" ") if w.strip(".").lower() not in _SUFFIXES]
    if not words:
        return (), ""
    family_words = [words.pop()]
    while words and words[-1].lower() in _PARTICLES:
        family_words.insert(0, words.pop())
    family = "".join(re.findall(r"[^\W\d_]+", " ".join(family_words))).lower()
    return tuple(_given_parts(" ".join(words))), family


def _given_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    for x, y in zip(a, b, strict=False):  # the shorter list of given names decides
        if len(x) == 1 or len(y) == 1:
            if x[0] != y[0]:
                return False
        elif x != y:
            return False
    return True


def same_author(a: str | FoldedName, b: str | FoldedName) -> bool:
    """Do two spellings name the same author? See the module docstring for the rules."""
    given_a, family_a = fold_name(a) if isinstance(a, str) else a
    given_b, family_b = fold_name(b) if isinstance(b, str) else b
    if not family_a or family_a != family_b:
        return False
    return _given_agree(given_a, given_b)


def name_key(name: str) -> str:
    """What stays of a spelling when case, accents, order and separators go; an initial keeps
    its dot, so a name written in full and its initials differ:

        >>> name_key("García-Ferrero, Iker"), name_key("Y.-G. Jiang"), name_key("Yugang Jiang")
        ('ikergarciaferrero', 'y.g.jiang', 'yugangjiang')
    """
    given, family = fold_name(name)
    return "".join(part + "." if len(part) == 1 else part for part in given) + family


def closest_names(name: str, names: Iterable[str]) -> list[str]:
    """The spellings among `names` that `name` matches, else those that read almost alike
    ('Yan LeCun' -> 'Yann LeCun'), sorted."""
    import difflib

    names = list(names)
    found = matching_names(name, names)
    if found:
        return found
    keys = {name_key(other): other for other in names}
    return sorted(keys[k] for k in difflib.get_close_matches(name_key(name), keys, cutoff=0.8))


def matching_names(name: str, names: Iterable[str]) -> list[str]:
    """The distinct spellings among `names` that `name` matches, sorted."""
    folded = fold_name(name)
    return sorted({other for other in names if same_author(folded, other)})


def ambiguous(name: str, names: Iterable[str]) -> list[str]:
    """Spellings `name` matches that are not one person: 'J. Smith' over 'Jane Smith' and
    'John Smith' -> both; 'Jane Smith' over 'J. Smith' and 'Jane Smith' -> [] (one person)."""
    found = matching_names(name, names)
    folded = [fold_name(n) for n in found]
    clash = any(not same_author(x, y) for i, x in enumerate(folded) for y in folded[i + 1 :])
    return found if clash else []
