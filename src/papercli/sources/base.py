"""What every source is: a `SourceSpec` (one thing to fetch) and the `Source` protocol.

A Source is one upstream (Hugging Face, an arXiv listing, arXiv RSS, the arXiv API, a saved
file, any URL). It knows its name's prefix, how to read the rest of a name into a spec, the name
of a spec, the `papercli fetch PREFIX ARGS...` form, the URLs of its own that it recognises, how
to walk every page of a spec, and which saved bodies are its own (sniff -> parse, by content).
The sources are listed, in one place, in `papercli.sources.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.models import Page
    from papercli.settings import FetchSettings

Sniff = Callable[[bytes], bool]
Parser = Callable[..., "Page"]


@dataclass(frozen=True)
class SourceSpec:
    """One thing to fetch: `kind` is a Source's prefix (hf, arxiv, rss, api, file, url)."""

    kind: str
    target: str = ""  # category, categories, query, URL or path
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def opts(self) -> dict[str, Any]:
        return dict(self.options)

    @property
    def name(self) -> str:
        """The name stored with each paper and in the fetch log (see each Source's `name`)."""
        from papercli.sources.registry import source

        return source(self.kind).name(self)


def spec(kind: str, target: str = "", **options: Any) -> SourceSpec:
    """A SourceSpec with its options in a fixed order (None means "not given" and is left out)."""
    clean = tuple(sorted((k, v) for k, v in options.items() if v is not None))
    return SourceSpec(kind, target, clean)


class Source(Protocol):
    """One upstream. Adding one is a module with a class like this plus a line in the registry."""

    @property
    def prefix(self) -> str:
        """The first part of its names: "hf", "arxiv", ..."""
        ...

    @property
    def aliases(self) -> tuple[str, ...]:
        """Earlier spellings of the prefix, still understood."""
        ...

    @property
    def sniffers(self) -> tuple[tuple[Sniff, Parser], ...]:
        """(sniff, parse) pairs for saved bodies of this source, in the order they are asked."""
        ...

    def parse_name(self, rest: str) -> SourceSpec:
        """The spec of a name from the part after `PREFIX:` ('' for the bare prefix)."""
        ...

    def name(self, source: SourceSpec) -> str:
        """The one name of a spec, the same in the CLI, the config, the store and JSON."""
        ...

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        """The specs of `papercli fetch PREFIX ARGS...` with the fetch command's options."""
        ...

    def from_url(self, url: str) -> SourceSpec | None:
        """A URL of this upstream as a spec that pages from that URL's own host, or None."""
        ...

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        """Every page of `source`, read through `client`."""
        ...
