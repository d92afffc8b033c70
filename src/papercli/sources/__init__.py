"""The upstreams papercli reads, one module each, all with the same shape.

Each source module offers:
- `sniff(data: bytes) -> bool`: does this body look like this source's page? (content, not name)
- `parse(data: bytes, *, url: str | None = None) -> Page`: a pure parser; bad input raises
  `ParseError` whose message names the source and says what is wrong. An empty listing is not an
  error: it returns a Page with no papers.
- URL builders and `iter_pages(get, base_url, ...) -> Iterator[Page]`, which walks every page of a
  listing or query through `get(url) -> bytes` (the HTTP client, passed in so sources never do
  I/O themselves) and checks the total the pages announce.
"""
