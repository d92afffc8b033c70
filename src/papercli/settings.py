"""papercli's settings, resolved in one place: flags > PAPERCLI_* env > config.toml > defaults.

The config file is TOML:

    [fetch]                       # upstream base URLs and HTTP politeness
    arxiv_url = "https://arxiv.org"
    min_interval = 3.0

    sources = ["hf", "arxiv:cs.LG", "rss:cs.CL+cs.AI", "api:ti:diffusion"]

    [smtp] ...  [digest.NAME] ...  (see the README)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from papercli import __version__
from papercli.configcheck import (
    HTTP_URL,
    ONE_LINE,
    above,
    at_least,
    check_table,
    checks,
    rule_error,
)
from papercli.errors import ConfigError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

APP_NAME = "papercli"
CONTACT = "https://github.com/papercli/papercli"


@dataclass
class FetchSettings:
    """Where the upstreams live and how politely papercli talks to them."""

    arxiv_url: str = field(default="https://arxiv.org", metadata=checks(HTTP_URL))
    rss_url: str = field(default="https://rss.arxiv.org", metadata=checks(HTTP_URL))
    api_url: str = field(default="https://export.arxiv.org", metadata=checks(HTTP_URL))
    hf_url: str = field(default="https://huggingface.co", metadata=checks(HTTP_URL))
    # arXiv asks for no more than one request every 3 seconds per host.
    min_interval: float = field(default=3.0, metadata=checks(at_least(0)))
    timeout: float = field(default=30.0, metadata=checks(above(0)))  # requests refuses 0
    retries: int = field(default=4, metadata=checks(at_least(0)))
    backoff: float = field(default=1.0, metadata=checks(at_least(0)))  # seconds; doubles each retry
    # Never sleep longer than this for one Retry-After.
    max_retry_after: float = field(default=120.0, metadata=checks(at_least(0)))
    max_bytes: int = field(default=50 * 1024 * 1024, metadata=checks(at_least(1)))
    # The HTTP cache drops its oldest files past this.
    cache_max_bytes: int = field(default=200 * 1024 * 1024, metadata=checks(at_least(0)))
    # A socket timeout bounds one read; these bound the whole: a server trickling a byte a second
    # would otherwise keep a cron run (and its digest lock) alive for days. `deadline` is seconds
    # for one request (retries, waits and redirects included), `run_budget` seconds of network
    # for all sources of one fetch or run.
    deadline: float = field(default=300.0, metadata=checks(above(0)))
    run_budget: float = field(default=1800.0, metadata=checks(above(0)))
    user_agent: str = field(
        default=f"papercli/{__version__} (+{CONTACT})", metadata=checks(ONE_LINE)
    )
    offline: bool = False  # answer from the cache only

    ENV: ClassVar[dict[str, str]] = {
        "arxiv_url": "PAPERCLI_ARXIV_URL",
        "rss_url": "PAPERCLI_RSS_URL",
        "api_url": "PAPERCLI_API_URL",
        "hf_url": "PAPERCLI_HF_URL",
        "min_interval": "PAPERCLI_MIN_INTERVAL",
        "timeout": "PAPERCLI_TIMEOUT",
        "retries": "PAPERCLI_RETRIES",
        "backoff": "PAPERCLI_BACKOFF",
        "max_retry_after": "PAPERCLI_MAX_RETRY_AFTER",
        "max_bytes": "PAPERCLI_MAX_BYTES",
        "cache_max_bytes": "PAPERCLI_CACHE_MAX_BYTES",
        "deadline": "PAPERCLI_DEADLINE",
        "run_budget": "PAPERCLI_RUN_BUDGET",
        "user_agent": "PAPERCLI_USER_AGENT",
        "offline": "PAPERCLI_OFFLINE",
    }


@dataclass
class Settings:
    """Everything a command needs to know about where things are and how to behave."""

    home: Path  # the app dir: config, store, cache, outbox
    config_path: Path
    db_path: Path
    cache_dir: Path
    outbox_dir: Path
    fetch: FetchSettings = field(default_factory=FetchSettings)
    # Seconds to wait for another papercli's write to the store (PAPERCLI_STORE_TIMEOUT).
    store_timeout: float = 30.0
    config: dict[str, Any] = field(default_factory=dict)  # the parsed config file, as is
    # Where each setting in force came from, for `config check`: 'fetch.timeout' ->
    # 'PAPERCLI_TIMEOUT', 'db' -> '--db'; a setting not named here has its default.
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        value = self.config.get("sources", [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                f"'sources' in {self.config_path} must be a list of strings",
                hint='e.g. sources = ["hf", "arxiv:cs.LG"]',
            )
        return value

    @property
    def template_dirs(self) -> list[Path]:
        """The user's template dir (`[templates] dir`), searched before the shipped templates."""
        configured = self.section("templates").get("dir")
        return [Path(configured).expanduser()] if configured else []

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] in {self.config_path} must be a table")
        return value


