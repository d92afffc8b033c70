"""Any URL: one of a known upstream is walked as that upstream, at the URL's own host; any other
is fetched once, exactly as written, and recognised by its content."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from papercli.errors import UsageError
from papercli.sources.base import SourceSpec, spec

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.models import Page
    from papercli.settings import FetchSettings

SCHEMES = ("http://", "https://")


class AnyUrl:
    """`https://arxiv.org/list/cs.LG/new`, `http://localhost:8000/saved.html`, ..."""

    prefix = "url"
    aliases: tuple[str, ...] = ()
    sniffers = ()

    def parse_name(self, rest: str) -> SourceSpec:
        if not rest.startswith(SCHEMES):
            raise UsageError(f"{rest!r} is not an http(s) URL")
        return spec("url", rest)

    def name(self, source: SourceSpec) -> str:
        return source.target

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        return [self.parse_name(arg) for arg in args]

    def from_url(self, url: str) -> SourceSpec | None:
        return None

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        from papercli.sources import detect, registry

        url = source.target
        for upstream in registry.SOURCES:
            routed = upstream.from_url(url)
            if routed is not None:
                yield from upstream.iter_pages(routed, client, fetch)
                return
        yield detect.parse_any(client(url), url=url, name=url, max_bytes=fetch.max_bytes)


SOURCE = AnyUrl()
