"""papercli's one HTTP client: user agent, timeouts, retries, politeness, size cap and cache.

Every byte papercli reads from the network passes through `HttpClient.get`. The rules it keeps:

- Politeness: at least `min_interval` seconds between two requests to the same host (arXiv asks
  for one request every 3 s). The time of the last request per host is also written to the cache
  dir, so two runs started in quick succession (cron) stay polite too.
- Retries: 429, 5xx, connection errors, timeouts and bodies cut short are retried at most
  `retries` times, waiting `backoff * 2**n` seconds (capped at `MAX_BACKOFF`) or what the server's
  `Retry-After` asks (seconds or HTTP-date). A server asking for more than `max_retry_after`
  seconds is not waited for: the error says when to try again. A host that gave no answer at
  all (DNS, refused, timed out) after every retry is not tried again in the same run, and once
  one host is unreachable, another that gives no answer is not retried: an offline machine says
  so after one round of retries instead of one per source.
- Conditional GET: each 200 body is cached on disk with its ETag/Last-Modified; the next request
  sends If-None-Match/If-Modified-Since and a 304 is answered from the cache (status 304,
  `from_cache=True`). With `offline` the network is never touched: the cache answers (status 200,
  `from_cache=True`) or the call fails.
- Time: `timeout` bounds each connect and each read; `deadline` bounds one `get` as a whole
  (retries, waits, redirects and a body trickling in a byte at a time included) and `run_budget`
  all requests of one client (one fetch or run). Either running out is a `NetworkError` (exit 4)
  naming the setting to raise.
- Size: a body larger than `max_bytes` (after gzip decoding) is refused with a `NetworkError`: the
  fetch is what failed, and the page was never handed to a parser. A body cut short (fewer bytes
  than Content-Length, or the connection dropped) is an error too, never returned or cached.
- Redirects: at most `MAX_REDIRECTS`, never in a loop, to http(s) only, never https -> http, and
  only to the same scheme, host and port (or its https upgrade) or to those of a configured base
  URL (arxiv_url, rss_url, api_url, hf_url; a subdomain of its host too). The target is judged as
  urllib3 will connect to it, and a URL the standard library reads differently (a backslash
  before `@`), or one carrying credentials, is refused. Anything else is refused with the target
  named, so a hijacked redirect cannot feed papercli another site's pages.
- Errors: 4xx other than 429 is a `NetworkError` naming status, URL and what to do, except the
  statuses a caller accepts (`get(url, accept_statuses={400})`: the arXiv API reports a bad query
  as an Atom Error entry with HTTP 400, so `api_get` hands that body to the parser).

One client is not thread-safe; use one per thread.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from papercli import console
from papercli.errors import ConfigError, NetworkError
from papercli.settings import FetchSettings

if TYPE_CHECKING:
    import requests

MAX_REDIRECTS = 5
MAX_BACKOFF = 60.0  # seconds; the longest wait between two retries that Retry-After did not ask for
CHUNK = 64 * 1024
KEPT_HEADERS = ("content-type", "etag", "last-modified", "date")
RETRY_HINT = "check your connection or try again later; use --offline to read the cache"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Response:
    """One answer: the final URL (after redirects), its status and the whole body."""

    url: str
    status: int
    content: bytes
    from_cache: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # only KEPT_HEADERS, lower-case


@dataclass(frozen=True)
class FetchRecord:
    """What one `get` did, for the fetch log: status 0 means no HTTP answer at all."""

    url: str  # as asked for, before redirects (Response.url is where it ended)
    status: int
    from_cache: bool
    bytes: int
    attempts: int = 0  # requests sent, retries and redirect hops included
    error: str | None = None


@dataclass(frozen=True)
class _Answer:
    """One HTTP exchange as read off the wire (body empty unless it was wanted)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


