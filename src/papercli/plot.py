"""Plots: the papers per period of the top trending topics, drawn with matplotlib as SVG or PNG.

matplotlib is imported here only, when a plot is asked for, with its non-interactive backend
(no display needed, as under cron). Returns the file's bytes; writing is the caller's job.
"""

from __future__ import annotations

import io
from math import nan
from typing import TYPE_CHECKING

from papercli.errors import UsageError

if TYPE_CHECKING:
    from papercli.trends import Trends

FORMATS = ("svg", "png")
TOP = 8  # lines one plot can hold and stay readable
_LABEL = 38  # characters of a label in the legend


def plot_format(path: str) -> str:
    """'trends.svg' -> 'svg'; a name that is neither .svg nor .png is a usage error."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in FORMATS:
        raise UsageError(
            f"--plot {path!r} is neither an .svg nor a .png file",
            hint="name the file e.g. trends.svg or trends.png",
        )
    return suffix


def render_plot(trends: Trends, fmt: str, top: int = TOP) -> bytes:
    """A line per topic (the first `top` of `trends`, rising and falling first): papers per
    period above, their share of all papers below (the fetched volume moves; the share shows
    the trend). Rising topics solid, falling dashed, steady dotted; a period with no stored
    paper at all is a gap."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    shown = trends.topics[:top]
    figure = Figure(figsize=(11, 7), dpi=110, layout="constrained")
    counts_axes, share_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    x = list(range(len(trends.periods)))
    colours = [plt.get_cmap("tab10")(i) for i in range(10)]
    for n, topic in enumerate(shown):
        # A period without any stored paper is a gap, not a zero: nothing was fetched then.
        counts = [c if total else nan for c, total in zip(topic.counts, trends.totals, strict=True)]
        shares = [
            100 * c / total if total else nan
            for c, total in zip(topic.counts, trends.totals, strict=True)
        ]
        label = topic.label if len(topic.label) <= _LABEL else topic.label[: _LABEL - 1] + "…"
        line = {
            "linestyle": {"rising": "-", "falling": "--"}.get(topic.trend, ":"),
            "linewidth": 2.4 if topic.trend != "steady" else 1.4,
            "marker": "o", "markersize": 3, "color": colours[n % len(colours)],
        }  # fmt: skip
        counts_axes.plot(x, counts, label=f"#{topic.id} {label} ({topic.trend})", **line)
        share_axes.plot(x, shares, **line)
    step = max(1, len(x) // 12)
    share_axes.set_xticks(x[::step], trends.periods[::step], rotation=30, ha="right")
    counts_axes.set_ylabel(f"papers per {trends.by}")
    share_axes.set_ylabel("% of all papers")
    counts_axes.set_title(f"Papers per {trends.by} of the top {len(shown)} topics")
    for axes in (counts_axes, share_axes):
        axes.grid(axis="y", alpha=0.3)
        axes.set_ylim(bottom=0)
    if shown:
        counts_axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
