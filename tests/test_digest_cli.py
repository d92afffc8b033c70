"""`papercli digest` and `papercli topics` as a user runs them, on the bundled example page."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from papercli import cli
from papercli.console import Environment
from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES, ROOT

SEED = str(EXAMPLES / "hf-daily-papers-jul-31.txt")
GOLDEN = Path(__file__).parent / "golden" / "digest"
UPDATE = os.environ.get("PAPERCLI_UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (PAPERCLI_UPDATE_GOLDEN=1)"


def test_readme_command_prints_a_markdown_digest():
    result = run_cli("digest", SEED, "--topic", "diffusion")
    assert result.code == 0, result.err
    assert result.out.startswith("# Daily digest: diffusion")
    assert "matched" in result.out.lower()
    assert result.err == ""


@pytest.mark.parametrize(("fmt", "ext"), [("md", "md"), ("html", "html"), ("text", "txt")])
def test_golden_digest_of_the_seed_page(fmt, ext):
    result = run_cli("digest", SEED, "--topic", "diffusion", "--date", "2025-07-31", "-f", fmt)
    assert result.code == 0, result.err
    check_golden(f"seed-diffusion.{ext}", result.out)


GOLDEN_PAGES = {
    # 53 new, 4 cross-lists, 40 replacements (with no abstract on this test page)
    "astro-ph-new": "arxiv-list/rendered-by-arxiv-browse/astro-ph_new.html",
    # upvotes, GitHub repos, project pages, AI summaries
    "hf-2026-08-21": "hf-daily/api/daily_papers_date-2026-08-21.json",
}
FORMAT_EXTENSIONS = {"md": "md", "html": "html", "text": "txt", "email-html": "email.html",
                     "json": "json"}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMAT_EXTENSIONS)
@pytest.mark.parametrize("page", GOLDEN_PAGES)
def test_golden_digests_of_real_pages(fixtures, page, fmt):
    result = run_cli("digest", str(fixtures / GOLDEN_PAGES[page]), "-f", fmt)
    assert result.code == 0, result.err
    check_golden(f"{page}.{FORMAT_EXTENSIONS[fmt]}", result.out)


def test_same_input_same_bytes():
    first = run_cli("digest", SEED, "--format", "json", "--date", "2025-07-31")
    second = run_cli("digest", SEED, "--format", "json", "--date", "2025-07-31")
    assert first.code == 0 and first.out == second.out


def test_json_digest_schema():
    result = run_cli("digest", SEED, "-t", "diffusion", "-f", "json", "--date", "2025-07-31")
    data = json.loads(result.out)
    assert data["queries"] == ["diffusion"] and data["total_papers"] == 67
    assert {"id", "label", "terms", "size", "papers"} <= set(data["topics"][0])
    paper = data["papers"][0]
    assert {"id", "title", "topic", "score", "matched_terms"} <= set(paper)
    assert all(p["matched_terms"] for p in data["papers"])
    assert all("diffus" in (p["title"] + p["abstract"]).lower() for p in data["papers"][:3])


def test_exclude_removes_papers():
    kept = json.loads(run_cli("digest", SEED, "-t", "diffusion", "-f", "json").out)["papers"]
    fewer = run_cli("digest", SEED, "-t", "diffusion", "-x", "video", "-f", "json")
    ids = {p["id"] for p in json.loads(fewer.out)["papers"]}
    assert ids < {p["id"] for p in kept}
    assert not any("video" in p["title"].lower() for p in json.loads(fewer.out)["papers"])


def test_no_match_names_the_closest_topics():
    result = run_cli("digest", SEED, "--topic", "quantum chromodynamics lattice")
    assert result.code == ExitCode.NO_MATCH
    assert result.err.startswith("Error: no paper matches 'quantum chromodynamics lattice'")
    assert "closest topics: " in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_output_file_and_dated_dir(tmp_path):
    target = tmp_path / "out.html"
    result = run_cli("digest", SEED, "-t", "diffusion", "-f", "html", "-o", str(target))
    assert result.code == 0, result.err
    assert target.read_text().lstrip().lower().startswith("<!doctype html>")
    folder = tmp_path / "digests"
    folder.mkdir()
    for query in ("diffusion", "video"):
        result = run_cli("digest", SEED, "-t", query, "--date", "2025-07-31", "-o", f"{folder}/")
        assert result.code == 0, result.err
    titled = run_cli("digest", SEED, "--title", "Vision weekly", "-o", f"{folder}/", "-f", "json")
    assert titled.code == 0, titled.err
    # Two digests of one day never overwrite each other: the name says what each is about.
    assert sorted(p.name for p in folder.iterdir()) == [
        "papercli-diffusion-2025-07-31.md",
        "papercli-video-2025-07-31.md",
        f"papercli-vision-weekly-{date.today().isoformat()}.json",
    ]


@pytest.mark.parametrize(
    ("name", "start"),
    [("d.html", "<!doctype html>"), ("d.md", "# Daily digest"), ("d.txt", "Daily digest"),
     ("d.json", "{"), ("d.HTM", "<!doctype html>")],
)  # fmt: skip
def test_output_format_follows_the_extension(tmp_path, name, start):
    target = tmp_path / name
    result = run_cli("digest", SEED, "-t", "diffusion", "-o", str(target))
    assert result.code == 0, result.err
    assert target.read_text().lower().startswith(start.lower())


def test_format_flag_beats_the_extension_and_unknown_extensions_fail(tmp_path):
    target = tmp_path / "notes.html"
    assert run_cli("digest", SEED, "-f", "md", "-o", str(target)).code == 0
    assert target.read_text().startswith("# Daily digest")
    bad = run_cli("digest", SEED, "-o", str(tmp_path / "digest.pdf"))
    assert bad.code == ExitCode.USAGE
    assert bad.err.startswith("Error: cannot tell the format of") and "--format" in bad.err
    assert not (tmp_path / "digest.pdf").exists()


def test_limit_and_sort():
    result = run_cli("digest", SEED, "--limit", "5", "-f", "json", "--sort", "date")
    assert len(json.loads(result.out)["papers"]) == 5
    bad = run_cli("digest", SEED, "--sort", "stars")
    assert bad.code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--since", "99999999d"), "--since '99999999d' reaches back before the year 1"),
        (("--date", "notadate"), "--date 'notadate' is not a date"),
        (("--date", "2024-02-30"), "--date '2024-02-30' is not a date"),
        (("--date", "20240801"), "--date '20240801' is not a date"),
        (("--limit", "0"), "--limit 0 is below 1"),
        (("--limit", "-5"), "--limit -5 is below 1"),
        (("--max-papers", "-1"), "--max-papers -1 is below 0"),
        (
            ("--email-to", "jörg@example.org"),
            "--email-to 'jörg@example.org' is not an email address",
        ),
        (
            ("--format", "bogus"),
            "unknown format 'bogus'; use one of md, html, text, email-html, json, atom",
        ),
        (("--min-score", "0.5"), "--min-score cuts by the personal score; add --rank personal"),
        (("--topic", ""), "--topic is empty"),
        (("--rank", "personal", "--sort", "date"), "--sort date does not apply to --rank personal"),
        (("--topic", "diffusion", "--topic", " "), "--topic is empty"),
    ],
)
def test_bad_option_values_are_one_line_usage_errors(args, error):
    assert run_cli("fetch", SEED).code == 0
    result = run_cli("digest", *args)
    assert result.code == ExitCode.USAGE
    assert result.err.startswith(f"Error: {error}") and result.err.count("\n") == 1


def test_papers_limit_below_one_is_refused():
    assert run_cli("fetch", SEED).code == 0
    result = run_cli("papers", "--limit", "-3")
    assert (result.code, result.err) == (
        ExitCode.USAGE,
        "Error: --limit -3 is below 1; give a positive number\n",
    )


def test_date_today_and_yesterday_are_dates():
    result = run_cli("digest", SEED, "--date", "yesterday", "-f", "json")
    assert result.code == 0, result.err
    assert (
        json.loads(result.out)["date"] == date.fromordinal(date.today().toordinal() - 1).isoformat()
    )


def test_sort_date_puts_papers_without_a_date_last(fixtures):
    dated = fixtures / "hf-daily" / "api" / "daily_papers_date-2026-08-21.json"
    assert run_cli("fetch", str(dated)).code == 0
    assert run_cli("fetch", SEED).code == 0  # the saved page gives no dates, and is stored last
    result = run_cli("digest", "--sort", "date", "-f", "json", "--topics", "1")
    papers = json.loads(result.out)["papers"]
    has_date = [p["published"] is not None for p in papers]
    assert has_date[0] and False in has_date
    assert has_date == sorted(has_date, reverse=True)  # every dated paper before the undated


def test_digest_from_the_store(fixtures):
    fetched = run_cli("fetch", SEED)
    assert fetched.code == 0, fetched.err
    result = run_cli("digest", "--since", "1d", "-t", "diffusion", "-f", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["total_papers"] == 67
    none = run_cli("digest", "--source", "arxiv")
    assert none.code == 0 and "no papers to digest" in none.err


def test_topics_table_and_json():
    table = run_cli("topics", SEED, "--topics", "6")
    assert table.code == 0, table.err
    assert "label" in table.out and "top terms" in table.out
    lines = run_cli("topics", SEED, "--topics", "6", "--json").out.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 67 and {r["topic"] for r in rows} == set(range(6))


def test_topics_of_a_jsonl_file_with_a_progress_bar(fixtures):
    result = run_cli(
        "topics",
        str(fixtures / "abstracts" / "cs-daily-sample-9940.jsonl.gz"),
        "--topics",
        "12",
        terminal=True,
    )
    assert result.code == 0, result.err
    assert result.out.count("\n") > 12
    # The bar is transient, but its frames went to the terminal on the way.
    assert "topics: " in result.err and "%" in result.err


def test_topics_bar_is_cleared_before_the_table_on_a_shared_screen(fixtures):
    """On a terminal the bar (stderr) and the table (stdout) share one screen: the bar must be
    gone before the table is printed, or it is drawn again under it and its clean-up codes move
    the cursor over the table's last lines."""
    screen = io.StringIO()
    with redirect_stdout(screen), redirect_stderr(screen):
        out = Console(file=screen, width=200, no_color=True, highlight=False, soft_wrap=True)
        err = Console(file=screen, width=200, no_color=True, highlight=False, force_terminal=True)
        code = cli.run(
            [
                "topics",
                str(fixtures / "abstracts" / "cs-daily-sample-9940.jsonl.gz"),
                "--topics",
                "8",
            ],
            env=Environment(stdout=out, stderr=err),
        )
    assert code == 0
    text = screen.getvalue()
    table_at = text.index("top terms")
    assert "topics: " in text[:table_at]  # the bar was drawn while the work went on
    assert "topics: " not in text[table_at:] and "\x1b[" not in text[table_at:]