class _Transient(Exception):
    """A failure worth retrying; carries the error to raise when retries run out."""

    def __init__(self, error: NetworkError, *, unreachable: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.unreachable = unreachable  # no answer at all: DNS, refused, timed out, no route


def host_of(url: str) -> str:
    """`https://export.arxiv.org:443/api/query?x=1` -> 'export.arxiv.org:443'."""
    return urlsplit(url).netloc.lower() or url


Origin = tuple[str, str, int]  # (scheme, host, port), as the connection will be made
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> Origin | None:
    """Where a request for `url` connects, as urllib3 (under requests) will parse it, or None when
    the standard library reads another scheme, host or port in it, or it carries credentials.

    'https://export.arxiv.org/api' -> ('https', 'export.arxiv.org', 443);
    'http://127.0.0.1:80\\@arxiv.org/' -> None (urllib3 connects to 127.0.0.1, urlsplit says
    arxiv.org: a check on one parser's reading would let the other one's host through).
    """
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        parsed, split = parse_url(url), urlsplit(url)
        split_port = split.port
    except (LocationParseError, ValueError):
        return None
    if parsed.auth is not None or split.username is not None or split.password is not None:
        return None
    scheme = (parsed.scheme or "").lower()
    host = (parsed.host or "").lower().strip("[]")
    port = parsed.port or DEFAULT_PORTS.get(scheme)
    split_scheme = split.scheme.lower()
    standard = (split_scheme, split.hostname or "", split_port or DEFAULT_PORTS.get(split_scheme))
    if not host or port is None or (scheme, host, port) != standard:
        return None
    return scheme, host, port


def _upgraded(where: Origin) -> Origin:
    """http on its default port -> the same host over https on its default port."""
    scheme, host, port = where
    return ("https", host, 443) if (scheme, port) == ("http", 80) else where


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, or None when absent or unreadable.

    '120' -> 120.0; 'Wed, 21 Oct 2015 07:28:00 GMT' -> seconds from `now` to then (0 if past).
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _clock(seconds_from_now: float) -> str:
    moment = datetime.fromtimestamp(time.time() + seconds_from_now, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _client_error_hint(status: int) -> str:
    if status == 404:
        return "check the category/date (or id) in the URL"
    if status in (401, 403):
        return "the server refused papercli; try again later, and check the user_agent setting"
    if status == 410:
        return "the page is gone; check the URL"
    return "check the URL and the source settings"


class _Cache:
    """Bodies of 200 answers per URL, with their validators, one atomic file each.

    A file is one JSON line (url, final url, kept headers, body length) then the body.
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.broken: str | None = None  # why the cache could not be written, once it failed

    def path(self, url: str) -> Path:
        return self.root / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:40] + ".http")

    def load(self, url: str) -> Response | None:
        """The cached answer for `url` (status 200), or None if missing or unreadable."""
        try:
            data = self.path(url).read_bytes()
        except OSError:
            return None
        head, _, body = data.partition(b"\n")
        try:
            meta = json.loads(head)
        except ValueError:
            return None
        # A foreign or torn file is as good as none: refetching is always safe.
        if not isinstance(meta, dict) or meta.get("url") != url or meta.get("bytes") != len(body):
            return None
        final_url, headers = meta.get("final_url"), meta.get("headers")
        if not isinstance(final_url, str) or not isinstance(headers, dict):
            return None
        return Response(final_url, 200, body, from_cache=True, headers=headers)

    def store(self, url: str, answer: Response) -> None:
        meta = {
            "url": url,
            "final_url": answer.url,
            "headers": answer.headers,
            "bytes": len(answer.content),
        }
        head = json.dumps(meta, ensure_ascii=True).encode("ascii")
        # Best effort: a cache that cannot be written (disk full, a file where the folder should
        # be) costs a refetch next time, never this fetch. Said once per run.
        if self.broken is not None:
            return
        try:
            write_atomic(self.path(url), head + b"\n" + answer.content)
            self.evict()
        except ConfigError as exc:
            self.broken = exc.message
            console.warning(f"{exc.message}; fetching goes on without the cache")

    def evict(self) -> None:
        """Drop the least recently written answers until the cache holds at most max_bytes."""
        files = []
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.root):
                if entry.name.endswith(".http") and entry.is_file():
                    stat = entry.stat()
                    files.append((stat.st_mtime_ns, entry.name, stat.st_size))
        total = sum(size for _, _, size in files)
        for _, name, size in sorted(files):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                os.unlink(self.root / name)
                total -= size


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temp file and os.replace, so readers never see half."""
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(data)
        os.replace(tmp_name, path)
    except OSError as exc:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        # Exit 3, not the store's 6: the cache dir is a setting (PAPERCLI_HOME), the store is fine.
        raise ConfigError(
            f"cannot write the HTTP cache file {path}: {exc.strerror or exc}",
            hint="check the cache dir's permissions and free space, or set PAPERCLI_HOME",
        ) from exc


class HttpClient:
    """The one way papercli talks HTTP; see the module docstring for the rules it keeps.

    Example:
        with HttpClient(settings.fetch, settings.cache_dir) as client:
            page = arxiv_rss.parse(client("https://rss.arxiv.org/rss/cs.CL"))
            client.history[-1]  # FetchRecord(url=..., status=200, from_cache=False, ...)
    """

    def __init__(self, settings: FetchSettings, cache_dir: Path) -> None:
        self.settings = settings
        self.cache_dir = Path(cache_dir)
        self.history: list[FetchRecord] = []
        self._cache = _Cache(self.cache_dir, settings.cache_max_bytes)
        self._session: requests.Session | None = None
        self._last_request: dict[str, float] = {}
        bases = (settings.arxiv_url, settings.rss_url, settings.api_url, settings.hf_url)
        self._allowed_origins = {o for o in map(origin, bases) if o is not None}
        self._attempts = 0
        self._last_status = 0
        self._run_ends = time.monotonic() + settings.run_budget
        self._request_ends = self._run_ends
        # Hosts that could not be reached at all (DNS, refused, timed out) after every retry:
        # later requests to them in this run fail at once instead of waiting the retries again.
        self._unreachable: dict[str, str] = {}

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __call__(self, url: str) -> bytes:
        """The body of `url`: the `get(url) -> bytes` the sources' `iter_pages` take."""
        return self.get(url).content

    def api_get(self, url: str) -> bytes:
        """Like `__call__`, but a 400 body is returned: the arXiv API explains bad queries in it."""
        return self.get(url, accept_statuses={400}).content

    def get(self, url: str, *, accept_statuses: Collection[int] = ()) -> Response:
        """GET `url` under the client's rules; a status in `accept_statuses` is returned as is.

        Raises NetworkError (one line: host/URL, what happened, what to do) on any failure.
        """
        self._attempts, self._last_status = 0, 0
        self._request_ends = min(time.monotonic() + self.settings.deadline, self._run_ends)
        try:
            if not self.settings.offline:
                self._time_left(url)
            response = (
                self._offline(url) if self.settings.offline else self._online(url, accept_statuses)
            )
        except NetworkError as exc:
            self.history.append(
                FetchRecord(url, self._last_status, False, 0, self._attempts, str(exc))
            )
            raise
        self.history.append(
            FetchRecord(
                url,
                response.status,
                response.from_cache,
                len(response.content),
                self._attempts,
            )
        )
        return response

    def _offline(self, url: str) -> Response:
        cached = self._cache.load(url)
        if cached is None:
            raise NetworkError(
                f"{url} is not in the cache", hint="run without --offline first to fetch it"
            )
        return cached

    def _online(self, url: str, accept_statuses: Collection[int]) -> Response:
        cached = self._cache.load(url)
        conditional = _conditional_headers(cached)
        current, seen = url, [url]
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._send_with_retries(current, conditional, accept_statuses)
            if answer.status not in _REDIRECT_STATUSES:
                return self._finish(url, current, answer, cached, accept_statuses)
            current = self._redirect_target(current, answer.headers.get("location"), seen)
            seen.append(current)
        raise NetworkError(
            f"{host_of(url)} redirected more than {MAX_REDIRECTS} times from {url}",
            hint="check the URL in the source settings",
        )

    def _finish(
        self,
        url: str,
        final_url: str,
        answer: _Answer,
        cached: Response | None,
        accept_statuses: Collection[int],
    ) -> Response:
        if answer.status == 304 and cached is not None:
            return Response(
                cached.url, 304, cached.content, from_cache=True, headers=cached.headers
            )
        kept = {k: answer.headers[k] for k in KEPT_HEADERS if k in answer.headers}
        response = Response(final_url, answer.status, answer.body, headers=kept)
        if answer.status in accept_statuses:
            return response
        if 200 <= answer.status < 300:
            if answer.status == 200:
                self._cache.store(url, response)
            return response
        raise NetworkError(
            f"{host_of(final_url)} answered {_status_text(answer.status)} for {final_url}",
            hint=_client_error_hint(answer.status),
        )

    def _redirect_target(self, current: str, location: str | None, seen: list[str]) -> str:
        if not location:
            raise NetworkError(
                f"{host_of(current)} sent a redirect without a Location for {current}",
                hint=RETRY_HINT,
            )
        target = urljoin(current, location)
        if target in seen:
            raise NetworkError(
                f"{host_of(current)} redirects in a loop ({current} -> {target})",
                hint="the server is misconfigured; try again later or check the URL",
            )
        old_scheme, new_scheme = urlsplit(current).scheme, urlsplit(target).scheme
        if new_scheme not in ("http", "https") or (old_scheme == "https" and new_scheme == "http"):
            raise NetworkError(
                f"refused the redirect from {current} to {target} (unsafe scheme)",
                hint="check the URL in the source settings",
            )
        old, new = origin(current), origin(target)
        if new is None:
            raise NetworkError(
                f"refused the redirect from {host_of(current)} to {target!r} (the URL carries "
                "credentials or does not name one host unambiguously)",
                hint="check the URL in the source settings",
            )
        if not self._origin_allowed(old, new):
            raise NetworkError(
                f"refused the redirect from {host_of(current)} to another host: {target}",
                hint="if that host is right, use it as the base URL in [fetch] of the config",
            )
        return target

    def _origin_allowed(self, old: Origin | None, new: Origin) -> bool:
        """The same scheme, host and port (or its https upgrade), or a configured base URL's,
        a subdomain of its host included."""
        if old is not None and new in (old, _upgraded(old)):
            return True
        scheme, host, port = new
        return any(
            (scheme, port) == (base_scheme, base_port)
            and (host == base_host or host.endswith("." + base_host))
            for base in self._allowed_origins
            for base_scheme, base_host, base_port in (base, _upgraded(base))
        )

    def _send_with_retries(
        self, url: str, headers: Mapping[str, str], accept_statuses: Collection[int]
    ) -> _Answer:
        settings = self.settings
        host = host_of(url)
        if host in self._unreachable:
            raise NetworkError(
                f"{host} could not be reached earlier in this run ({self._unreachable[host]}); "
                f"did not try {url}",
                hint=RETRY_HINT,
            )
        for attempt in range(settings.retries + 1):
            self._time_left(url)
            self._wait_turn(url)
            self._attempts += 1
            unreachable = False
            try:
                answer = self._send_once(url, headers, accept_statuses)
            except _Transient as exc:
                failure, delay, unreachable = exc.error, None, exc.unreachable
            else:
                if not _retryable(answer.status) or answer.status in accept_statuses:
                    return answer
                delay = parse_retry_after(answer.headers.get("retry-after"))
                failure = self._server_error(url, answer.status, delay)
                if delay is not None and delay > settings.max_retry_after:
                    raise NetworkError(
                        f"{host_of(url)} answered {_status_text(answer.status)} and asks papercli "
                        f"to wait {delay:.0f} s (over max_retry_after={settings.max_retry_after:g}"
                        f" s) for {url}",
                        hint=f"try again after {_clock(delay)}",
                    )
            # With another host already unreachable this run, the machine is likely offline:
            # one attempt is enough to say so.
            if attempt == settings.retries or (unreachable and self._unreachable):
                if unreachable:
                    self._unreachable[host] = failure.message.split(" for ", 1)[0]
                raise failure
            if delay is None:
                delay = min(settings.backoff * 2**attempt, MAX_BACKOFF)
            if delay >= self._request_ends - time.monotonic():
                raise failure  # the next try could not finish in time anyway
            time.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _server_error(self, url: str, status: int, delay: float | None) -> NetworkError:
        tries = self.settings.retries + 1
        hint = f"try again after {_clock(delay)}" if delay else RETRY_HINT
        return NetworkError(
            f"{host_of(url)} answered {_status_text(status)} for {url} "
            f"({tries} attempt{'s' if tries > 1 else ''})",
            hint=hint,
        )

    def _send_once(
        self, url: str, headers: Mapping[str, str], accept_statuses: Collection[int]
    ) -> _Answer:
        import requests

        timeout = min(self.settings.timeout, self._time_left(url))
        try:
            resp = self._session_().get(
                url,
                headers=dict(headers),
                timeout=(timeout, timeout),
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._classify(url, exc) from exc
        try:
            self._last_status = resp.status_code
            answer_headers = {k.lower(): v for k, v in resp.headers.items()}
            wanted = 200 <= resp.status_code < 300 or resp.status_code in accept_statuses
            if resp.status_code == 304 or not wanted:
                return _Answer(resp.status_code, answer_headers)
            return _Answer(resp.status_code, answer_headers, self._read_body(url, resp))
        finally:
            resp.close()

    def _read_body(self, url: str, resp: requests.Response) -> bytes:
        import requests

        cap = self.settings.max_bytes
        declared = _content_length(resp.headers.get("content-length"))
        if declared is not None and declared > cap:
            raise self._too_large(url, declared)
        chunks, size = [], 0
        try:
            for chunk in self._chunks(url, resp):
                size += len(chunk)
                if size > cap:
                    raise self._too_large(url, size)
                chunks.append(chunk)
        except requests.exceptions.ContentDecodingError as exc:
            raise NetworkError(
                f"{host_of(url)} sent a body that does not decode ({url})", hint=RETRY_HINT
            ) from exc
        except requests.RequestException as exc:
            self._time_left(url)  # a read cut short by the deadline says so
            raise self._classify(url, exc, mid_body=True) from exc
        received = resp.raw.tell()  # bytes off the wire, before gzip decoding
        if declared is not None and received != declared:
            raise _Transient(self._cut_short(url, f"got {received} of {declared} bytes"))
        return b"".join(chunks)

    def _chunks(self, url: str, resp: requests.Response) -> Iterator[bytes]:
        """The decoded body as it arrives, checking the deadline between reads.

        `read1` returns what one socket read gave (iter_content would wait for a full chunk, so a
        trickle would pass no checkpoint), and each read may block only until the deadline.
        urllib3's errors become requests' ones, as iter_content does.
        """
        import requests
        from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

        raw = resp.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        try:
            while True:
                if sock is not None:
                    sock.settimeout(min(self.settings.timeout, self._time_left(url)))
                chunk = raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    return
                yield chunk
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc

    def _time_left(self, url: str) -> float:
        """Seconds before this request's deadline (or the run's budget) passes; raises
        NetworkError once it has."""
        left = self._request_ends - time.monotonic()
        if left > 0:
            return left
        settings = self.settings
        if self._request_ends >= self._run_ends:
            raise NetworkError(
                f"the network time budget of this run ({settings.run_budget:g} s) is used up; "
                f"stopped at {url}",
                hint="try again later, or raise run_budget in [fetch] (PAPERCLI_RUN_BUDGET)",
            )
        raise NetworkError(
            f"{host_of(url)} did not finish the answer within {settings.deadline:g} s for {url}",
            hint="try again later, or raise deadline in [fetch] (PAPERCLI_DEADLINE)",
        )

    def _too_large(self, url: str, size: int) -> NetworkError:
        cap_mb = self.settings.max_bytes / 1024 / 1024
        return NetworkError(
            f"the response from {host_of(url)} is larger than {cap_mb:g} MB "
            f"({size} bytes or more) for {url}",
            hint="check the URL, or raise max_bytes in [fetch] (PAPERCLI_MAX_BYTES)",
        )

    def _cut_short(self, url: str, detail: str) -> NetworkError:
        return NetworkError(
            f"the response from {host_of(url)} was cut short ({detail}) for {url}",
            hint=RETRY_HINT,
        )

    def _classify(
        self, url: str, exc: requests.RequestException, *, mid_body: bool = False
    ) -> _Transient | NetworkError:
        """Turn a requests failure into the error a user can act on."""
        import requests

        host = host_of(url)
        text = str(exc)
        if isinstance(
            exc,
            (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
            ),
        ):
            return NetworkError(f"not a valid URL: {url}", hint="check the URL")
        if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text.lower():
            what = f"{host} timed out (no answer within {self.settings.timeout:g} s) for {url}"
        elif mid_body:
            return _Transient(self._cut_short(url, "the connection dropped"))
        elif (
            "NameResolutionError" in text
            or "Name or service not known" in text
            or ("nodename nor servname" in text or "getaddrinfo failed" in text)
        ):
            what = f"cannot resolve the host name {urlsplit(url).hostname} (DNS) for {url}"
        elif "refused" in text.lower():
            what = f"{host} refused the connection for {url}"
        elif isinstance(exc, requests.exceptions.SSLError):
            what = f"the TLS handshake with {host} failed for {url}"
        else:
            what = f"cannot connect to {host} for {url} ({type(exc).__name__})"
        return _Transient(NetworkError(what, hint=RETRY_HINT), unreachable=True)

    def _session_(self) -> requests.Session:
        if self._session is None:
            import requests

            session = requests.Session()
            session.headers.update(
                {"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip"}
            )
            self._session = session
        return self._session

    def _wait_turn(self, url: str) -> None:
        """Sleep until `min_interval` has passed since the last request to this host."""
        interval = self.settings.min_interval
        if interval <= 0:
            return
        host = host_of(url)
        last = self._last_request.get(host)
        if last is None:
            last = self._read_last_request(host)
        # Clamped, so a clock stepped backwards cannot stall a run.
        wait = min(interval, last + interval - time.time())
        if wait > 0:
            time.sleep(wait)
        now = time.time()
        self._last_request[host] = now
        self._write_last_request(host, now)

    def _last_request_path(self, host: str) -> Path:
        return self.cache_dir / "last-request" / host.replace(":", "_")

    def _read_last_request(self, host: str) -> float:
        try:
            return float(self._last_request_path(host).read_text(encoding="ascii"))
        except (OSError, ValueError):
            return 0.0

    def _write_last_request(self, host: str, when: float) -> None:
        write_atomic(self._last_request_path(host), repr(when).encode("ascii"))


def _conditional_headers(cached: Response | None) -> dict[str, str]:
    if cached is None:
        return {}
    headers = {}
    if "etag" in cached.headers:
        headers["If-None-Match"] = cached.headers["etag"]
    if "last-modified" in cached.headers:
        headers["If-Modified-Since"] = cached.headers["last-modified"]
    return headers


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
