"""Earlier packs: verified before use, tampered ones reported; trend frames over the history."""

from __future__ import annotations

import json

import pytest
from gcevidence.history import (
    find_previous_packs,
    grant_activity_per_week,
    history_points,
    people_changes,
    previous_snapshot,
    privileged_holders,
)
from gcevidence.pack import PackBuilder
from test_history_support import grant, make_snapshot, role_event, user


def seal_pack(out, period_end, generated_at, *, org="org-1", users=(), grants=(), events=()):
    with PackBuilder(out, period_end) as pb:
        snap = make_snapshot(
            pb.dir, users=users, grants=grants, events=events, collected_at=generated_at
        )
        snap.meta["org"]["id"] = org
        (pb.dir / "findings.json").write_text(
            json.dumps(
                {
                    "schema": "gcevidence.findings/1",
                    "run": {
                        "id": pb.run_id,
                        "generated_at": generated_at,
                        "org": {"id": org, "name": "Acme"},
                    },
                    "findings": [],
                }
            )
        )
        return pb.seal({"org": {"id": org}})


@pytest.fixture()
def out(tmp_path):
    """Three monthly packs of org-1 and one of another org."""
    out = tmp_path / "output"
    staff = [user("u1", "Ann"), user("u2", "Bob")]
    seal_pack(
        out, "2026-09-30", "2026-09-30T06:00:00Z", users=staff, grants=[grant("u1", "Master Admin")]
    )
    seal_pack(
        out,
        "2026-10-31",
        "2026-10-31T06:00:00Z",
        users=staff + [user("u3", "Cy")],
        grants=[grant("u1", "Master Admin"), grant("u2", "Master Admin")],
    )
    seal_pack(
        out,
        "2026-11-30",
        "2026-11-30T06:00:00Z",
        users=[staff[1], user("u3", "Cy")],
        grants=[grant("u2", "Master Admin"), grant("u3", "Quality Evaluator")],
    )
    seal_pack(out, "2026-11-30", "2026-11-30T07:00:00Z", org="org-2")
    (out / "reviews").mkdir()  # other things in the output folder are ignored
    return out


def test_packs_of_the_org_oldest_first_all_verified(out):
    refs = find_previous_packs(out, "org-1")
    assert [r.generated_at for r in refs] == [
        "2026-09-30T06:00:00Z",
        "2026-10-31T06:00:00Z",
        "2026-11-30T06:00:00Z",
    ]
    assert all(r.verified and r.problem == "" for r in refs)
    assert [r.period_end for r in refs] == ["2026-09-30", "2026-10-31", "2026-11-30"]
    # `before` leaves out that run and anything newer
    assert [r.run_id for r in find_previous_packs(out, "org-1", before=refs[1].run_id)] == [
        refs[0].run_id
    ]
    assert find_previous_packs(out, "org-3") == []
    assert find_previous_packs(out / "nothing-here", "org-1") == []


def test_previous_snapshot_is_the_newest_verified_pack(out):
    snap, info = previous_snapshot(out, "org-1")
    assert info["collected_at"] == "2026-11-30T06:00:00Z" and info["rejected"] == []
    assert sorted(snap.table("role_grants")["role_name"]) == ["Master Admin", "Quality Evaluator"]


def test_tampered_pack_is_reported_and_never_the_baseline(out):
    newest = find_previous_packs(out, "org-1")[-1]
    grants = newest.path / "evidence" / "role_grants.csv"
    grants.write_text(grants.read_text().replace("Quality Evaluator", "Employee"))
    refs = find_previous_packs(out, "org-1")
    assert not refs[-1].verified
    assert refs[-1].problem == "failed verification (changed: evidence/role_grants.csv)"
    snap, info = previous_snapshot(out, "org-1")
    assert info["collected_at"] == "2026-10-31T06:00:00Z"  # the older, intact pack
    assert info["rejected"][0]["run_id"] == newest.run_id

    for ref in refs[:-1]:  # tamper with the others too: no baseline left
        (ref.path / "evidence" / "extra.csv").write_text("x\n")
    snap, info = previous_snapshot(out, "org-1")
    assert snap is None
    assert info["problem"].startswith(
        f"no verified earlier pack for this org: pack {newest.run_id} failed verification"
    )
    assert "added: evidence/extra.csv" in find_previous_packs(out, "org-1")[0].problem


