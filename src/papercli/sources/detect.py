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
# Unpacked size allowed in memory; bigger JSON lines files stream through `iter_file_papers`.
MAX_UNPACKED = 1024 * 1024 * 1024


def parse_any(data: bytes, *, url: str | None = None, name: str | None = None) -> Page:
    """Parse a body of any kind papercli reads, recognised by content.

    Raises ParseError when no source claims it, or when the claiming parser finds it broken.
    """
    label = name or url or "input"
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, label)
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


def iter_file_papers(path: str | PathLike[str]) -> Iterator[Paper]:
    """The papers of a file of any kind; JSON lines (gzipped or not) are streamed line by line.

    Raises UsageError when the file cannot be read, ParseError when its content is not readable.
    """
    for page in iter_file_pages(path, chunk=1):
        yield from page.papers


def iter_file_pages(path: str | PathLike[str], *, chunk: int = 5000) -> Iterator[Page]:
    """A file as Pages: JSON lines streamed in pages of `chunk` papers (so a 100,000-line file
    never sits in memory as one page), any other kind as the one Page its parser reads.

    Raises UsageError when the file cannot be read, ParseError when its content is not readable.
    """
    path = Path(path)
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
        with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
            head = [stream.readline()]
            while head[-1] and not head[-1].strip():
                head.append(stream.readline())
            if files.sniff_jsonl(head[-1]):
                try:
                    papers = files.iter_jsonl(itertools.chain(head, stream))
                    while batch := list(itertools.islice(papers, chunk)):
                        yield Page(kind="jsonl", papers=batch)
                except ParseError as exc:
                    raise ParseError(f"{path}: {exc.message}", hint=exc.hint) from exc
                return
            data = b"".join(head) + stream.read()
    except OSError as exc:
        if isinstance(exc, gzip.BadGzipFile):
            raise ParseError(f"{path}: damaged gzip data ({exc})") from exc
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (EOFError, zlib.error) as exc:
        raise ParseError(f"{path}: damaged gzip data ({exc or 'cut short'})") from exc
    yield parse_any(data, name=str(path))


def gunzip(data: bytes, label: str = "input") -> bytes:
    """Unpack gzip data (every member), refusing more than MAX_UNPACKED bytes."""
    out: list[bytes] = []
    size = 0
    while data.startswith(GZIP_MAGIC):
        unpacker = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            chunk = unpacker.decompress(data, MAX_UNPACKED - size + 1)
        except zlib.error as exc:
            raise ParseError(f"{label}: damaged gzip data ({exc})") from exc
        size += len(chunk)
        if size > MAX_UNPACKED:
            raise ParseError(
                f"{label}: unpacks to more than {MAX_UNPACKED // 2**20} MiB",
                hint="unpack it and read it as a file",
            )
        if not unpacker.eof:
            raise ParseError(f"{label}: damaged gzip data (cut short)")
        out.append(chunk)
        data = unpacker.unused_data
    return b"".join(out)
