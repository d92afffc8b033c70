"""The commented config file `papercli config init` writes."""

from __future__ import annotations

from pathlib import Path

from papercli.errors import ConfigError, DeliveryError

DEFAULT_CONFIG = """\
# papercli config. Settings resolve as: command-line flags > PAPERCLI_* environment > this file.
# Docs: the README's "Configuration" section.

# What a plain `papercli fetch` fetches, in order. Forms:
#   "hf"                    Hugging Face Daily Papers of today ("hf:2024-08-01", "hf:2024-W31")
#   "arxiv:cs.LG"           arXiv listing /list/cs.LG/new ("arxiv:cs.LG/recent", ".../pastweek")
#   "rss:cs.CL+cs.AI"       arXiv RSS feed of these categories
#   "api:ti:diffusion"      arXiv API search query
#   "/path/to/saved.html"   a saved page or JSON lines file; or any supported URL
sources = ["hf", "arxiv:cs.LG"]

# db = "~/papers.db"        # the SQLite store [default: in the user data dir]

[fetch]
# Base URLs of the upstreams (point them at a mirror or a local server).
# arxiv_url = "https://arxiv.org"
# rss_url = "https://rss.arxiv.org"
# api_url = "https://export.arxiv.org"
# hf_url = "https://huggingface.co"
# min_interval = 3.0        # seconds between requests to one host (arXiv asks for 3)
# timeout = 30.0
# retries = 4
# max_bytes = 52428800      # refuse responses larger than this

# [templates]
# dir = "~/.config/papercli/templates"   # your templates override the shipped ones

# Email (for `papercli digest --email-to` and `papercli run`). The password is never read
# from this file: put it in $PAPERCLI_SMTP_PASSWORD or give a command that prints it.
# [smtp]
# host = "smtp.example.org"
# port = 587
# security = "starttls"     # starttls | ssl | none
# user = "me@example.org"
# from = "papercli <me@example.org>"
# password_cmd = "pass show smtp"

# A named digest for `papercli run diffusion` (and `papercli schedule diffusion --at 07:30`).
# [digest.diffusion]
# sources = ["hf", "arxiv:cs.CV", "arxiv:cs.LG"]
# topics = ["diffusion", "flow matching"]
# exclude = ["survey"]
# format = "html"
# recipients = ["me@example.org"]
# subject = "{title} - {date}: {count} papers"
# send_empty = false        # send a short "nothing new" mail on quiet days
"""


def write_default_config(path: Path, *, force: bool = False) -> Path:
    """Write the commented config to `path` (atomically); refuse to overwrite unless `force`."""
    from papercli.deliver import write_atomic

    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="pass --force to overwrite it")
    try:
        return write_atomic(path, DEFAULT_CONFIG)
    except DeliveryError as exc:  # exit 3 (the config), not 8 (a digest)
        hint = "check the folder's permissions, or pass --config"
        raise ConfigError(exc.message, hint=hint) from exc
