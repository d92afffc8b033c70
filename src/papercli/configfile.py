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
# Every key is optional but recipients; the README's "Digest settings" table has them all.
# [digest.diffusion]
# sources = ["hf", "arxiv:cs.CV", "arxiv:cs.LG"]   # what a run fetches [default: all stored]
# topics = ["diffusion", "flow matching"]  # keep papers naming any of these [default: all]
# exclude = ["survey"]      # drop papers naming any of these
# recipients = ["me@example.org"]
# title = "Diffusion"       # the digest's heading [default: "papercli: NAME"]
# subject = "{title} - {date}: {count} papers"  # also {n_topics}, {topics}
# format = "html"           # html (text + HTML parts) or text
# since = "7d"              # how far back a run looks for papers not yet delivered
# announce = ["new", "cross"]  # announce types shown as cards; "replace" adds replacements
# updates = true            # matching replacements listed under "Updated" at the end
# sort = "best"             # best (match, then upvotes), relevance, upvotes or date
# max_papers = 50           # full cards; matching papers beyond get one line each
# rank = "default"          # "personal": ordered by your likes, library and followed authors
# min_score = 0.5           # with rank = "personal": the lowest score kept (0-1)
# stable_topics = false     # true: sections are the store's stable topics (ids last across days)
# limit = 200               # at most this many matching papers at all [default: no limit]
# n_topics = 6              # topics to group the cards in [default: from the count, <= 8]
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
