"""Digest quality and size on the real pages: topics sized for reading, labels, email size.

Plain Python, no network. Reads the saved pages with papercli's own parsers, builds digests the
way `papercli digest` does and prints three tables:

    python benchmarks/digest_quality.py            # all tables
    python benchmarks/digest_quality.py --quick    # skip the 3,000-paper digests

1. topics of `--topic` digests of 100-3,000 papers (cs-daily's 32 days, the all-archives RSS
   day): papers, topics, largest topic's share, papers in Other, duplicate labels (the same or
   alike), labels of one word, and a few labels
2. email size at 50 and 100 full cards on the all-archives RSS day, cs-daily's 32 days and a
   Hugging Face day: the cards alone, the HTML part as sent (one-line lists cut to fit, the rest
   in the attached digest), the text part and the whole message; Gmail clips after ~102 KB
3. time: a 1,000-paper digest from parsed papers to the rendered HTML and email
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import CS_DAILY, FIXTURES, RSS_FEED  # noqa: E402

HF_DAY = FIXTURES / "hf-daily" / "api" / "daily_papers_date-2026-08-21.json"
GMAIL_CLIP = 102 * 1024

# (set, query): chosen to give digests from about 100 to 3,000 papers.
TOPIC_DIGESTS = [
    ("cs-daily", "reinforcement learning"),
    ("cs-daily", "diffusion"),
    ("cs-daily", "agent"),
    ("cs-daily", "LLM"),
    ("cs-daily", "graph"),
    ("cs-daily", "model"),
    ("rss", "quantum"),
    ("rss", "neural network"),
    ("rss", "learning"),
    ("rss", "model"),
]


def load(name: str):
    from papercli.fetch import parse_spec, read_papers
    from papercli.settings import load_settings

    path = {"cs-daily": CS_DAILY, "rss": RSS_FEED, "hf": HF_DAY}[name]
    settings = load_settings(missing_config_ok=True, offline=True)
    papers, _day = read_papers([parse_spec(str(path))], settings)
    return papers


def one_word(label: str) -> bool:
    terms = [t.strip() for t in label.split(" · ")[-1].split(",")]
    return len(terms) == 1 and " " not in terms[0]


def topic_rows(quick: bool) -> list[tuple]:
    from papercli.digest import _alike, build_digest

    sets = {name: load(name) for name in ("cs-daily", "rss")}
    rows = []
    for name, query in TOPIC_DIGESTS:
        digest = build_digest(sets[name], queries=[query], announce=("new", "cross", "replace"))
        n = len(digest.entries)
        if quick and n > 2000:
            continue
        sizes = sorted((t.size for t in digest.topics), reverse=True)
        labels = [t.label for t in digest.topics]
        alike = sum(
            1 for i, a in enumerate(labels) for b in labels[i + 1 :] if a == b or _alike(a, b)
        )
        other = n - sum(sizes)
        rows.append(
            (
                f"{name} --topic {query!r}",
                n,
                len(sizes),
                f"{sizes[0] / n:.0%}" if sizes else "-",
                " ".join(map(str, sizes)),
                other,
                alike,
                sum(map(one_word, labels)),
                " | ".join(labels[:4]),
            )
        )
        print("  ", rows[-1], flush=True)
    return rows


def email_rows() -> list[tuple]:
    from dataclasses import replace

    from papercli.digest import build_digest
    from papercli.render import render
    from papercli.runner import compose

    rows = []
    for name in ("rss", "cs-daily", "hf"):
        papers = load(name)
        for cap in (50, 100):
            digest = build_digest(papers, max_papers=cap, title="Daily digest")
            cards = render(replace(digest, more=[], updates=[]), "email-html").encode()
            msg = compose(digest, subject="s", from_addr="a@b.c", to=["d@e.f"])
            html = msg.get_body(("html",)).get_content().encode()
            text = msg.get_body(("plain",)).get_content().encode()
            lines = len(digest.more) + len(digest.updates)
            listed = html.count(b'<p style="margin:0 0 6px;">') + html.count(
                b'<p style="margin:0 0 8px;">'
            )
            rows.append(
                (
                    name,
                    len(papers),
                    len(digest.entries),
                    f"{listed} of {lines}",
                    f"{len(cards) / 1024:.1f} KB",
                    f"{len(html) / 1024:.1f} KB",
                    f"{len(text) / 1024:.1f} KB",
                    f"{len(msg.as_bytes()) / 1024:.1f} KB",
                    "yes" if len(html) < GMAIL_CLIP else "NO",
                )
            )
            print("  ", rows[-1], flush=True)
    return rows


def time_rows() -> list[tuple]:
    from papercli.digest import build_digest
    from papercli.render import render

    papers = load("cs-daily")[:1000]
    start = time.perf_counter()
    digest = build_digest(papers)
    built = time.perf_counter()
    html = render(digest, "html")
    render(digest, "email-html")
    done = time.perf_counter()
    return [
        (
            "1,000 cs-daily papers",
            f"{built - start:.2f} s",
            f"{done - built:.2f} s",
            f"{len(html.encode()) / 1024:.0f} KB",
        )
    ]


def table(header: tuple, rows: list[tuple]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip digests over 2,000 papers")
    parser.add_argument("--only", choices=("topics", "email", "time"))
    args = parser.parse_args()
    if args.only in (None, "topics"):
        rows = topic_rows(args.quick)
        table(("digest", "papers", "topics", "largest", "sizes", "Other", "alike labels",
               "one-word labels", "first labels"), rows)  # fmt: skip
    if args.only in (None, "email"):
        rows = email_rows()
        table(("day", "papers", "cards", "one-line entries listed", "cards alone (HTML)",
               "HTML part", "text part", "message (with attachment)", "HTML < 102 KB"),
              rows)  # fmt: skip
    if args.only in (None, "time"):
        table(("digest", "build", "render HTML + email", "HTML size"), time_rows())


if __name__ == "__main__":
    main()