def test_first_run_has_no_baseline(tmp_path):
    snap, info = previous_snapshot(tmp_path, "org-1")
    assert snap is None
    assert info["problem"] == "first run for this org: no earlier sealed pack to compare"


def test_trend_frames_cover_every_pack_and_the_current_run(out, tmp_path):
    current = make_snapshot(
        tmp_path / "current",
        users=[user("u3", "Cy"), user("u4", "Di")],
        grants=[grant("u3", "Quality Evaluator"), grant("u4", "Master Admin")],
        collected_at="2026-12-31T06:00:00Z",
        period=("2026-12-01T00:00:00Z", "2026-12-31T23:59:59Z"),
        events=[
            role_event("MemberAdd", "u4", "Master Admin", "2026-12-02T10:00:00Z"),
            role_event("MemberAdd", "u4", "Employee", "2026-12-03T10:00:00Z"),
            role_event("MemberRemove", "u2", "Master Admin", "2026-12-15T10:00:00Z"),
        ],
    )
    points = history_points(out, "org-1", current, current_run_id="run-dec")
    assert [p.run_id for p in points][-1] == "run-dec" and len(points) == 4

    holders = privileged_holders(points, ["Master Admin", "Quality Evaluator"])
    assert len(holders) == 8  # one row per pack x role
    master = holders[holders["role"] == "Master Admin"]["holders"].tolist()
    assert master == [1, 2, 1, 1]

    weekly = grant_activity_per_week(current)
    assert weekly["week_start"].astype(str).tolist()[:2] == ["2026-11-30", "2026-12-07"]
    assert weekly["grants"].sum() == 2 and weekly["removals"].sum() == 1
    assert weekly.iloc[0].tolist()[1:] == [2, 0] and len(weekly) == 5

    changes = people_changes(points)
    got = {(r.to_run, r.change, r.user_id) for r in changes.itertuples()}
    oct_run, nov_run = points[1].run_id, points[2].run_id
    assert got == {
        (oct_run, "appeared", "u3"),
        (nov_run, "disappeared", "u1"),
        ("run-dec", "disappeared", "u2"),
        ("run-dec", "appeared", "u4"),
    }


def test_history_section_draws_both_charts_and_escapes_names(out, tmp_path):
    from gcevidence.report.history_charts import history_html

    hostile = "<script>alert(1)</script>"
    current = make_snapshot(
        tmp_path / "current",
        users=[user("u9", hostile)],
        collected_at="2026-12-31T06:00:00Z",
        grants=[grant("u9", "Master Admin", names={"u9": hostile})],
        events=[role_event("MemberAdd", "u9", "Master Admin", "2026-12-02T10:00:00Z")],
    )
    points = history_points(out, "org-1", current, current_run_id="run-dec")
    page = history_html(points, current, ["Master Admin", "$x$ <b>Role</b>"])
    assert page.count("data:image/png;base64,") == 2
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Role&lt;/b&gt;" in page and "<b>Role" not in page
    assert "People who appeared or disappeared" in page

    alone = history_html(history_points(tmp_path / "empty", "org-1", current), current)
    assert "Only this run exists" in alone


def test_show_history_finds_sealed_packs_beside_the_pack_being_built(out, tmp_path):
    from types import SimpleNamespace

    from gcevidence.report.history_charts import show_history

    building = out / ".building-080000Z-beef"
    current = make_snapshot(
        building,
        users=[user("u3", "Cy")],
        collected_at="2026-12-31T06:00:00Z",
        grants=[grant("u3", "Master Admin")],
    )
    ctx = SimpleNamespace(
        run_dir=building,
        snapshot=current,
        run={"id": "080000Z-beef"},
        params=SimpleNamespace(
            output_dir=tmp_path / "elsewhere", privileged_roles={"Master Admin": None}
        ),
    )
    page = show_history(ctx).data
    assert "Privileged role holders per pack" in page
    assert page.count("<tr><td>") >= 4  # three sealed packs and this run
    assert "080000Z-beef" in page
