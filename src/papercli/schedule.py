"""The crontab line that runs a named digest, and adding it to the user's crontab idempotently."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from papercli.errors import ConfigError, UsageError

MARKER = "# papercli:"


def parse_at(text: str) -> tuple[int, int]:
    """'07:30' -> (7, 30); '7:05' -> (7, 5)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UsageError(f"--at {text!r} is not a time of day", hint="use HH:MM, e.g. 07:30")
    return int(match.group(1)), int(match.group(2))


def papercli_command() -> list[str]:
    """The absolute command that runs this papercli, for cron's bare environment."""
    script = shutil.which("papercli")
    if script and Path(script).resolve().parent == Path(sys.executable).resolve().parent:
        return [str(Path(script).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "papercli"]


def cron_line(
    name: str,
    *,
    at: str,
    weekdays: bool,
    log_path: Path,
    config_path: Path,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
    feed: Path | None = None,
) -> str:
    """One crontab line, with absolute paths and output to a log file.

    ('diffusion', at='07:30', weekdays=True) -> '30 7 * * 1-5 /venv/bin/papercli --quiet
    --config /c.toml run diffusion >> /log 2>&1 # papercli:diffusion' (on one line).
    `env` (see `settings_for_cron`) and the global `options` given to `schedule` go into the
    line, so the cron run uses the same store, config and upstreams as the command that made it.
    With `feed` (an absolute path) the line runs `feed NAME -o FEED` instead of `run NAME`, and
    its marker is `# papercli:NAME:feed`, so a digest's mail and feed lines are kept apart.
    """
    if not re.fullmatch(r"[\w.\-]+", name) or name.startswith("-"):
        raise UsageError(
            f"digest name {name!r} may only hold letters, digits, '.', '-' and '_', "
            "and may not start with '-' (the cron run would read it as an option)",
            hint="rename the [digest.NAME] table",
        )
    hour, minute = parse_at(at)
    for what, value in [
        *(((key, val) for key, val in (env or {}).items())),
        ("the config path", str(config_path)),
        ("the log path", str(log_path)),
        *((("the feed path", str(feed)),) if feed else ()),
        *(("an option", option) for option in options),
        ("papercli's own path", " ".join(papercli_command())),
    ]:
        if any(ch in value for ch in "\n\r\0"):
            # One line is one job to cron: a line break would smuggle in another job.
            raise ConfigError(
                f"{what} holds a line break, which cannot go into a crontab line: {value!r}",
                hint="use a path without line breaks (check PAPERCLI_HOME and PAPERCLI_DB)",
            )
    prefix = "".join(f"{key}={shlex.quote(value)} " for key, value in sorted((env or {}).items()))
    job = ["feed", name, "-o", str(feed)] if feed else ["run", name]
    command = [*papercli_command(), "--quiet", *options, "--config", str(config_path), *job]
    days = "1-5" if weekdays else "*"
    shell = f"{prefix}{shlex.join(command)} >> {shlex.quote(str(log_path))} 2>&1"
    # cron ends the command at an unescaped % (the rest becomes stdin): `\%` is a literal one.
    marker = f"{MARKER}{name}:feed" if feed else f"{MARKER}{name}"
    return f"{minute} {hour} * * {days} {shell.replace('%', chr(92) + '%')} {marker}"


def install(line: str, name: str) -> bool:
    """Put `line` in the user's crontab, replacing this digest's earlier line. True if changed.

    The table is read with `crontab -l` first; if that fails for any reason but "no crontab for
    USER", nothing is written (ConfigError), so the user's other jobs are never lost.
    """
    if not shutil.which("crontab"):
        raise ConfigError("no `crontab` command on this machine", hint="add the line by hand")
    listed = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    current = listed.stdout
    if listed.returncode != 0:
        # Only "no crontab for USER" means empty; any other failure (a spool it cannot read, a
        # crontab(1) that is not cron's) must not be taken for an empty table and overwritten.
        if "no crontab for" not in listed.stderr:
            reason = " ".join(listed.stderr.split()) or f"exit status {listed.returncode}"
            raise ConfigError(
                f"`crontab -l` failed ({reason}); the crontab was left as it is",
                hint="fix crontab first, or add the printed line by hand",
            )
        current = ""
    kept = [row for row in current.splitlines() if not row.endswith(f"{MARKER}{name}")]
    if line in current.splitlines():
        return False
    new = "\n".join([*kept, line]) + "\n"
    done = subprocess.run(["crontab", "-"], input=new, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(f"crontab refused the new table: {done.stderr.strip()}")
    return True


# Settings that name a file or folder: made absolute, since cron starts in another directory.
_PATH_SETTINGS = ("PAPERCLI_HOME", "PAPERCLI_DB", "PAPERCLI_CONFIG")


def settings_for_cron(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every PAPERCLI_* setting in the environment, for the crontab line: cron's environment is
    bare, and a run without PAPERCLI_DB would use another store and mail everything again.

    Secrets (a name holding PASSWORD, TOKEN or SECRET) are never written into the crontab; the
    config file is passed with --config instead of PAPERCLI_CONFIG.
    """
    environ = os.environ if environ is None else environ
    found = {}
    for key, value in environ.items():
        if not key.startswith("PAPERCLI_") or key == "PAPERCLI_CONFIG":
            continue
        if any(word in key for word in ("PASSWORD", "TOKEN", "SECRET")):
            continue
        found[key] = str(Path(value).expanduser().absolute()) if key in _PATH_SETTINGS else value
    return found
