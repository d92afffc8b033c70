"""The property every parser keeps, shared by the parser tests and the fuzzing suite."""

from __future__ import annotations

import json
from collections.abc import Callable

from papercli.errors import ParseError
from papercli.models import Page


def check_page(parse: Callable[..., Page], data: bytes) -> None:
    """A Page of papers with ids and titles, or this parser's one-line ParseError."""
    try:
        page = parse(data)
    except ParseError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(page, Page)
    for paper in page.papers:
        assert isinstance(paper.id, str) and paper.id.strip(), paper
        assert isinstance(paper.title, str) and paper.title.strip(), paper
        json.dumps(paper.to_dict())  # storable: the store writes these as JSON
