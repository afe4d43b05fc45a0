"""Charts for the working papers: matplotlib (Agg), labelled, readable in black and white print.

Each chart function takes the run context, draws one figure and displays it as an embedded PNG
with a text caption; when the data is missing it says so in words instead of drawing nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import HTML  # noqa: E402

from gcevidence.audit_events import succeeded, took_out_of_service  # noqa: E402
from gcevidence.audit_trail import audit_trail  # noqa: E402
from gcevidence.populations import ROLE_CHANGES  # noqa: E402
from gcevidence.report.context import RunContext  # noqa: E402
from gcevidence.report.html import esc, table  # noqa: E402
from gcevidence.report.populations import role_change_events, run_populations  # noqa: E402
from gcevidence.report.sections import _display  # noqa: E402
from gcevidence.role_holders import HOLDER_LABELS, role_holders  # noqa: E402
from gcevidence.snapshot import records  # noqa: E402

HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
GRANT_ACTIONS = ("MemberAdd", "MemberRemove")


def label(text: object, width: int = 40) -> str:
    """A name made safe for matplotlib: `$` would start mathtext, long names are cut."""
    s = str(text).replace("$", r"\$")
    return s if len(s) <= width else s[: width - 1] + "…"


def figure_html(fig: plt.Figure, caption: str) -> str:
    """The figure as an embedded PNG (no file, no network) with an escaped caption."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure class="gce-chart"><img alt="{esc(caption)}" '
        f'src="data:image/png;base64,{data}"/><figcaption>{esc(caption)}</figcaption>'
        "</figure>"
    )


def no_data(what: str, why: str) -> HTML:
    return _display(f'<p class="gce-note"><strong>No chart: {esc(what)}.</strong> {esc(why)}</p>')


def _table(ctx: RunContext, name: str) -> pd.DataFrame | None:
    if name == "audit_events":  # the kinds of event the charts read, never all of them
        return audit_trail(ctx.snapshot).events if ctx.snapshot.has(name) else None
    return ctx.snapshot.table(name) if ctx.snapshot.has(name) else None


def _period(ctx: RunContext) -> tuple[dt.date, dt.date]:
    return ctx.params.period.start, ctx.params.period.end


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.where(series != ""), utc=True, errors="coerce")


def _chart(draw: Callable[[], tuple[plt.Figure, str]]) -> HTML:
    fig, caption = draw()
    return _display(figure_html(fig, caption))


# --- access control -------------------------------------------------------------------------


def _privileged_holder_rows(ctx: RunContext) -> pd.DataFrame | None:
    """Holders of the privileged roles: active people (directly or through a group), with
    their own division, and OAuth clients and trustees under their kind."""
    grants, users = _table(ctx, "role_grants"), _table(ctx, "users")
    roles = set(ctx.params.privileged_roles)
    if grants is None or users is None or not roles:
        return None
    holders = role_holders(ctx.snapshot)
    holders = holders[holders["role_name"].isin(roles)]
    active = users[users["state"] == "active"][["id", "division_name"]].rename(
        columns={"division_name": "home_division"}
    )
    people = holders[holders["holder_type"] == "user"].merge(
        active, left_on="holder_id", right_on="id"
    )
    people = people.assign(
        home_division=people["home_division"].where(people["home_division"] != "", "(no division)")
    )
    others = holders[holders["holder_type"] != "user"]
    others = others.assign(
        home_division=others["holder_type"].map(lambda k: f"({HOLDER_LABELS.get(k, k)})")
    )
    return pd.concat([people.drop(columns=["id"]), others], ignore_index=True)


def privileged_holders(ctx: RunContext) -> pd.DataFrame:
    """Distinct holders per privileged role and holder's division (clients, trustees apart)."""
    rows = _privileged_holder_rows(ctx)
    if rows is None or rows.empty:
        return pd.DataFrame(columns=["role_name", "division_name", "holders"])
    return (
        rows.assign(key=rows["holder_type"] + ":" + rows["holder_id"])
        .groupby(["role_name", "home_division"])["key"]
        .nunique()
        .rename("holders")
        .reset_index()
        .rename(columns={"home_division": "division_name"})
    )


