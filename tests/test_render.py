"""Rendering digests built from real Hugging Face Daily Papers items: golden files, escaping of
hostile page text, user overrides, determinism.

Set PAPERCLI_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from papercli import __version__
from papercli.errors import UsageError
from papercli.models import Digest, DigestEntry, Paper, RisingTopic, Topic
from papercli.render import (
    abs_url,
    authors_short,
    datefmt,
    digest_to_json,
    environment,
    first_sentences,
    md_escape,
    plural,
    render,
    shipped_templates,
    slug,
    wrap,
)

GOLDEN = Path(__file__).parent / "golden" / "render"
HF_2024 = "hf-daily/api/daily_papers_date-2024-08-02.json"
HF_2026 = "hf-daily/api/daily_papers_date-2026-08-21.json"
# The version changes with every release; the golden files say VERSION instead.
VERSION = f"papercli {__version__}"


def hf_paper(item: dict) -> Paper:
    """A Paper from one Daily Papers API item, the fields the HF source fills in."""
    paper = item["paper"]
    return Paper(
        id=paper["id"],
        title=" ".join(item["title"].split()),
        authors=[author["name"] for author in paper["authors"]],
        abstract=paper["summary"],
        published=paper["publishedAt"][:10],
        upvotes=paper.get("upvotes"),
        num_comments=item.get("numComments"),
        github_repo=paper.get("githubRepo"),
        github_stars=paper.get("githubStars"),
        ai_summary=paper.get("ai_summary"),
        ai_keywords=paper.get("ai_keywords", []),
        sources=["hf"],
    )


def hf_papers(fixtures: Path, name: str) -> dict[str, Paper]:
    items = json.loads((fixtures / name).read_text(encoding="utf-8"))
    return {item["paper"]["id"]: hf_paper(item) for item in items}


# (topic, [(paper id, score, matched terms)]) in display order.
PICKS_2024 = [
    (
        Topic(3, "Language models & reasoning", ["language", "language models", "reasoning"], 5),
        [
            ("2408.00118", 0.6125, ["language model"]),
            ("2408.00690", 0.5581, ["language model"]),
            ("2408.00167", 0.4102, ["language model"]),
            ("2408.00584", 0.3917, ["language model"]),
        ],
    ),
    (
        Topic(0, "Video & motion", ["video", "motion", "segmentation"], 4),
        [
            ("2408.00714", 0.5349, ["video"]),
            ("2408.00458", 0.4871, ["video", "motion"]),
        ],
    ),
    (
        Topic(5, "Diffusion guidance / editing", ["diffusion", "guidance", "image editing"], 2),
        [
            ("2408.00735", 0.4466, ["diffusion"]),
            ("2408.00760", 0.3301, ["diffusion"]),
        ],
    ),
]


def make_digest(papers: dict[str, Paper], picks, **fields) -> Digest:
    entries = [
        DigestEntry(papers[pid], topic.id, score, terms)
        for topic, chosen in picks
        for pid, score, terms in chosen
    ]
    return Digest(
        title="Daily digest",
        topics=[topic for topic, _ in picks],
        entries=entries,
        **fields,
    )


@pytest.fixture
def digest(fixtures: Path) -> Digest:
    return make_digest(
        hf_papers(fixtures, HF_2024),
        PICKS_2024,
        date="2024-08-02",
        queries=["language model", "video", "diffusion"],
        excludes=["survey"],
        total_papers=16,
    )


def check_golden(name: str, text: str) -> None:
    text = text.replace(VERSION, "papercli VERSION")
    path = GOLDEN / name
    if os.environ.get("PAPERCLI_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path}: run with PAPERCLI_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def hostile_digest(fixtures: Path) -> Digest:
    """The SAM 2 item with script, event-handler and javascript: payloads in every page field."""
    papers = hf_papers(fixtures, HF_2024)
    sam = papers["2408.00714"]
    hostile = replace(
        sam,
        title=f"{sam.title} <script>alert(1)</script> & $x<y$",
        authors=["Nikhila Ravi <img src=x onerror=alert(1)>", "R&D Team", *sam.authors[1:]],
        abstract="<img src=x onerror=alert(1)> We show $x<y$ & more. " + sam.abstract,
        url="javascript:alert(1)",
        github_repo="javascript:alert(document.cookie)",
        github_stars=7,
    )
    topic = Topic(0, "<b>video</b> & <i>segmentation</i>", ["<script>", "video"], 2)
    entries = [
        DigestEntry(hostile, 0, 0.5, ["<script>"]),
        DigestEntry(papers["2408.00458"], 0, 0.4, ["video"]),
    ]
    return Digest(
        "Daily <digest>", "2024-08-02", [topic], entries, ["<script>"], [], total_papers=16
    )


class _Tags(HTMLParser):
    """Every start tag with its attributes, and all text, as a browser's tokenizer sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(html: str) -> _Tags:
    parsed = _Tags(html)
    names = {tag for tag, _ in parsed.tags}
    assert "script" not in names
    assert "img" not in names
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for key in ("href", "src"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith("javascript:"), (tag, attrs)
    return parsed


# -- golden files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("md", "digest.md"),
        ("html", "digest.html"),
        ("text", "digest.txt"),
        ("email-html", "email.html"),
        ("json", "digest.json"),
    ],
)
def test_golden(digest: Digest, fmt: str, name: str) -> None:
    check_golden(name, render(digest, fmt))


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("md", "stable.md"),
        ("html", "stable.html"),
        ("text", "stable.txt"),
        ("email-html", "stable-email.html"),
        ("json", "stable.json"),
    ],
)
def test_golden_with_stable_topics(digest: Digest, fmt: str, name: str) -> None:
    """digest --stable-topics: each section's lasting id and trend, and the week's rising topics
    (linked to their section when the digest has one)."""
    digest.topics = [
        replace(t, stable_id=t.id, trend="rising" if t.id == 0 else "") for t in digest.topics
    ]
    digest.rising = [
        RisingTopic(0, "Video & motion", 14, 4.25, 2.6, 0.0012),
        RisingTopic(9, "Robot manipulation", 6, 0.0, None, 0.0153),
    ]
    check_golden(name, render(digest, fmt))


