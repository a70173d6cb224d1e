"""Charts for the overview as inline SVG, drawn on the server with matplotlib (no network, no scripts).

Text stays text in the SVG (``svg.fonttype: none``), so the browser sets it in the page's CJK font
and a PDF keeps it searchable. Output is deterministic (fixed hash salt, no date metadata).
"""

from __future__ import annotations

import io
import re

from .overview import Overview

COLORS = {"green": "#2e7d32", "yellow": "#f2b600", "red": "#c62828", "white": "#ffffff"}
FONTS = ["Noto Sans CJK TC", "Noto Sans TC", "Noto Sans CJK JP", "DejaVu Sans"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "kpiengine", "font.family": "sans-serif",
                         "font.sans-serif": FONTS, "axes.unicode_minus": False, "font.size": 9})
    return plt


def _svg(fig, label: str) -> str:
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG is inlined in HTML
    text = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1', text, count=1)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" class="chart" ', 1)


def lights_by_agency(overview: Overview) -> str:
    """A horizontal stacked bar per agency: KPIs by final light (ranked as in the overview)."""
    plt = _pyplot()
    agencies = [a for a in overview.agencies if a.final_lit][::-1]  # best at the top
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.26 * len(agencies) + 1)))
    left = [0] * len(agencies)
    names = [a.agency for a in agencies]
    for key, label in (("green", "綠燈"), ("yellow", "黃燈"), ("red", "紅燈"), ("white", "白燈")):
        counts = [next(t.count for t in a.final if t.key == key) for a in agencies]
        ax.barh(names, counts, left=left, color=COLORS[key], edgecolor="#7b8794", linewidth=0.5, label=label)
        left = [x + c for x, c in zip(left, counts, strict=True)]
    ax.set_xlabel("指標數（最終燈號：複核優先，否則為計算燈號）")
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(y=0.01)
    return _svg(fig, "各機關最終燈號分布（堆疊長條圖）")


def achievement_histogram(overview: Overview) -> str:
    """How many KPIs fall in each band of capped 達成度."""
    plt = _pyplot()
    labels = [label for label, _ in overview.histogram]
    counts = [n for _, n in overview.histogram]
    colors = [COLORS["green"] if lb == "100" else COLORS["yellow"] if lb.startswith("90") else
              COLORS["red"] if lb.startswith("80") else "#9aa5b1" for lb in labels]
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    bars = ax.bar(labels, counts, color=colors, edgecolor="#52606d", linewidth=0.5)
    ax.bar_label(bars, fontsize=8)
    ax.set_xlabel("達成度（%，上限 100）")
    ax.set_ylabel("指標數")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "達成度分布（直方圖）")
