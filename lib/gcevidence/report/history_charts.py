"""The history view of the access-control working paper: trends over the org's sealed packs.

Privileged role holders per role across packs (a line per role), role grants and removals per
week over the period (bars), and the people who appeared or disappeared between packs. Charts
are embedded PNGs readable in black and white; tables escape every value.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Collection
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from gcevidence import history  # noqa: E402
from gcevidence.report.html import table  # noqa: E402

LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "x", "P", "*")


def _label(text: object, width: int = 40) -> str:
    """A name made safe for matplotlib: `$` would start mathtext, long names are cut."""
    s = str(text).replace("\\", "\\\\").replace("$", r"\$")
    return s if len(s) <= width else s[: width - 1] + "…"


def chart_privileged_trend(holders: pd.DataFrame) -> plt.Figure:
    """A line per privileged role: distinct holders in each pack, oldest first."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    runs = list(dict.fromkeys(holders["run_id"]))
    labels = [
        f"{g[:10]}\n{r}"
        for r, g in dict.fromkeys(zip(holders["run_id"], holders["generated_at"], strict=True))
    ]
    for i, (role, rows) in enumerate(holders.groupby("role", sort=True)):
        counts = rows.set_index("run_id")["holders"].reindex(runs, fill_value=0)
        ax.plot(
            range(len(runs)),
            counts.tolist(),
            label=_label(role),
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            marker=MARKERS[i % len(MARKERS)],
            color="black" if i % 2 == 0 else "dimgray",
        )
    ax.set_xticks(range(len(runs)), labels, fontsize=8)
    ax.set_ylabel("holders")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    ax.set_title("Privileged role holders per pack")
    if len(holders):
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(axis="y", linestyle=":", linewidth=0.6)
    return fig


def chart_grant_activity(weekly: pd.DataFrame) -> plt.Figure:
    """Role grants and removals per week (Monday start), side by side."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = range(len(weekly))
    ax.bar(
        [i - 0.2 for i in x],
        weekly["grants"],
        width=0.4,
        label="grants (MemberAdd)",
        color="white",
        edgecolor="black",
        hatch="//",
    )
    ax.bar(
        [i + 0.2 for i in x],
        weekly["removals"],
        width=0.4,
        label="removals (MemberRemove)",
        color="gray",
        edgecolor="black",
    )
    ax.set_xticks(
        list(x), [str(w) for w in weekly["week_start"]], rotation=60, fontsize=7, ha="right"
    )
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("events")
    ax.set_title("Role grants and removals per week")
    ax.legend(fontsize=8)
    ax.grid(axis="y", linestyle=":", linewidth=0.6)
    return fig


def figure_html(fig: plt.Figure, caption: str) -> str:
    """The figure as an embedded PNG (no file, no network) with an escaped caption."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = html.escape(caption, quote=True)
    return (
        f'<figure class="gce-chart"><img alt="{cap}" src="data:image/png;base64,{data}"/>'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def table_html(frame: pd.DataFrame, caption: str = "") -> str:
    """A frame as an HTML table, every header and cell escaped (report.html.table)."""
    return table([str(c) for c in frame.columns], frame.itertuples(index=False), caption=caption)


def _note(text: str) -> str:
    return f'<p class="gce-note">{html.escape(text)}</p>'


def history_html(
    points: list[history.HistoryPoint],
    current: Any,
    privileged_roles: Collection[str] = (),
    weekly: pd.DataFrame | None = None,
) -> str:
    """The whole history section (charts and tables) for points oldest first; `weekly` is the
    current period's grants per week when the caller has them (else read from `current`)."""
    parts = ["<h3>History across sealed packs</h3>"]
    if len(points) < 2:
        parts.append(
            _note(
                "Only this run exists for this organisation so far: trends start "
                "with the next pack."
            )
        )
    holders = history.privileged_holders(points, privileged_roles)
    if len(holders):
        parts.append(
            figure_html(
                chart_privileged_trend(holders),
                f"Distinct direct holders of each privileged role in {len(points)} pack(s)",
            )
        )
        wide = holders.pivot_table(
            index=["run_id", "generated_at"],
            columns="role",
            values="holders",
            aggfunc="sum",
            sort=False,
        ).reset_index()
        parts.append(table_html(wide, "Privileged role holders per pack"))
    if weekly is None and current is not None:
        weekly = history.grant_activity_per_week(current)
    if weekly is not None and len(weekly):
        parts.append(
            figure_html(
                chart_grant_activity(weekly),
                "PeoplePermissions/Role membership events per week of the period",
            )
        )
        parts.append(table_html(weekly, "Grants and removals per week"))
    changes = history.people_changes(points)
    if len(changes):
        parts.append(table_html(changes, "People who appeared or disappeared between packs"))
    elif len(points) >= 2:
        parts.append(_note("No active user appeared or disappeared between packs."))
    return "\n".join(parts)


def show_history(ctx: Any, out_root: Path | None = None):
    """Notebook one-liner: the history section for a report RunContext."""
    from IPython.display import HTML

    from gcevidence.populations import ROLE_CHANGES
    from gcevidence.report.populations import (
        has_written_populations,
        role_change_events,
        run_populations,
    )

    org_id = str((ctx.snapshot.meta.get("org") or {}).get("id", ""))
    run_id = str((ctx.run or {}).get("id") or "current")
    if out_root is None:
        run_dir = Path(ctx.run_dir)
        # inside the pipeline the run folder is the pack being built, next to the sealed ones
        out_root = (
            run_dir.parent if run_dir.name.startswith(".building-") else (ctx.params.output_dir)
        )
    points = history.history_points(Path(out_root), org_id, ctx.snapshot, current_run_id=run_id)
    # In a pack, the period's grants per week come from its role_changes population: the
    # kernel reads no audit event.
    weekly = None
    if has_written_populations(ctx):  # read once a kernel, shared with the population sections
        events = role_change_events(run_populations(ctx)[ROLE_CHANGES])
        weekly = history.weekly_grants(events, ctx.snapshot.meta.get("period") or {})
    return HTML(history_html(points, ctx.snapshot, list(ctx.params.privileged_roles), weekly))