def chart_privileged_holders(ctx: RunContext) -> HTML:
    """Holders of each privileged role, stacked by division, against the role's max_holders."""
    data = privileged_holders(ctx)
    if data.empty:
        return no_data(
            "privileged role holders", "no privileged roles configured or role grants not available"
        )

    def draw():
        pivot = data.pivot_table(
            index="role_name",
            columns="division_name",
            values="holders",
            aggfunc="sum",
            fill_value=0,
        )
        pivot = pivot.loc[sorted(pivot.index, key=str)]
        fig, ax = plt.subplots(figsize=(9, 0.6 * len(pivot) + 1.8))
        left = pd.Series(0, index=pivot.index)
        for i, division in enumerate(pivot.columns):
            ax.barh(
                [label(r) for r in pivot.index],
                pivot[division],
                left=left,
                label=label(division, 30),
                hatch=HATCHES[i % len(HATCHES)],
                edgecolor="black",
                color=plt.cm.Greys(0.25 + 0.5 * (i % 4) / 3),
            )
            left = left + pivot[division]
        for i, role in enumerate(pivot.index):
            pol = ctx.params.privileged_roles.get(role)
            if pol and pol.max_holders:
                ax.plot([pol.max_holders] * 2, [i - 0.4, i + 0.4], color="red", lw=2.5)
            ax.text(left[role] + 0.1, i, str(int(left[role])), va="center")
        ax.set_xlabel(
            "distinct holders: people directly or via a group, OAuth clients, trustees "
            "(red bar: max_holders)"
        )
        ax.set_title("Privileged role holders by role and the holder's division")
        ax.legend(title="division", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
        ax.invert_yaxis()
        totals = ", ".join(f"{r}: {int(n)}" for r, n in left.items())
        return fig, (
            f"Distinct holders per privileged role ({totals}), by the holder's division: active "
            "people holding it directly or through a group, and OAuth clients and trustees "
            "under their kind."
        )

    fig, caption = draw()
    scope = grant_scope(ctx)
    table_markup = table(
        ("privileged role", "division the grant applies to", "holders"),
        scope.itertuples(index=False),
        caption="Where each privileged role applies (a holder may have several)",
    )
    return _display(figure_html(fig, caption) + table_markup)


def grant_scope(ctx: RunContext) -> pd.DataFrame:
    """Distinct holders per privileged role and division of the grant (groups expanded)."""
    rows = _privileged_holder_rows(ctx)
    if rows is None or rows.empty:
        return pd.DataFrame(columns=["role_name", "division_name", "holders"])
    division = rows["division_name"].where(rows["division_name"] != "", rows["division_id"])
    return (
        rows.assign(division_name=division, key=rows["holder_type"] + ":" + rows["holder_id"])
        .groupby(["role_name", "division_name"])["key"]
        .nunique()
        .rename("holders")
        .reset_index()
    )


def grant_events(ctx: RunContext) -> pd.DataFrame:
    """The period's role grants and removals (day, MemberAdd or MemberRemove): the rows of the
    role_changes population, so the chart counts what an auditor samples and a kernel reads no
    audit event."""
    events = role_change_events(run_populations(ctx)[ROLE_CHANGES])
    return pd.DataFrame(
        {"day": _dates(events["event_date"]).dt.floor("D"), "action": events["action"]}
    ).dropna()


def chart_role_grants(ctx: RunContext) -> HTML:
    """Role grants (MemberAdd) and removals (MemberRemove) per week over the period."""
    data = grant_events(ctx)
    if data.empty:
        return no_data(
            "role grants over time",
            "no MemberAdd/MemberRemove audit events in the period, or no audit trail",
        )

    def draw():
        weeks = data.assign(week=data["day"].dt.tz_localize(None).dt.to_period("W").dt.start_time)
        counts = weeks.groupby(["week", "action"]).size().unstack(fill_value=0)
        for a in GRANT_ACTIONS:
            if a not in counts:
                counts[a] = 0
        fig, ax = plt.subplots(figsize=(9, 3.6))
        ax.bar(
            counts.index,
            counts["MemberAdd"],
            width=5,
            color="0.35",
            edgecolor="black",
            label="granted (MemberAdd)",
        )
        ax.bar(
            counts.index,
            -counts["MemberRemove"],
            width=5,
            color="white",
            hatch="//",
            edgecolor="black",
            label="removed (MemberRemove)",
        )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel("role changes per week")
        ax.set_title("Role grants and removals over time (PeoplePermissions audit events)")
        ax.legend(fontsize=8)
        fig.autofmt_xdate()
        return fig, (
            f"{int(counts['MemberAdd'].sum())} grants and "
            f"{int(counts['MemberRemove'].sum())} removals in the period, per week."
        )

    return _chart(draw)


def deprovision_delays(ctx: RunContext) -> pd.DataFrame:
    """Hours from HR termination to the user's deactivation/deletion audit event, per person."""
    finding = ctx.finding("access.deprovision_latency")
    delays = (finding.extra or {}).get("delays") if finding else None
    if isinstance(delays, list) and delays and isinstance(delays[0], dict):
        frame = pd.DataFrame(delays)
        if "hours" in frame:
            return frame
    roster, users, events = (_table(ctx, n) for n in ("hr_roster", "users", "audit_events"))
    if roster is None or users is None or events is None:
        return pd.DataFrame(columns=["email", "hours"])
    gone = roster[(roster["status"] == "terminated") & (roster["termination_date"] != "")]
    by_email = users.assign(email=users["email"].str.lower()).set_index("email")["id"]
    # Deleted, or deactivated: an Update whose property changes take `state` to inactive.
    out_of_service = [took_out_of_service(e) and succeeded(e) for e in records(events)]
    removal = events[pd.Series(out_of_service, index=events.index, dtype=bool)]
    first = (
        removal.assign(at=_dates(removal["event_date"]))
        .dropna(subset=["at"])
        .groupby("entity_id")["at"]
        .min()
    )
    rows = []
    for _, person in gone.iterrows():
        user_id = by_email.get(person["email"].lower())
        if user_id is None or user_id not in first.index:
            continue
        ended = pd.Timestamp(person["termination_date"], tz="UTC")
        rows.append(
            {
                "email": person["email"],
                "hours": max(0.0, (first[user_id] - ended).total_seconds() / 3600),
            }
        )
    return pd.DataFrame(rows, columns=["email", "hours"])


def chart_deprovision_delay(ctx: RunContext) -> HTML:
    """Distribution of de-provisioning delays against the allowed delay."""
    data = deprovision_delays(ctx)
    if data.empty:
        return no_data(
            "de-provisioning delay",
            "no terminated person with a deactivation or deletion event in the audit "
            "trail (needs the HR roster and the audit events)",
        )
    limit = ctx.threshold("deprovision_hours")

    def draw():
        fig, ax = plt.subplots(figsize=(9, 3.6))
        ax.hist(data["hours"], bins=min(30, max(5, len(data))), color="0.6", edgecolor="black")
        late = 0
        if limit is not None:
            ax.axvline(float(limit), color="red", ls="--", lw=2, label=f"allowed delay: {limit} h")
            late = int((data["hours"] > float(limit)).sum())
            ax.legend(fontsize=8)
        ax.set_xlabel("hours from HR termination date to deactivation/deletion")
        ax.set_ylabel("people")
        ax.set_title("De-provisioning delay")
        return fig, (
            f"{len(data)} terminated people de-provisioned in the audit trail; "
            f"{late} later than the allowed delay."
        )

    return _chart(draw)


# --- logging and monitoring -----------------------------------------------------------------


def events_per_day(ctx: RunContext) -> pd.DataFrame:
    """Audit events per day (rows: every day of the period) and service (columns)."""
    start, end = _period(ctx)
    days = pd.date_range(start, end, freq="D")
    if not ctx.snapshot.has("audit_events"):
        return pd.DataFrame(index=days)
    finding = ctx.finding("logging.activity_gaps")
    by_service = (finding.extra or {}).get("events_per_day_by_service") if finding else None
    if isinstance(by_service, dict):  # what the check counted: the kernel reads no event
        rows = [(d, s, n) for s, per_day in by_service.items() for d, n in per_day.items()]
        counts = pd.DataFrame(rows, columns=["day", "service_name", "events"])
    else:  # counted per UTC day and service when the trail is read
        counts = audit_trail(ctx.snapshot).counts
    counts = counts[counts["day"] != ""]
    if counts.empty:
        return pd.DataFrame(index=days)
    frame = counts.assign(day=pd.to_datetime(counts["day"])).pivot_table(
        index="day", columns="service_name", values="events", aggfunc="sum", fill_value=0
    )
    frame.columns.name, frame.index.name = "service", None
    return frame.reindex(days, fill_value=0)


def chart_audit_events_per_day(ctx: RunContext) -> HTML:
    """Audit events per day by service; days without any event are marked."""
    if not ctx.snapshot.has("audit_events"):
        return no_data("audit events per day", "the audit events were not collected")
    data = events_per_day(ctx)

    def draw():
        totals = data.sum(axis=1) if not data.empty else pd.Series(0, index=data.index)
        gaps = totals.index[totals == 0]
        fig, ax = plt.subplots(figsize=(10, 4))
        bottom = pd.Series(0, index=data.index)
        top_services = list(data.sum().sort_values(ascending=False).index)
        for i, service in enumerate(top_services):
            ax.bar(
                data.index,
                data[service],
                bottom=bottom,
                width=0.9,
                color=plt.cm.Greys(0.2 + 0.6 * (i % 5) / 4),
                edgecolor="black",
                lw=0.2,
                hatch=HATCHES[i % len(HATCHES)],
                label=label(service, 25),
            )
            bottom = bottom + data[service]
        for n, day in enumerate(gaps):
            ax.axvspan(
                day - pd.Timedelta(hours=12),
                day + pd.Timedelta(hours=12),
                color="red",
                alpha=0.35,
                label="day without events" if n == 0 else None,
            )
        for day in gaps[:15]:
            ax.annotate(
                f"no events {day:%m-%d}",
                (day, max(1, float(totals.max())) * 1.1),
                rotation=90,
                ha="center",
                va="top",
                fontsize=7,
                color="darkred",
            )
        ax.set_ylabel("audit events")
        ax.set_title("Audit events per day by service")
        ax.set_ylim(0, max(1, float(totals.max())) * 1.15)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        fig.autofmt_xdate()
        gap_text = ", ".join(f"{d:%Y-%m-%d}" for d in gaps) if len(gaps) else "none"
        return fig, (
            f"{int(totals.sum())} audit events over {len(data)} days; "
            f"days without any event: {gap_text}."
        )

    return _chart(draw)


# --- cryptography ---------------------------------------------------------------------------


def key_ages(ctx: RunContext) -> pd.DataFrame:
    """Age in days of each recording key: the check's own figures when it recorded them."""
    finding = ctx.finding("crypto.key_rotation")
    recorded = (finding.extra or {}).get("key_ages") if finding else None
    if isinstance(recorded, list) and recorded and {"age_days", "created"} <= set(recorded[0]):
        frame = pd.DataFrame(recorded)
        names = frame.get("name", pd.Series("", index=frame.index)).fillna("")
        frame["name"] = names.where(names != "", frame.get("id", names))
        frame["created"] = pd.to_datetime(frame["created"], utc=True, errors="coerce")
        return frame[["name", "created", "age_days"]].dropna().sort_values("created")
    keys = _table(ctx, "recording_keys")
    if keys is None or keys.empty:
        return pd.DataFrame(columns=["name", "age_days"])
    as_of = pd.Timestamp(ctx.params.period.end, tz="UTC") + pd.Timedelta(days=1)
    created = _dates(keys["create_date"])
    frame = pd.DataFrame(
        {
            "name": keys["name"].where(keys["name"] != "", keys["id"]),
            "created": created,
            "age_days": (as_of - created).dt.days,
        }
    )
    return frame.dropna().sort_values("created")


def chart_key_age(ctx: RunContext) -> HTML:
    """Age of each recording key at the end of the period against the cryptoperiod."""
    data = key_ages(ctx)
    if data.empty:
        return no_data("recording key age", "no recording keys were collected")
    limit = ctx.threshold("key_cryptoperiod_days")
    shown = data.tail(20)

    def draw():
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.8))
        over = shown["age_days"] > float(limit) if limit is not None else shown["age_days"] < 0
        names = [
            label(f"created {c:%Y-%m-%d}: {str(n)[:18]}", 45)
            for n, c in zip(shown["name"], shown["created"], strict=True)
        ]
        ax.barh(
            names,
            shown["age_days"],
            color=["0.3" if o else "0.75" for o in over],
            edgecolor="black",
        )
        if limit is not None:
            ax.axvline(
                float(limit), color="red", ls="--", lw=2, label=f"cryptoperiod: {limit} days"
            )
            ax.legend(fontsize=8, loc="lower right")
        ax.set_xlabel("key age in days at the end of the period (dark: older than cryptoperiod)")
        ax.set_title("Recording key age against the cryptoperiod")
        newest = int(data["age_days"].min())
        return fig, (
            f"{len(data)} recording keys (newest {len(shown)} shown); the newest key is "
            f"{newest} days old" + (f"; cryptoperiod {limit} days." if limit else ".")
        )

    return _chart(draw)
