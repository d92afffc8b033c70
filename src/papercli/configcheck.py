"""The config file's one checker: a table is checked against the dataclass that holds it.

The schema of each table is the dataclass its values end up in (`settings.FetchSettings` for
`[fetch]`, `runner.DigestConfig` for each `[digest.NAME]`), so adding a key is one line: a
field with its type, its default and, in its metadata, the rules its value must pass
(`metadata=checks(at_least(1))`). `check_table` refuses an unknown key, a value of the wrong
type or a value breaking a rule in one line naming the file, the table, the key, what was
expected and what was found:

    config.toml: [digest.diff] send_empty: expected true or false, found the string 'no'
    config.toml: [digest.diff] limit: expected 1 or more, found the integer -1
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from papercli.errors import ConfigError

_RULES = "papercli.rules"  # the field metadata key holding a field's rules


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a value of the right type must also be; `expected` says it in the error line."""

    expected: str
    holds: Callable[[Any], bool]
    found: str | None = None  # what the line says was found, when not the value itself


def checks(*rules: Rule) -> dict[str, tuple[Rule, ...]]:
    """Field metadata: `field(default=50, metadata=checks(at_least(0)))`."""
    return {_RULES: rules}


def at_least(low: int) -> Rule:
    """at_least(1) -> a count of 1 or more."""
    return Rule(f"{low} or more", lambda value: value >= low)


def above(low: float) -> Rule:
    """above(0) -> a positive number of seconds."""
    return Rule(f"more than {low:g}", lambda value: value > low)


def between(low: float, high: float) -> Rule:
    """between(0, 1) -> a number from 0 to 1, both included."""
    return Rule(f"a number from {low:g} to {high:g}", lambda value: low <= value <= high)


def one_of(choices: Iterable[str]) -> Rule:
    """one_of(("html", "text")) -> 'html' or 'text', exactly."""
    allowed = tuple(choices)
    return Rule("one of " + ", ".join(allowed), lambda value: value in allowed)


def some_of(choices: Iterable[str]) -> Rule:
    """some_of(("new", "cross", "replace")) -> a non-empty list of those words."""
    allowed = tuple(choices)
    return Rule(
        "a list of one or more of " + ", ".join(allowed),
        lambda values: bool(values) and all(v in allowed for v in values),
    )


def _is_http_url(text: str) -> bool:
    """'https://arxiv.org' -> True; 'arxiv.org', 'ftp://x.org' -> False."""
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# A line break in a header (a subject, a user agent) would start a header of its own.
ONE_LINE = Rule("one line", lambda text: "\r" not in text and "\n" not in text, "a line break")
HTTP_URL = Rule("an http:// or https:// URL", _is_http_url)


def rule_error(f: dataclasses.Field, value: Any) -> str | None:
    """'expected 1 or more, found the integer 0' when `value` breaks a rule of field `f`."""
    for rule in f.metadata.get(_RULES, ()):
        if not rule.holds(value):
            return f"expected {rule.expected}, found {rule.found or _found(value)}"
    return None


def check_table(
    schema: type, table: Any, *, path: Path, name: str, skip: Iterable[str] = ()
) -> None:
    """Raise ConfigError unless `table` is a TOML table whose keys are fields of the dataclass
    `schema` (minus `skip`), each holding a value of the field's type that passes its rules.
    The error names every key that is wrong, one line each."""
    where = f"{path}: [{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, found {_found(table)}")
    hints = typing.get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema) if f.name not in set(skip)}
    problems = []
    for key, value in table.items():
        if key not in fields:
            known = "known keys: " + ", ".join(sorted(fields))
            problems.append(ConfigError(f"{where} {key}: unknown key", hint=known))
        elif not _matches(hints[key], value):
            expected = _expected(hints[key])
            problems.append(
                ConfigError(f"{where} {key}: expected {expected}, found {_found(value)}")
            )
        elif broken := rule_error(fields[key], value):
            problems.append(ConfigError(f"{where} {key}: {broken}"))
    if problems:
        raise ConfigError.all_of(problems)