def test_golden_with_ai_summary_and_github(fixtures: Path) -> None:
    """The newest API schema: ai_summary leads, the GitHub repo and its stars are shown."""
    papers = hf_papers(fixtures, HF_2026)
    picks = [
        (
            Topic(1, "Agents & environments", ["agent", "environment", "reinforcement"], 3),
            [("2608.19880", 0.71, ["agent"]), ("2608.13120", 0.52, ["agent"])],
        ),
        (
            Topic(4, "Code generation", ["code", "repository", "bench"], 2),
            [("2608.19799", 0.63, ["code"]), ("2608.19854", 0.44, ["code"])],
        ),
    ]
    digest = make_digest(
        papers, picks, date="2026-08-21", queries=["agent", "code"], total_papers=17
    )
    md = render(digest, "md")
    check_golden("digest-2026-08-21.md", md)
    assert ("matched: agent · 163 upvotes · 1 comment · 8 GitHub stars") in md
    assert (
        "[code: google-research/envharness](https://github.com/google-research/envharness)"
    ) in md
    # SkillEvo has no repo on the page: no code link, no stars.
    skill = md.split("### [SkillEvo")[1].split("###")[0]
    assert "matched: agent · 6 upvotes · 2 comments\n" in skill
    assert "code:" not in skill and "GitHub star" not in skill
    assert "EnvHarness and EnvRigger dynamically reshape static environments" in md

    html = render(digest, "html")
    check_golden("digest-2026-08-21.html", html)
    parsed = assert_inert(html)
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert "https://github.com/OpenMOSS/SWE-bench-Science" in links
    assert html.count("<summary>Full abstract</summary>") == 4


# -- what the formats say ------------------------------------------------------------------------


def test_markdown_structure(digest: Digest) -> None:
    md = render(digest, "md")
    lines = md.splitlines()
    assert lines[0] == (
        "# Daily digest: language model, video, diffusion — 2024-08-02 · 8 papers in 3 topics"
    )
    assert "1. [Language models & reasoning](#language-models--reasoning) (4)" in lines
    assert "## Language models & reasoning" in lines
    assert (
        "### [SAM 2: Segment Anything in Images and Videos](https://arxiv.org/abs/2408.00714)"
        in lines
    )
    assert "Nikhila Ravi, Valentin Gabeur, Yuan-Ting Hu et al. · 2024-08-01" in lines
    assert "matched: video, motion · 5 upvotes · 1 comment" in lines
    assert "Susung Hong · 2024-08-01" in lines
    assert "matched: diffusion · 1 upvote · 1 comment" in lines
    # Topics in the digest's order, papers in their entries' order.
    order = [line.split("](")[0].removeprefix("### [") for line in lines if line.startswith("###")]
    assert order[0] == "Gemma 2: Improving Open Language Models at a Practical Size"
    assert order[4] == "SAM 2: Segment Anything in Images and Videos"
    assert len(order) == 8


