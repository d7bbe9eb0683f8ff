"""--plot FILE.png: per scenario, median req/s per client (with the range over
rounds) and the latency percentiles (avg, p50, p95, p99); for the matrix, the
ratio of each cell against its target. matplotlib, Agg."""

from __future__ import annotations

import importlib
from typing import Any

from .matrix_report import MatrixRow
from .report import Summary
from .runner import Scenario

COLORS = {"sync": "#4c72b0", "async": "#dd8452"}
FASTHTTP = {"sync": "#1f3f7a", "async": "#a0461a"}


def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display), or RuntimeError saying how."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError as e:
        raise RuntimeError("--plot needs matplotlib (pip install matplotlib)") from e
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def plot(path: str, scenarios: list[Scenario], rows: dict[str, list[Summary]],
         subtitle: str) -> None:
    plt = _pyplot()
    patch: Any = importlib.import_module("matplotlib.patches").Patch
    legend = [patch(color=FASTHTTP["sync"], label="fasthttp sync"),
              patch(color=FASTHTTP["async"], label="fasthttp async"),
              patch(color=COLORS["sync"], label="sync peers"),
              patch(color=COLORS["async"], label="async peers")]

    n = len(scenarios)
    fig, axes = plt.subplots(n, 2, figsize=(15, 4.2 * n + 0.8), squeeze=False)
    for i, sc in enumerate(scenarios):
        ok = [r for r in rows[sc.key] if r.status == "ok"]
        others = [r for r in rows[sc.key] if r.status != "ok"]
        labels = [r.client.label for r in ok]
        x = list(range(len(ok)))
        ax = axes[i][0]
        rps = [r.rps for r in ok]
        err = [[r.rps - r.rps_min for r in ok], [r.rps_max - r.rps for r in ok]]
        colors = [(FASTHTTP if r.client.library == "fasthttp" else COLORS)[r.client.mode]
                  for r in ok]
        ax.bar(x, rps, color=colors, yerr=err, capsize=3)
        for xi, v in zip(x, rps):
            ax.annotate(f"{v:,.0f}", (xi, v), ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("requests/s (median, range over rounds)")
        ax.set_title(sc.title, fontsize=10)
        ax.legend(handles=legend, fontsize=7, loc="upper center")
        if others:
            ax.text(0.99, 0.98, "\n".join(f"{r.client.label}: {r.status}" for r in others),
                    transform=ax.transAxes, ha="right", va="top", fontsize=7, color="#888")

        ax = axes[i][1]
        width = 0.2
        for j, (key, name) in enumerate((("avg_ms", "avg"), ("p50_ms", "p50"),
                                         ("p95_ms", "p95"), ("p99_ms", "p99"))):
            ax.bar([xi + (j - 1.5) * width for xi in x], [r.median[key] for r in ok], width,
                   label=name)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("latency, ms (median over rounds)")
        ax.set_yscale("log")
        ax.set_title("latency: " + sc.title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(subtitle, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_matrix(path: str, rows: list[MatrixRow], subtitle: str) -> None:
    """The matrix as three panels of horizontal bars, one bar per cell: fasthttp's best
    face over the best peer (target 1.2x), fasthttp async over aiohttp (1.5x), and the
    cheapest peer's client CPU per request over fasthttp's (above 1: fasthttp is
    cheaper; the figure a busy machine moves least). Bars below their line are red.
    .png or .svg, by the file name."""
    plt = _pyplot()
    titles = [r.title for r in rows]
    y = list(range(len(rows)))[::-1]
    fig, axes = plt.subplots(1, 3, figsize=(19, 0.42 * len(rows) + 1.8), sharey=True)
    panels = ((axes[0], [r.ratio for r in rows], [r.peer for r in rows], 1.2,
               "req/s: fasthttp best face / best peer"),
              (axes[1], [r.async_ratio for r in rows], ["aiohttp"] * len(rows), 1.5,
               "req/s: fasthttp async / aiohttp"),
              (axes[2], [r.cpu_ratio for r in rows], [r.cpu_peer for r in rows], 1.0,
               "client CPU per request: cheapest peer / fasthttp"))
    ticks = [0.25, 0.5, 1, 2, 4]
    for ax, ratios, peers, want, name in panels:
        vals = [x or 0.0 for x in ratios]
        colors = ["#2a7a3b" if x >= want else "#c0392b" for x in vals]
        ax.barh(y, vals, color=colors)
        ax.axvline(want, color="#333", linestyle="--", linewidth=1)
        ax.axvline(1.0, color="#999", linewidth=0.8)
        for yi, v, peer in zip(y, vals, peers):
            if v:
                ax.annotate(f"{v:.2f}x vs {peer}", (v, yi), xytext=(3, 0),
                            textcoords="offset points", va="center", fontsize=7)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}x" for t in ticks])
        ax.set_xlim(0.2, 6)
        ax.set_xlabel(f"log scale; dashed: {want:g}x")
        ax.set_title(name, fontsize=10)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(titles, fontsize=8)
    fig.suptitle(subtitle, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=100)
    plt.close(fig)
