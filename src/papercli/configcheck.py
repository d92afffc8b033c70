"""The config file's one checker: a table is checked against the dataclass that holds it.

The schema of each table is the dataclass its values end up in (`settings.FetchSettings` for
`[fetch]`, `runner.DigestConfig` for each `[digest.NAME]`), so adding a key is one line: a
field with its type and default. `check_table` refuses an unknown key or a value of the wrong
type in one line naming the file, the table, the key, what was expected and what was found:

    config.toml: [digest.diff] send_empty: expected true or false, found the string 'no'
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from papercli.errors import ConfigError

_HEADER_KEYS = ("subject", "title", "from", "user", "host")


def check_table(
    schema: type, table: Any, *, path: Path, name: str, skip: Iterable[str] = ()
) -> None:
    """Raise ConfigError unless `table` is a TOML table whose keys are fields of the dataclass
    `schema` (minus `skip`), each holding a value of the field's type."""
    where = f"{path}: [{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, found {_found(table)}")
    hints = typing.get_type_hints(schema)
    known = [f.name for f in dataclasses.fields(schema) if f.name not in set(skip)]
    for key, value in table.items():
        if key not in known:
            raise ConfigError(
                f"{where} {key}: unknown key", hint="known keys: " + ", ".join(sorted(known))
            )
        expected = _expected(hints[key])
        if not _matches(hints[key], value):
            raise ConfigError(f"{where} {key}: expected {expected}, found {_found(value)}")
        if isinstance(value, str) and ("\r" in value or "\n" in value) and key in _HEADER_KEYS:
            raise ConfigError(f"{where} {key}: expected one line, found a line break")


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
    return "a table" if isinstance(value, dict) else f"{type(value).__name__} {value!r}"