def test_markdown_anchors_match_rendered_headings(digest: Digest) -> None:
    """The contents links point at ids GitHub gives the headings (lowercase, punctuation gone)."""
    md = render(digest, "md")
    anchors = [line.split("](#")[1].split(")")[0] for line in md.splitlines() if "](#" in line]
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")][1:]
    assert anchors == [slug(h) for h in headings]
    assert anchors == ["language-models--reasoning", "video--motion", "diffusion-guidance--editing"]


def test_text_is_wrapped_and_numbered(digest: Digest) -> None:
    text = render(digest, "text")
    lines = text.splitlines()
    long = [line for line in lines if len(line) > 78 and "://" not in line]
    assert long == []
    numbered = [line for line in lines if line[:1].isdigit()]
    assert [line.split(".")[0] for line in numbered] == [str(n) for n in range(1, 9)]
    assert "5. SAM 2: Segment Anything in Images and Videos" in lines
    # URLs stand alone on their lines (indented under their paper) so mail clients link them.
    assert "   https://arxiv.org/abs/2408.00714" in lines
    assert text.endswith("-- \nGenerated by " + VERSION + ".\n")


def test_json_schema(digest: Digest) -> None:
    data = json.loads(render(digest, "json"))
    assert data == digest_to_json(digest)
    assert sorted(data) == [
        "date", "excludes", "generated_by", "more", "papers", "queries", "sort", "title", "topics",
        "total_papers", "updates",
    ]  # fmt: skip
    assert data["generated_by"] == VERSION
    assert data["total_papers"] == 16
    assert [t["id"] for t in data["topics"]] == [3, 0, 5]
    assert data["topics"][1] == {
        "id": 0,
        "label": "Video & motion",
        "terms": ["video", "motion", "segmentation"],
        "size": 4,
        "papers": ["2408.00714", "2408.00458"],
    }
    sam = data["papers"][4]
    assert sam["id"] == "2408.00714"
    assert sam["title"] == "SAM 2: Segment Anything in Images and Videos"
    assert sam["authors"][:3] == ["Nikhila Ravi", "Valentin Gabeur", "Yuan-Ting Hu"]
    assert len(sam["authors"]) == 18
    assert sam["abstract"].startswith("We present Segment Anything Model 2 (SAM 2), a foundation")
    assert sam["url"] == "https://arxiv.org/abs/2408.00714"
    assert (sam["topic"], sam["score"], sam["upvotes"]) == (0, 0.5349, 35)
    assert sam["matched_terms"] == ["video"]
    assert "Piotr Dollár" in render(digest, "json")  # ensure_ascii off: names stay readable


def test_rendering_is_deterministic(digest: Digest) -> None:
    for fmt in ("md", "html", "text", "email-html", "json"):
        assert render(digest, fmt).encode() == render(digest, fmt).encode(), fmt


# -- hostile page text ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "email-html"])
def test_html_escapes_everything_from_pages(hostile_digest: Digest, fmt: str) -> None:
    html = render(hostile_digest, fmt)
    parsed = assert_inert(html)
    text = "".join(parsed.text)
    assert "<script>alert(1)</script> & x<y" in text
    assert "Nikhila Ravi <img src=x onerror=alert(1)>" in text
    assert "<b>video</b> & <i>segmentation</i>" in text
    assert "We show x<y & more." in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; x&lt;y" in html
    # The javascript: URLs never become links; the paper falls back to its arXiv page.
    hrefs = [attrs.get("href") for tag, attrs in parsed.tags if tag == "a"]
    assert "https://arxiv.org/abs/2408.00714" in hrefs
    assert "javascript" not in html.lower()


