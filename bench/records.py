"""Machine-readable medians next to the Markdown results, and the chart drawn from them.

``results/latest.json`` (beside ``latest.md``) maps each scenario to its groups; a group is
one measured quantity (``h1``, ``scale c=256``, ``download``, ...) with its unit, whether
higher is better, each client's median and, for the one-table scenarios, each client's
library version and the clients whose every run failed. A run replaces the groups of the
scenarios it ran and keeps the others, as for the Markdown sections.

``draw_chart`` turns every group into a cluster of bars, one per client, each the client's
speed relative to this project (1.0 = as fast; for times, aiosonic's time / the client's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def group(
    label: str,
    unit: str,
    medians: dict[str, float],
    higher_better: bool = True,
    versions: dict[str, str] | None = None,
    failed: list[str] | None = None,
) -> dict[str, Any]:
    """One measured quantity; ``versions`` (client: library version) when the runs said, and
    ``failed``: the clients that took part but have no median (every run failed)."""
    found: dict[str, Any] = {
        "group": label,
        "unit": unit,
        "higher_better": higher_better,
        "values": medians,
    }
    if versions:
        found["versions"] = versions
    if failed:
        found["failed"] = failed
    return found


def _path(markdown: Path) -> Path:
    return markdown.with_suffix(".json")


def load(markdown: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = json.loads(_path(markdown).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store(markdown: Path, key: str, groups: list[dict[str, Any]]) -> None:
    data = load(markdown)
    data[key] = groups
    _path(markdown).parent.mkdir(parents=True, exist_ok=True)
    _path(markdown).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def chart_path(markdown: Path) -> Path:
    """``chart.png`` beside ``latest.md``; ``<name>.png`` beside any other results file, so
    that a run written elsewhere (``--output compiled.md``) never redraws the main chart."""
    return markdown.with_name(
        "chart.png" if markdown.name == "latest.md" else f"{markdown.stem}.png"
    )


def draw_chart(markdown: Path, order: list[str], clients: list[str], project: str) -> Path:
    """The chart beside ``markdown`` (``chart_path``): every group's clients relative to
    ``project``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = load(markdown)
    groups = [g for key in order for g in data.get(key, []) if g.get("values", {}).get(project)]
    if not groups:
        raise RuntimeError("no results with an aiosonic median to chart yet")
    shown = [c for c in clients if any(c in g["values"] for g in groups)]
    width = 0.8 / max(len(shown), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(groups) + 2), 5.2))
    for index, client in enumerate(shown):
        xs, heights = [], []
        for position, item in enumerate(groups):
            value = item["values"].get(client)
            base = item["values"][project]
            if not value or not base:
                continue
            relative = value / base if item.get("higher_better", True) else base / value
            xs.append(position + (index - (len(shown) - 1) / 2) * width)
            heights.append(relative)
        ax.bar(xs, heights, width, label=client)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g["group"] for g in groups], rotation=35, ha="right")
    ax.set_ylabel(f"speed relative to {project} (log; 1 = {project}, higher = faster)")
    ax.set_title(f"{project} peer benchmark ({markdown.name}): medians, normalised to {project}")
    ax.legend(ncol=min(len(shown), 5), fontsize="small", loc="upper center")
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    out = chart_path(markdown)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