def test_no_progress_bar_when_stderr_is_not_a_terminal():
    result = run_cli("topics", SEED, "--topics", "4")
    assert result.code == 0 and result.err == ""


@pytest.mark.slow
def test_templates_ship_inside_the_wheel(tmp_path):
    """Build the wheel, install it in a fresh virtualenv, and render a digest with it there.

    The new venv borrows this one's dependencies through a .pth line (no download), but papercli
    itself, its templates included, comes only from the wheel.
    """
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("papercli-*.whl")
    assert "papercli/templates/digest.html.j2" in zipfile.ZipFile(wheel).namelist()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        check=True,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [str(env_dir / "bin" / "papercli"), "digest", SEED, "-t", "diffusion", "-f", "html"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PAPERCLI_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert "<!doctype html>" in done.stdout.lower()
    where = subprocess.run(
        [str(python), "-c", "import papercli; print(papercli.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert where.startswith(str(site)), where


def test_every_digest_setting_is_documented():
    from dataclasses import fields

    from papercli.configfile import DEFAULT_CONFIG
    from papercli.runner import DigestConfig

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Digest settings") :]
    keys = [f.name for f in fields(DigestConfig) if f.name != "name"]
    assert [key for key in keys if f"| `{key}` |" not in table] == []
    assert [key for key in keys if f"# {key} = " not in DEFAULT_CONFIG] == []