def test_markdown_escapes_everything_from_pages(hostile_digest: Digest) -> None:
    from markdown_it import MarkdownIt

    md = render(hostile_digest, "md")
    assert re.findall(r"(?<!\\)[<>]", md) == []
    assert "javascript" not in md.lower()
    assert r"\<script\>alert(1)\</script\> & x\<y" in md
    assert r"# Daily \<digest\>: \<script\>" in md
    # A CommonMark renderer that passes raw HTML through still makes no element of it.
    html = MarkdownIt("commonmark").render(md)
    parsed = assert_inert(html)
    assert {tag for tag, _ in parsed.tags} <= {"h1", "h2", "h3", "p", "a", "ol", "li", "em", "hr"}
    assert "<script>alert(1)</script> & x<y" in "".join(parsed.text)


def test_text_drops_terminal_escapes(hostile_digest: Digest) -> None:
    hostile_digest.entries[1].paper.title = "Reenact \x1b[2J\x1b]0;owned\x07Anything"
    text = render(hostile_digest, "text")
    assert "\x1b" not in text and "\x07" not in text
    assert "Reenact [2J ]0;owned Anything" in text


# -- templates: overrides, --template, errors ----------------------------------------------------


def test_user_dir_overrides_a_block_of_the_shipped_template(tmp_path: Path, digest: Digest) -> None:
    (tmp_path / "digest.md.j2").write_text(
        '{% extends "default:digest.md.j2" %}\n'
        "{% block paper_facts %}\n\nScore: {{ '%.2f'|format(entry.score) }}\n{% endblock %}\n"
        "{% block footer %}\n-- my footer\n{% endblock %}\n",
        encoding="utf-8",
    )
    md = render(digest, "md", template_dirs=[tmp_path])
    assert md.startswith("# Daily digest: language model, video, diffusion — 2024-08-02")
    assert md.count("\nScore: ") == 8
    assert "\nScore: 0.53\n" in md
    assert "upvotes" not in md
    assert md.endswith("-- my footer\n")
    # Other formats still come from the shipped templates.
    assert render(digest, "html", template_dirs=[tmp_path]) == render(digest, "html")


def test_template_file_can_include_its_neighbours(tmp_path: Path, digest: Digest) -> None:
    (tmp_path / "_row.j2").write_text(
        "{{ entry.paper.id }} {{ entry.paper.title }}\n", encoding="utf-8"
    )
    (tmp_path / "brief.j2").write_text(
        "{{ digest.date }}\n{% for entry in digest.entries %}{% include '_row.j2' %}{% endfor %}",
        encoding="utf-8",
    )
    out = render(digest, "md", template=tmp_path / "brief.j2")
    lines = out.splitlines()
    assert lines[0] == "2024-08-02"
    assert lines[1] == "2408.00118 Gemma 2: Improving Open Language Models at a Practical Size"
    assert len(lines) == 9


def test_html_format_escapes_a_user_template_whatever_its_name(
    tmp_path: Path, hostile_digest: Digest
) -> None:
    (tmp_path / "plain.j2").write_text(
        "<ul>{% for e in digest.entries %}<li>{{ e.paper.title }}</li>{% endfor %}</ul>\n",
        encoding="utf-8",
    )
    html = render(hostile_digest, "html", template=tmp_path / "plain.j2")
    assert_inert(html)
    assert "&lt;script&gt;" in html
    # The same template for markdown is the user's business: no escaping asked, none done.
    assert "<script>" in render(hostile_digest, "md", template=tmp_path / "plain.j2")