def _matches(hint: Any, value: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(arg, value) for arg in typing.get_args(hint) if arg is not type(None))
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(item, v) for v in value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _expected(hint: Any) -> str:
    """`list[str]` -> 'a list of strings'; `int | None` -> 'an integer'."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_expected(a) for a in typing.get_args(hint) if a is not type(None))
    if origin is list:
        return "a list of " + _expected(typing.get_args(hint)[0]).split(" ", 1)[1] + "s"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, f"a {getattr(hint, '__name__', hint)}")


def _found(value: Any) -> str:
    """'the string 'no'', 'the integer 3', 'a table'..."""
    kinds = {bool: "", str: "the string ", int: "the integer ", float: "the number "}
    if isinstance(value, bool):
        return "true" if value else "false"
    for kind, words in kinds.items():
        if isinstance(value, kind):
            return f"{words}{value!r}"
    if isinstance(value, list):
        return f"the list {value!r}"
    if isinstance(value, (datetime.date, datetime.time)):  # TOML's bare dates and times
        what = type(value).__name__.replace("datetime", "date and time")
        return f"the {what} {value.isoformat()} (not in quotes)"
    return "a table" if isinstance(value, dict) else f"{type(value).__name__} {value!r}"


# The config file's top-level keys; a table added by a feature is one more line here.
TOP_LEVEL = {
    "sources": "a list of source names",
    "db": "the store's path",
    "fetch": "upstream base URLs and HTTP politeness",
    "smtp": "how to send mail",
    "digest": "named digests, one [digest.NAME] table each",
    "templates": "dir = your own templates, searched first",
}


def check_config(settings: Any) -> list[str]:
    """Check every table of the settings' config file; return the digests it defines.

    Raises one ConfigError carrying every problem found, each a line naming the file, the table
    and the key. ([fetch] and `db` were checked when the settings were loaded.)
    """
    from papercli.fetch import parse_spec
    from papercli.runner import DigestConfig, smtp_settings

    path, config = settings.config_path, settings.config
    problems: list[ConfigError] = []

    def collect(check: Callable[..., Any], *args: Any) -> Any:
        """check(*args), or None once its problem is noted."""
        try:
            return check(*args)
        except ConfigError as exc:
            problems.append(exc)
            return None

    for key in config:
        if key not in TOP_LEVEL:
            known = "known keys: " + ", ".join(TOP_LEVEL)
            problems.append(ConfigError(f"{path}: {key}: unknown key", hint=known))
    for spec in collect(lambda: settings.sources) or []:
        collect(_check_source, spec, path, "sources", parse_spec)
    templates = config.get("templates", {})
    collect(lambda: check_table(_Templates, templates, path=path, name="templates"))
    if "smtp" in config:
        collect(smtp_settings, settings)
    digests = collect(settings.section, "digest") or {}
    for name in digests:
        digest = collect(DigestConfig.from_settings, settings, name)
        for spec in digest.sources if digest else []:
            collect(_check_source, spec, path, f"[digest.{name}] sources", parse_spec)
    if problems:
        raise ConfigError.all_of(problems)
    return sorted(digests)


def _check_source(text: str, path: Path, where: str, parse_spec: Any) -> None:
    """A source name must name a source, or a saved file that exists."""
    source = parse_spec(text)
    if source.kind == "file" and not Path(source.target).expanduser().exists():
        raise ConfigError(
            f"{path}: {where}: {text!r} is neither a source name nor an existing file",
            hint="a source is hf, hf:DAY, arxiv:CAT[/recent], rss:CATS, api:QUERY, a path or a URL",
        )


@dataclasses.dataclass
class _Templates:
    dir: str = ""


def settings_in_force(settings: Any) -> list[tuple[str, str, str]]:
    """(setting, value, where it came from) for every setting of the run: a flag, an
    environment variable, the config file or the default."""
    origins = settings.origins
    rows = [
        ("home", str(settings.home), origins.get("home", "default")),
        ("config", str(settings.config_path), origins.get("config", "default")),
        ("db", str(settings.db_path), origins.get("db", "default")),
    ]
    for f in dataclasses.fields(settings.fetch):
        key = f"fetch.{f.name}"
        rows.append((key, str(getattr(settings.fetch, f.name)), origins.get(key, "default")))
    if "sources" in settings.config:
        rows.append(("sources", ", ".join(settings.sources), str(settings.config_path)))
    return rows
