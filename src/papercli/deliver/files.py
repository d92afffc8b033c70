"""Files: atomic writes that readers see whole or not at all, and where `--output` puts a digest."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from papercli.errors import ConfigError, DeliveryError

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def write_atomic(path: Path, text: str | bytes, *, mode: int | None = None) -> Path:
    """Write `text` (str as UTF-8) to `path` so readers see the old file or the new one, never half.

    The bytes go to a temp file in the same directory, are fsynced, then `os.replace`d over the
    target. Parent directories are created. `mode` (e.g. 0o600) defaults to 0o666 minus the umask.
    A symlink is followed (the file it points to is replaced, the link stays); a device, FIFO or
    socket (`-o /dev/stdout`, a pipe) is written through, never replaced by a regular file, even
    as root. Raises DeliveryError; on failure the old file is untouched and no temp file is left.
    """
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        return _write_through(path, data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _write_temp(path, data, 0o666 if mode is None else mode)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, exc) from exc
    _fsync_dir(path.parent)
    return path


def _write_through(path: Path, data: bytes) -> Path:
    """Write into an existing special file (a device, FIFO or socket) as it is."""
    if path.is_dir():
        raise DeliveryError(
            f"could not write {path}: Is a directory",
            hint="check the path and that its directory is writable",
        )
    try:
        with path.open("wb") as out:
            out.write(data)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    return path


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with a mode (not mkstemp's fixed 0600) lets the umask decide, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; some filesystems cannot fsync a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError) -> DeliveryError:
    return DeliveryError(
        f"could not write {path}: {exc.strerror or exc}",
        hint="check the path and that its directory is writable",
    )


def safe_name(name: str) -> str:
    """A digest name as a file-name part: `cs.LG / weekly` -> 'cs.LG_weekly'."""
    cleaned = _UNSAFE_NAME_CHARS.sub("_", name.strip()).strip("_.")
    if not cleaned:
        raise ConfigError(f"digest name {name!r} has no letters or digits to name a file by")
    return cleaned


def output_path(target: str | os.PathLike[str], *, date: str, name: str, ext: str) -> Path:
    """Where `--output TARGET` puts a digest.

    An existing directory, or a path written with a trailing slash, gets a dated file inside:
    `out/` -> out/papercli-ml-2024-08-01.html; anything else is the file itself. Pass the raw
    string from the command line: `Path("out/")` has already lost its slash.
    """
    raw = os.fspath(target)
    path = Path(raw).expanduser()
    if raw.endswith(("/", os.sep)) or path.is_dir():
        return path / f"papercli-{safe_name(name)}-{date}.{ext.lstrip('.')}"
    return path