def test_environment_finds_the_shipped_templates() -> None:
    root = shipped_templates()
    for name in ("digest.md.j2", "digest.html.j2", "digest.txt.j2", "email.html.j2", "_macros.j2"):
        assert root.joinpath(name).is_file(), name
    env = environment()
    shipped = str(root.joinpath("digest.md.j2"))
    assert env.get_template("default:digest.md.j2").filename == shipped
    assert env.get_template("digest.html.j2").environment.autoescape("digest.html.j2") is True
    assert environment(autoescape_html=False).autoescape is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "pdf"}, "unknown format 'pdf'"),
        ({"fmt": "md", "template": Path("/nonexistent/t.j2")}, "template file /nonexistent/t.j2"),
        ({"fmt": "json", "template": Path(__file__)}, "--template cannot be used with"),
    ],
)
def test_usage_errors(digest: Digest, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")) as caught:
        render(digest, **kwargs)
    assert caught.value.exit_code == 2


def test_broken_user_template_is_a_usage_error(tmp_path: Path, digest: Digest) -> None:
    (tmp_path / "bad.j2").write_text("line one\n{% for x in %}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"^template bad\.j2 line 2: "):
        render(digest, "md", template=tmp_path / "bad.j2")
    (tmp_path / "typo.j2").write_text("{{ digest.titel }}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"^template typo\.j2: .*titel"):
        render(digest, "md", template=tmp_path / "typo.j2")


def test_paper_without_arxiv_id_is_not_linked(digest: Digest) -> None:
    paper = digest.entries[0].paper
    paper.id, paper.url = "title:0123456789ab", None
    md = render(digest, "md")
    assert "\n### Gemma 2: Improving Open Language Models at a Practical Size\n" in md
    html = render(digest, "html")
    assert "<h3>Gemma 2: Improving Open Language Models at a Practical Size</h3>" in html
    assert digest_to_json(digest)["papers"][0]["url"] is None


# -- filters -------------------------------------------------------------------------------------


def test_first_sentences(fixtures: Path) -> None:
    sam = hf_papers(fixtures, HF_2024)["2408.00714"]
    assert first_sentences(sam.abstract, 1) == (
        "We present Segment Anything Model 2 (SAM 2), a foundation model towards solving "
        "promptable visual segmentation in images and videos."
    )
    assert first_sentences(sam.abstract, 3).endswith("for real-time video processing.")
    # "et al., 2020a)" and "e.g. x" do not end a sentence; a cut lands on a word.
    assert first_sentences("See Hinton et al., 2015. It works, e.g. here. Done.", 2) == (
        "See Hinton et al., 2015. It works, e.g. here."
    )
    assert first_sentences(sam.abstract, 20, max_chars=60) == (
        "We present Segment Anything Model 2 (SAM 2), a foundation…"
    )
    assert first_sentences(None) == ""


def test_authors_short() -> None:
    names = ["Nikhila Ravi", "Valentin Gabeur", "Yuan-Ting Hu", "Ronghang Hu"]
    assert authors_short(names) == "Nikhila Ravi, Valentin Gabeur, Yuan-Ting Hu et al."
    assert authors_short(names, max=4) == "Nikhila Ravi, Valentin Gabeur, Yuan-Ting Hu, Ronghang Hu"
    assert authors_short(names[:1]) == "Nikhila Ravi"
    assert authors_short([]) == ""


def test_md_escape() -> None:
    assert md_escape("a <b> & *c* _d_ [e](f) |g| `h`") == (
        r"a \<b\> & \*c\* \_d\_ \[e\](f) \|g\| \`h\`"
    )
    assert md_escape("&lt;b&gt; Q&A") == r"\&lt;b\&gt; Q&A"
    assert md_escape("# not a heading") == r"\# not a heading"
    assert md_escape("1. not a list") == r"1\. not a list"
    assert md_escape("2.5D Gaussians") == "2.5D Gaussians"
    assert md_escape("line\n\n- item") == "line - item"


def test_abs_url() -> None:
    paper = Paper(id="2408.00714", title="SAM 2")
    assert abs_url(paper) == "https://arxiv.org/abs/2408.00714"
    assert abs_url(replace(paper, url="https://huggingface.co/papers/2408.00714")) == (
        "https://huggingface.co/papers/2408.00714"
    )
    assert abs_url(replace(paper, url=" JavaScript:alert(1)")) == "https://arxiv.org/abs/2408.00714"
    assert abs_url("/abs/2408.00714") == "https://arxiv.org/abs/2408.00714"
    assert abs_url("data:text/html,<script>") is None
    assert abs_url('https://x.org/a b(c)"<') == "https://x.org/a%20b%28c%29%22%3C"
    assert abs_url(None) is None


def test_datefmt_and_plural() -> None:
    assert datefmt("2024-08-01T17:00:08.000Z") == "2024-08-01"
    assert datefmt("2024-08-02", "long") == "Friday, 2 August 2024"
    assert datefmt("2024-08-02", "short") == "2 Aug 2024"
    assert datefmt("Fri, 2 Aug") == "Fri, 2 Aug"
    assert datefmt(None) == ""
    assert plural(1, "paper") == "1 paper"
    assert plural(1234, "upvote") == "1,234 upvotes"
    assert plural(2, "child", "children") == "2 children"


def test_wrap_keeps_urls_whole() -> None:
    url = "https://github.com/trapoom555/Language-Model-STS-CFT/tree/main/very/long/path/x"
    assert wrap("code at " + url, width=40, indent=2).splitlines() == ["  code at", "  " + url]