STORE_TIMEOUT_ENV = "PAPERCLI_STORE_TIMEOUT"


def _default_dirs() -> tuple[Path, Path, Path]:
    """(data dir, config dir, cache dir) for this platform, or all under PAPERCLI_HOME."""
    home = os.environ.get("PAPERCLI_HOME")
    if home:
        root = Path(home).expanduser()
        return root, root, root / "cache"
    import platformdirs

    return (
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)),
    )


def read_config(path: Path) -> dict[str, Any]:
    """The parsed config file, or {} when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML ({exc})",
            hint="fix it, or write a fresh one with `papercli config init --force`",
        ) from exc


def _coerce(name: str, raw: Any, default: Any, origin: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {name} = {raw!r} is not a valid {type(default).__name__}"
        ) from None


def _fetch_settings(
    config: dict[str, Any], config_path: Path, origins: dict[str, str]
) -> FetchSettings:
    """[fetch] from the file, then PAPERCLI_* on top, each checked against FetchSettings."""
    table = config.get("fetch", {})
    check_table(FetchSettings, table, path=config_path, name="fetch")
    values: dict[str, Any] = {}
    defaults = FetchSettings()
    for f in fields(FetchSettings):
        if f.name in table:
            values[f.name] = table[f.name]
            origins[f"fetch.{f.name}"] = str(config_path)
        env_name = FetchSettings.ENV[f.name]
        if env_name in os.environ:
            value = _coerce(f.name, os.environ[env_name], getattr(defaults, f.name), env_name)
            broken = rule_error(f, value)
            if broken:
                raise ConfigError(f"{env_name}: {broken}")
            values[f.name] = value
            origins[f"fetch.{f.name}"] = env_name
    return FetchSettings(**values)


def load_settings(
    *,
    db: Path | None = None,
    config_path: Path | None = None,
    offline: bool | None = None,
    missing_config_ok: bool = False,
) -> Settings:
    """Resolve the settings: flags (the arguments) > environment > config file > defaults.

    A config file named by --config or PAPERCLI_CONFIG must exist (unless `missing_config_ok`,
    for `config init` and `config path`); the default one may be absent.
    """
    data_dir, config_dir, cache_dir = _default_dirs()
    named = "--config" if config_path is not None else None
    if config_path is None:
        env_config = os.environ.get("PAPERCLI_CONFIG")
        named = "PAPERCLI_CONFIG" if env_config else None
        config_path = Path(env_config) if env_config else config_dir / "config.toml"
    if named and not missing_config_ok and not config_path.expanduser().exists():
        raise ConfigError(
            f"{named}: the config file {config_path} does not exist",
            hint="fix the path, or write one with `papercli config init`",
        )
    origins = {"config": named or "default"}
    if os.environ.get("PAPERCLI_HOME"):
        origins["home"] = "PAPERCLI_HOME"
    config = read_config(config_path)
    fetch = _fetch_settings(config, config_path, origins)
    if offline is not None:
        fetch.offline = offline
        origins["fetch.offline"] = "--offline"
    env_db = os.environ.get("PAPERCLI_DB")
    config_db = config.get("db")
    if config_db is not None and not isinstance(config_db, str):
        raise ConfigError(f"{config_path}: db: expected a string, found {config_db!r}")
    origin = "--db"
    if db is None:
        origin = "PAPERCLI_DB" if env_db else f"{config_path}: db"
        db = Path(env_db) if env_db else Path(config_db) if config_db else None
    if db is not None:
        origins["db"] = origin.removesuffix(": db")
    if db is not None and not db.expanduser().parent.is_dir():
        # A typo must not quietly create folders and an empty store: only the file is made.
        error = UsageError if origin == "--db" else ConfigError
        raise error(
            f"{origin}: the folder {db.expanduser().parent} does not exist",
            hint="create it first, or fix the path",
        )
    return Settings(
        home=data_dir,
        config_path=config_path,
        db_path=(db or data_dir / "papers.db").expanduser(),
        cache_dir=cache_dir / "http",
        outbox_dir=data_dir / "outbox",
        fetch=fetch,
        store_timeout=_coerce(
            "store_timeout", os.environ.get(STORE_TIMEOUT_ENV, 30.0), 30.0, STORE_TIMEOUT_ENV
        ),
        config=config,
        origins=origins,
    )
