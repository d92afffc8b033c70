"""Recognise a saved page or file by its content, whatever its name, and parse it.

Gzip is unpacked first. Then each source's sniffers are asked, in the order of
`registry.SOURCES`, and the first that claims the body parses it:

1. arXiv API (Atom)           `arxiv_api`
2. arXiv RSS / RDF feed       `arxiv_rss`
3. arXiv listing page (HTML)  `arxiv_listing`
4. Hugging Face /papers page  `hf.sniff_page`
5. Hugging Face API (JSON)    `hf.sniff_api`
6. JSON lines of papers       `files.sniff_jsonl`
7. plain text page            `files.sniff_text`

Feeds come before HTML because both are markup; the structured kinds come before plain text,
which is the loosest sniff and so the last resort.
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from papercli.errors import ParseError, UsageError
from papercli.models import Page, Paper
from papercli.sources import files
from papercli.sources.base import Parser

GZIP_MAGIC = b"\x1f\x8b"
# What one page (or one JSON line) may hold, unpacked: `max_bytes` of [fetch], the same cap as
# for a download. Bigger JSON lines files are fine: they stream line by line.
MAX_UNPACKED = 50 * 1024 * 1024


def parse_any(
    data: bytes,
    *,
    url: str | None = None,
    name: str | None = None,
    max_bytes: int = MAX_UNPACKED,
) -> Page:
    """Parse a body of any kind papercli reads, recognised by content; gzip data (even without
    a Content-Encoding) is unpacked up to `max_bytes`.

    Raises ParseError when no source claims it, or when the claiming parser finds it broken.
    """
    label = name or url or "input"
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, label, max_bytes)
    if not data.strip():
        what = "the file is empty" if url is None else "the server sent an empty page"
        raise ParseError(f"{label}: {what}", hint="fetch it again, or save the page again")
    parser = find_parser(data)
    if parser is None:
        raise ParseError(
            f"{label}: not a page papercli can read (expected an arXiv listing, RSS or API "
            "response, a Hugging Face Daily Papers page or API response, JSON lines or a "
            "text page)"
        )
    return parser(data, url=url)


def find_parser(data: bytes) -> Parser | None:
    """The parse function of the first source (in registry order) whose sniff claims `data`."""
    from papercli.sources.registry import sniffers

    for sniff, parse in sniffers():
        if sniff(data):
            return parse
    return None


def iter_file_papers(
    path: str | PathLike[str], *, max_bytes: int = MAX_UNPACKED
) -> Iterator[Paper]:
    """The papers of a file of any kind; JSON lines (gzipped or not) are streamed line by line.

    Raises UsageError when the file cannot be read, ParseError when its content is not readable.
    """
    for page in iter_file_pages(path, chunk=1, max_bytes=max_bytes):
        yield from page.papers


def iter_file_pages(
    path: str | PathLike[str], *, chunk: int = 5000, max_bytes: int = MAX_UNPACKED
) -> Iterator[Page]:
    """A file as Pages: JSON lines streamed in pages of `chunk` papers (so a 100,000-line file
    never sits in memory as one page), any other kind as the one Page its parser reads.

    Nothing bigger than `max_bytes` unpacked is held in memory: a page, or one JSON line, that
    is bigger (a gzip bomb, a file that is not what it seems) is refused as it is read.
    Raises UsageError when the file cannot be read, ParseError when its content is not readable.
    """
    path = Path(path)
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
        with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
            lines = _bounded_lines(stream, max_bytes, path, compressed)
            head = [next(lines, b"")]
            while head[-1] and not head[-1].strip():
                head.append(next(lines, b""))
            if files.sniff_jsonl(head[-1]):
                try:
                    papers = files.iter_jsonl(itertools.chain(head, lines))
                    while batch := list(itertools.islice(papers, chunk)):
                        yield Page(kind="jsonl", papers=batch)
                except ParseError as exc:
                    raise ParseError(f"{path}: {exc.message}", hint=exc.hint) from exc
                return
            start = b"".join(head)
            data = start + stream.read(max_bytes + 1 - len(start))
            if len(data) > max_bytes:
                raise _too_big(path, max_bytes, compressed)
    except OSError as exc:
        if isinstance(exc, gzip.BadGzipFile):
            raise ParseError(f"{path}: damaged gzip data ({exc})") from exc
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (EOFError, zlib.error) as exc:
        raise ParseError(f"{path}: damaged gzip data ({exc or 'cut short'})") from exc
    yield parse_any(data, name=str(path), max_bytes=max_bytes)


def _bounded_lines(stream, max_bytes: int, path: Path, compressed: bool) -> Iterator[bytes]:
    """The lines of `stream`, refusing one longer than `max_bytes` before it is all in memory."""
    while line := stream.readline(max_bytes + 1):
        if len(line) > max_bytes:
            raise _too_big(path, max_bytes, compressed, what="a line of it")
        yield line


def _too_big(path: Path, max_bytes: int, compressed: bool, what: str = "it") -> ParseError:
    size = f"more than {max_bytes / 2**20:g} MiB"
    return ParseError(
        f"{path}: {what} {'unpacks to' if compressed else 'holds'} {size}, over max_bytes",
        hint="raise max_bytes in [fetch] (PAPERCLI_MAX_BYTES) if the file is what you expect",
    )


def gunzip(data: bytes, label: str = "input", max_bytes: int = MAX_UNPACKED) -> bytes:
    """Unpack gzip data (every member), refusing more than `max_bytes` unpacked bytes; never
    holds more than that in memory."""
    out: list[bytes] = []
    size = 0
    while data.startswith(GZIP_MAGIC):
        unpacker = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            chunk = unpacker.decompress(data, max_bytes - size + 1)
        except zlib.error as exc:
            raise ParseError(f"{label}: damaged gzip data ({exc})") from exc
        size += len(chunk)
        if size > max_bytes:
            raise ParseError(
                f"{label}: unpacks to more than {max_bytes / 2**20:g} MiB, over max_bytes",
                hint="raise max_bytes in [fetch] (PAPERCLI_MAX_BYTES) if it is what you expect",
            )
        if not unpacker.eof:
            raise ParseError(f"{label}: damaged gzip data (cut short)")
        out.append(chunk)
        data = unpacker.unused_data
    return b"".join(out)
