"""`papercli profile`: what papercli has learned about the reader, as data and as a table.

{"likes": 3, "dislikes": 1, "library": 30, "followed": [{"name": "Yann LeCun",
 "papers": 2, "spellings": ["Yann LeCun"], "ambiguous": false}], "pull_up": [...],
 "push_down": [...], "trained_at": "2026-12-01T23:59:00Z", ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from papercli.personal.names import ambiguous, listed, matching_names
from papercli.personal.ranking import current_model
from papercli.personal.signals import DISLIKE, LIKE, Signals
from papercli.render import plural

if TYPE_CHECKING:
    from papercli.console import Environment

TOP_TERMS = 10


def profile(signals: Signals) -> dict[str, Any]:
    """The profile of the store's signals (training the model first if they changed)."""
    from papercli.personal.model import Scorer

    ratings = list(signals.ratings().values())
    names = signals.author_names()
    followed = []
    for name in signals.followed():
        spellings = matching_names(name, names)
        clash = ambiguous(name, names)
        followed.append(
            {
                "name": name,
                "spellings": spellings,
                "ambiguous": bool(clash),
                "papers": signals.count_papers_by(spellings),
            }
        )
    model = current_model(signals)
    up: list[str] = []
    down: list[str] = []
    if model is not None:
        up, down = Scorer(model.model).top_terms(TOP_TERMS)
    return {
        "likes": ratings.count(LIKE),
        "dislikes": ratings.count(DISLIKE),
        "library": len(signals.library_keys()),
        "followed_authors": len(followed),
        "followed": followed,
        "pull_up": up,
        "push_down": down,
        "trained_at": model.trained_at if model is not None else None,
        "trained_on": model.model["counts"] if model is not None else None,
    }


def print_profile(env: Environment, data: dict[str, Any]) -> None:
    """The profile as a table on stdout, then one line per ambiguous followed name."""
    from rich.table import Table

    table = Table(title="What papercli has learned", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("likes", str(data["likes"]))
    table.add_row("dislikes", str(data["dislikes"]))
    table.add_row("library papers", str(data["library"]))
    table.add_row("followed authors", str(data["followed_authors"]))
    for item in data["followed"]:
        note = f"{plural(item['papers'], 'paper')} in the store"
        if item["ambiguous"]:
            note += "; ambiguous: " + listed(item["spellings"])
        table.add_row(f"  {item['name']}", note)
    table.add_row("pull a paper up", ", ".join(data["pull_up"]) or "-")
    table.add_row("push a paper down", ", ".join(data["push_down"]) or "-")
    untrained = (
        "never (no unrated papers to tell your papers from)"
        if data["likes"] or data["library"]
        else "never (no likes or library yet)"
    )
    table.add_row("last trained", data["trained_at"] or untrained)
    env.out.print(table)
    for item in data["followed"]:
        if item["ambiguous"]:
            env.info(
                f"{item['name']!r} is ambiguous in the store: {listed(item['spellings'])};"
                " follow the full name to keep only one"
            )
