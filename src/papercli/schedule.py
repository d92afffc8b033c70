"""The crontab line that runs a named digest, and adding it to the user's crontab idempotently."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
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
    name: str, *, at: str, weekdays: bool, log_path: Path, config_path: Path, home: str | None
) -> str:
    """One crontab line, with absolute paths and output to a log file.

    ('diffusion', at='07:30', weekdays=True) -> '30 7 * * 1-5 /venv/bin/papercli --quiet
    --config /c.toml run diffusion >> /log 2>&1 # papercli:diffusion' (on one line)
    """
    if not re.fullmatch(r"[\w.\-]+", name):
        raise UsageError(f"digest name {name!r} may only hold letters, digits, '.', '-' and '_'")
    hour, minute = parse_at(at)
    env = f"PAPERCLI_HOME={shlex.quote(home)} " if home else ""
    command = [*papercli_command(), "--quiet", "--config", str(config_path), "run", name]
    days = "1-5" if weekdays else "*"
    return (
        f"{minute} {hour} * * {days} {env}{shlex.join(command)} "
        f">> {shlex.quote(str(log_path))} 2>&1 {MARKER}{name}"
    )


def install(line: str, name: str) -> bool:
    """Put `line` in the user's crontab, replacing this digest's earlier line. True if changed."""
    if not shutil.which("crontab"):
        raise ConfigError("no `crontab` command on this machine", hint="add the line by hand")
    listed = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    current = listed.stdout if listed.returncode == 0 else ""
    kept = [row for row in current.splitlines() if not row.endswith(f"{MARKER}{name}")]
    if line in current.splitlines():
        return False
    new = "\n".join([*kept, line]) + "\n"
    done = subprocess.run(["crontab", "-"], input=new, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(f"crontab refused the new table: {done.stderr.strip()}")
    return True


def home_for_cron() -> str | None:
    return os.environ.get("PAPERCLI_HOME")
