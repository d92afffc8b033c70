"""Author names compared the way people write them: initials, accents, hyphens, "Last, First".

A name folds to (given names, family name), lower case, without accents or dots; a hyphen
joins the parts of one given name:

    >>> fold_name("Müller, Jörg-Peter")
    (('jorg-peter',), 'muller')
    >>> same_author("J.-P. Müller", "Jörg-Peter Muller")
    True
    >>> same_author("J. Smith", "Jane Smith"), same_author("John Smith", "Jane Smith")
    (True, False)

Given names match part by part, an initial agreeing with any part starting with it; a name with
fewer given names matches a longer one on the ones it has ("Yann LeCun" is "Yann A. LeCun"), but
not on half of a hyphenated one: "Y.-G." is the two parts of one name (Yu-Gang, or Yu Gang), so
it is not "Yi", and "Pin" is not "Pin-Yu". A lone initial stands for a whole given name, so "Y."
is "Yi" and "Yu-Gang" alike. A hyphen, a space or nothing between two parts is the same
("Yugang" is "Yu-Gang" and "Yu Gang"). Family names must be equal after folding ("Le Cun" is
"LeCun"); without a comma the last given names may belong to the family name, as in Spanish
double ones ("Iker Garcia Ferrero" is "García-Ferrero, Iker").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

# Particles written with the family name: "Ludwig van Beethoven" -> family "vanbeethoven".
_PARTICLES = frozenset(["van", "von", "der", "den", "de", "del", "della", "da", "di", "le", "la"])
_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv"])

FoldedName = tuple[tuple[str, ...], str]
Readings = tuple[FoldedName, ...]  # the ways a spelling can be read, fold_name's first
_UNDECOMPOSABLE = str.maketrans("øØłŁđĐ", "oOlLdD")


def strip_accents(text: str) -> str:
    """'Jörg Ørsted' -> 'Jorg Orsted' (letters without a decomposition mapped by hand)."""
    text = text.translate(_UNDECOMPOSABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _given_names(text: str) -> list[str]:
    """'J.-P. Sartre' -> ['j-p', 'sartre'] (a hyphen joins the parts of one name); 'JP' ->
    ['j', 'p'] (capitals run together are initials); 'Jean-Pierre' -> ['jean-pierre']."""
    names: list[str] = []
    end = 0
    for match in re.finditer(r"[^\W\d_]+", text):
        word = match.group()
        pieces = list(word.lower()) if word.isupper() and len(word) <= 3 else [word.lower()]
        if names and re.search(r"[-\u2010]", text[end : match.start()]):
            names[-1] += "-" + pieces.pop(0)
        names += pieces
        end = match.end()
    return names


def _letters(text: str) -> str:
    return "".join(re.findall(r"[^\W\d_]+", text)).lower()


def fold_name(name: str) -> FoldedName:
    """The (given names, family name) of an author name, folded; see the module docstring."""
    plain = strip_accents(" ".join(name.split()))
    if "," in plain:
        family, _, given = plain.partition(",")
        return tuple(n for n in _given_names(given) if n not in _SUFFIXES), _letters(family)
    words = [w for w in plain.split(" ") if w.strip(".").lower() not in _SUFFIXES]
    if not words:
        return (), ""
    family_words = [words.pop()]
    while words and words[-1].lower() in _PARTICLES:
        family_words.insert(0, words.pop())
    return tuple(_given_names(" ".join(words))), _letters(" ".join(family_words))


def readings(name: str) -> Readings:
    """fold_name's reading of `name`, then, when no comma says where the family name starts,
    the readings with its last given names joined to the family name, as a double one:

        >>> readings("Iker García Ferrero")
        ((('iker', 'garcia'), 'ferrero'), (('iker',), 'garciaferrero'))
    """
    given, family = fold_name(name)
    found = [(given, family)]
    if "," not in name:
        for cut in range(len(given) - 1, 0, -1):
            moved = [part for word in given[cut:] for part in word.split("-")]
            if any(len(part) == 1 for part in moved):  # an initial is never a family name
                break
            found.append((given[:cut], "".join(moved) + family))
    return tuple(found)


def _parts(given: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """('yu-gang', 'l') -> (('yu', False), ('gang', True), ('l', False)): each part of each
    given name, True when a hyphen joins it to the part before."""
    return tuple((part, i > 0) for name in given for i, part in enumerate(name.split("-")))


def _parts_agree(a: tuple[tuple[str, bool], ...], b: tuple[tuple[str, bool], ...]) -> bool:
    if not a or not b:  # the side with fewer given names decides, unless it stops mid-name
        rest = a or b
        return not rest or not rest[0][1]
    (x, _), (y, _) = a[0], b[0]
    same = x == y or (min(len(x), len(y)) == 1 and x[0] == y[0])
    return (
        (same and _parts_agree(a[1:], b[1:]))
        or _joined_agrees(a, b)
        or _joined_agrees(b, a)
        or _lone_initial_agrees(a, b)
        or _lone_initial_agrees(b, a)
    )


def _joined_agrees(a: tuple[tuple[str, bool], ...], b: tuple[tuple[str, bool], ...]) -> bool:
    """'Yugang' is 'Yu-Gang' and 'Yu Gang': one name written whole against its parts."""
    whole, joined = a[0][0], ""
    for k, (part, _) in enumerate(b):
        joined += part
        if len(part) == 1 or not whole.startswith(joined):
            return False
        if joined == whole:
            return k > 0 and _parts_agree(a[1:], b[k + 1 :])
    return False


def _lone_initial_agrees(a: tuple[tuple[str, bool], ...], b: tuple[tuple[str, bool], ...]) -> bool:
    """'Y.' stands for a whole given name, 'Yu-Gang' as much as 'Yi'; but 'F. Y.' is not
    'Fu-Xing', the Y. left over for a middle name the other spelling lacks."""
    initial, lone = a[0][0], len(a) == 1 or not a[1][1]
    if len(initial) != 1 or not lone or b[0][0][0] != initial:
        return False
    whole = 1
    while whole < len(b) and b[whole][1]:
        whole += 1
    rest_a, rest_b = a[1:], b[whole:]
    if whole == 1 or (rest_a and not rest_b):  # one part was agreed part by part already
        return False
    return _parts_agree(rest_a, rest_b)


def _given_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return _parts_agree(_parts(a), _parts(b))


def same_author(a: str | Readings, b: str | Readings) -> bool:
    """Do two spellings name the same author? See the module docstring for the rules."""
    readings_a = readings(a) if isinstance(a, str) else a
    readings_b = readings(b) if isinstance(b, str) else b
    return any(
        family_a and family_a == family_b and _given_agree(given_a, given_b)
        for given_a, family_a in readings_a
        for given_b, family_b in readings_b
    )


def name_key(name: str) -> str:
    """What stays of a spelling when case, accents, order and separators go; an initial keeps
    its dot, so a name written in full and its initials differ:

        >>> name_key("García-Ferrero, Iker"), name_key("Y.-G. Jiang"), name_key("Yugang Jiang")
        ('ikergarciaferrero', 'y.g.jiang', 'yugangjiang')
    """
    given, family = fold_name(name)
    return "".join(part + "." if len(part) == 1 else part for part, _ in _parts(given)) + family


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
    read = readings(name)
    return sorted({other for other in names if same_author(read, other)})


def ambiguous(name: str, names: Iterable[str]) -> list[str]:
    """Spellings `name` matches that are not one person: 'J. Smith' over 'Jane Smith' and
    'John Smith' -> both; 'Jane Smith' over 'J. Smith' and 'Jane Smith' -> [] (one person)."""
    found = matching_names(name, names)
    read = [readings(n) for n in found]
    clash = any(not same_author(x, y) for i, x in enumerate(read) for y in read[i + 1 :])
    return found if clash else []


SHOWN_NAMES = 8  # spellings listed in one line; the rest are counted


def listed(names: Sequence[str], limit: int = SHOWN_NAMES) -> str:
    """Names joined for one line, the rest counted: 'A / B / C and 197 more'."""
    shown = " / ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"
