"""Report helpers and notebooks against a hand-built run folder with hostile names."""

import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import pytest
from gcevidence.findings import ExceptionItem, Finding
from gcevidence.report import charts, context, sections
from gcevidence.report.html import esc
from gcevidence.snapshot import SnapshotWriter

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HOSTILE = "<script>window.__pwned=1;alert(1)</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=2">'
CONTROLS = {
    "iso27001-2013": ["A.9.2.6"],
    "iso27001-2022": ["5.18"],
    "soc2": ["CC6.2"],
    "pci-dss-4.0.1": ["8.2.5"],
}
END = dt.date(2026, 11, 30)


def _finding(check, status, notebook, exceptions=()):
    return Finding(
        check=check,
        title=f"Title of {check}",
        status=status,
        severity="high",
        controls=CONTROLS,
        population=12,
        exceptions=tuple(exceptions),
        evidence=("evidence/users.csv",),
        notebook=notebook,
        reason=f"reason for {check}",
    )


def fake_findings():
    bad = ExceptionItem("user", "u-1", HOSTILE, f"terminated 2026-10-02, {HOSTILE_IMG}")
    other = ExceptionItem("user", "u-2", "Zoë \u202eevil\u202c 🙂", "still active")
    return [
        _finding("access.terminated_active", "fail", "A09_access_control", [bad, other]),
        _finding("access.orphan_accounts", "pass", "A09_access_control"),
        _finding("auth.mfa_required", "not_evaluable", "A09_access_control"),
        _finding(
            "crypto.key_rotation",
            "fail",
            "A10_cryptography",
            [ExceptionItem("key", "k-1", "key one", "older than cryptoperiod")],
        ),
        _finding(
            "logging.activity_gaps",
            "fail",
            "A12_logging_monitoring",
            [ExceptionItem("day", "2026-10-10", "2026-10-10", "no audit events")],
        ),
        _finding("network.trunk_tls", "pass", "A13_communications"),
    ]


def build_fake_run(root: Path) -> tuple[Path, Path]:
    """A run folder (snapshot, findings.json, thresholds.json) and a params file."""
    run_dir = root / "run"
    w = SnapshotWriter(run_dir)
    users = [
        {
            "id": f"u-{i}",
            "name": HOSTILE if i == 1 else f"User {i}",
            "email": f"user{i}@example.com",
            "state": "active",
            "division_name": HOSTILE_IMG if i == 2 else "Home",
            "date_last_login": "2026-11-01T00:00:00Z",
        }
        for i in range(1, 13)
    ]
    w.write_table("users", users, expected_rows=12, requests=1)
    w.write_table(
        "role_grants",
        [
            {
                "role_id": "r1",
                "role_name": "Master Admin",
                "subject_id": f"u-{i}",
                "subject_name": "x",
                "subject_type": "PC_USER",
                "division_name": division,
            }
            for i in range(1, 6)
            for division in ("Home", "Sales")
        ],
        expected_rows=10,
    )
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    events = []
    for d in range(91):
        if d == 40:
            continue  # a gap day
        for k in range(3):
            events.append(
                {
                    "id": f"e{d}-{k}",
                    "service_name": ["Directory", "PeoplePermissions", HOSTILE + " $5 \\$x^"][k],
                    "event_date": (start + dt.timedelta(days=d, hours=k)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "action": "MemberAdd" if k == 1 else "Update",
                    "entity_type": "Role" if k == 1 else "User",
                    "entity_id": "u-3",
                }
            )
    events.append(
        {
            "id": "del",
            "service_name": "Directory",
            "event_date": "2026-10-05T10:00:00Z",
            "action": "Delete",
            "entity_type": "User",
            "entity_id": "u-4",
        }
    )
    w.write_table("audit_events", events, expected_rows=len(events))
    w.write_table(
        "hr_roster",
        [
            {
                "employee_id": "4",
                "email": "USER4@example.com",
                "status": "terminated",
                "termination_date": "2026-10-01",
            }
        ],
        expected_rows=1,
    )
    w.write_table(
        "recording_keys",
        [
            {"id": f"k-{i}", "name": f"key {i}", "create_date": f"2026-0{i}-01T00:00:00Z"}
            for i in range(1, 6)
        ],
        expected_rows=5,
    )
    w.mark_unavailable("trunks", "403", missing_permission="telephony:plugin:all")
    w.finish(
        org={"id": "org-1", "name": HOSTILE},
        region="us-east-1",
        api_base_url="http://127.0.0.1:1",
        client_id="client-1",
        period={"start": "2026-09-01T00:00:00Z", "end": "2026-11-30T23:59:59Z"},
        collected_at="2026-11-30T06:00:00Z",
        tool_version="0.1.0",
    )
    doc = {
        "schema": "gcevidence.findings/1",
        "run": {
            "id": "060000Z-abc",
            "generated_at": "2026-11-30T06:00:00Z",
            "period": {"start": "2026-09-01T00:00:00Z", "end": "2026-11-30T23:59:59Z"},
            "org": {"id": "org-1", "name": HOSTILE},
            "region": "us-east-1",
            "api_base_url": "http://127.0.0.1:1",
            "client_id": "client-1",
            "baseline": "pci-dss-4.0.1",
            "tool_version": "0.1.0",
        },
        "datasets": [],
        "findings": [f.to_dict() for f in fake_findings()],
    }
    (run_dir / "findings.json").write_text(json.dumps(doc), encoding="utf-8")
    (run_dir / "thresholds.json").write_text(
        json.dumps(
            {
                "deprovision_hours": {"value": 24, "source": "test", "overridden": False},
                "key_cryptoperiod_days": {"value": 365, "source": "test", "overridden": False},
            }
        )
    )
    params = root / "params.yaml"
    params.write_text(
        "org: {api_base_url: 'http://127.0.0.1:1'}\nperiod: {end: 2026-11-30}\n"
        "privileged_roles:\n  Master Admin: {max_holders: 3}\n"
    )
    return run_dir, params


@pytest.fixture
def ctx(tmp_path):
    run_dir, params = build_fake_run(tmp_path)
    return context.open_run(run_dir, params)


def test_finding_lists_every_exception_escaped(ctx):
    html = sections.show_finding(ctx, "access.terminated_active").data
    assert "<script>" not in html and "<img src=x" not in html
    assert esc(HOSTILE) in html and esc(HOSTILE_IMG) in html
    assert "FAIL" in html and "reason for access.terminated_active" in html
    assert "Zoë \u202eevil\u202c 🙂" in html  # unicode survives
    assert "All 2 exceptions" in html


def test_check_section_escapes_everything_and_carries_its_ref(ctx):
    html = sections.show_check(ctx, "access.terminated_active").data
    assert "<script>" not in html and "<img src=x" not in html
    assert esc(HOSTILE) in html and esc(HOSTILE_IMG) in html
    assert 'id="A09-1"' in html and 'id="access.terminated_active"' in html
    assert "Remediation." in html  # it fails in the fake run
    assert "Remediation." not in sections.show_check(ctx, "access.orphan_accounts").data
    summary = sections.show_findings_summary(ctx, "A09_access_control").data
    assert '<a href="#A09-1">A09-1</a>' in summary


def test_missing_check_is_not_evaluable(ctx):
    assert "NOT EVALUABLE" in sections.show_finding(ctx, "access.nope").data


def test_scope_population_and_matrix_escape_everything(ctx):
    for html in (
        sections.show_scope(ctx).data,
        sections.show_population(ctx, "users", "trunks", "hr_roster").data,
        sections.show_status_matrix(ctx).data,
        sections.show_findings_summary(ctx).data,
    ):
        assert "<script>window" not in html and "<img src=x" not in html
    pop = sections.show_population(ctx, "users", "trunks").data
    assert "missing permission telephony:plugin:all" in pop
    matrix = sections.show_status_matrix(ctx).data
    for framework in ("ISO 27001:2013", "ISO 27001:2022", "SOC 2", "PCI DSS 4.0.1"):
        assert framework in matrix
    assert "A.9.2.6" in matrix and "8.2.5" in matrix


@pytest.mark.parametrize(
    "chart",
    [
        "chart_privileged_holders",
        "chart_role_grants",
        "chart_audit_events_per_day",
        "chart_deprovision_delay",
        "chart_key_age",
    ],
)
def test_charts_embed_a_png_with_caption(ctx, chart):
    html = getattr(charts, chart)(ctx).data
    assert re.search(r'<img alt="[^"]*" src="data:image/png;base64,[A-Za-z0-9+/=]{2000,}"', html)
    assert "<script>" not in html


def test_privileged_holders_are_distinct_people(ctx):
    data = charts.privileged_holders(ctx)
    assert int(data["holders"].sum()) == 5  # granted in two divisions each, counted once
    assert set(data["division_name"]) == {"Home", HOSTILE_IMG}


def test_gap_days_named_in_caption(ctx):
    assert "2026-10-11" in charts.chart_audit_events_per_day(ctx).data


def test_deprovision_delay_from_audit(ctx):
    delays = charts.deprovision_delays(ctx)
    assert list(delays["hours"]) == [pytest.approx(4 * 24 + 10)]


def test_charts_without_data_say_so(tmp_path):
    run_dir, params = build_fake_run(tmp_path)
    (run_dir / "findings.json").unlink()
    w = SnapshotWriter(tmp_path / "empty")
    w.finish(org={"id": "o", "name": "n"})
    c = context.RunContext(
        tmp_path / "empty",
        context.load_params(params),
        context.Snapshot(tmp_path / "empty"),
        [],
        {},
        {},
    )
    for chart in (
        charts.chart_privileged_holders,
        charts.chart_role_grants,
        charts.chart_deprovision_delay,
        charts.chart_key_age,
        charts.chart_audit_events_per_day,
    ):
        assert "No chart" in chart(c).data


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert 'run_dir = ""' in tagged[0].source and "params_path" in tagged[0].source
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        assert len(cell.source.strip().splitlines()) <= 2, cell.source
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5


def test_all_notebooks_present():
    names = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert {
        "A09_access_control",
        "A10_cryptography",
        "A12_logging_monitoring",
        "A13_communications",
        "summary",
    } <= names


def test_network_fetch_detector():
    from gcevidence.report.render import network_fetches

    assert network_fetches('<script src="https://cdn.x/require.js"></script>')
    assert network_fetches("<link rel=stylesheet href='//fonts.example/css'>")
    assert network_fetches('<img src="http://x/y.png">')
    assert network_fetches("<style>@import url(https://x/y.css);</style>")
    assert not network_fetches('<a href="https://example.com">a link is not a fetch</a>')
    assert not network_fetches('<img src="data:image/png;base64,AAAA">')


def test_no_chromium_logs_one_line_and_skips(tmp_path, monkeypatch, caplog):
    from gcevidence.report import render

    monkeypatch.setattr(render, "find_chromium", lambda: None)
    pages = [tmp_path / "a.html", tmp_path / "b.html"]
    for p in pages:
        p.write_text("<p>x</p>")
    with caplog.at_level("WARNING"):
        assert render.print_all(pages) == []
    assert [r.getMessage() for r in caplog.records] == ["no Chromium found: PDF skipped"]
    assert not list(tmp_path.glob("*.pdf"))


def test_kernel_env_has_no_secret():
    from gcevidence.execute import kernel_env

    env = kernel_env(
        {
            "GENESYSCLOUD_OAUTHCLIENT_ID": "id",
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s",
            "PATH": "/bin",
        }
    )
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" not in env and env["PATH"] == "/bin"


def test_executed_notebook_renders_offline_with_hidden_code(tmp_path):
    """A notebook executed against the fake run renders without code, parameters or fetches."""
    from gcevidence.execute import execute_notebook, kernel_env
    from gcevidence.report import render

    run_dir, params = build_fake_run(tmp_path)
    (run_dir / "params.yaml").write_bytes(params.read_bytes())
    out = execute_notebook("A10_cryptography", run_dir, kernel_env({"PATH": "/usr/bin:/bin"}))
    text = out.read_text(encoding="utf-8")
    assert str(run_dir) not in text and '"run_dir": "."' in text
    html = render.render_html(out, tmp_path / "a10.html").read_text(encoding="utf-8")
    assert render.network_fetches(html) == []
    assert "report.open_run" not in html and "params_path" not in html
    assert "<script" not in html
    assert "5 recording keys (newest 5 shown)" in html


def test_index_escapes_and_links_everything():
    from gcevidence.report.index import NotebookOutput, index_html

    page = index_html(
        run={
            "id": "r1",
            "org": {"id": "o", "name": HOSTILE},
            "region": "eu-west-1",
            "period": {"start": "2026-09-01T00:00:00Z", "end": "2026-11-30T23:59:59Z"},
            "client_id": HOSTILE_IMG,
            "baseline": "pci-dss-4.0.1",
            "tool_version": "0.1.0",
            "generated_at": "2026-11-30T06:00:00Z",
        },
        params_digest="sha256:p",
        content_digest="sha256:c",
        findings=fake_findings(),
        datasets=[
            {
                "name": "users",
                "path": "evidence/users.csv",
                "rows": 1,
                "expected_rows": 1,
                "complete": True,
                "requests": 1,
            }
        ],
        notebooks=[
            NotebookOutput(
                "A09_access_control", HOSTILE, ("A09_access_control.html", "A09_access_control.pdf")
            )
        ],
        extra_files=["requests.jsonl"],
    )
    assert "<script>" not in page and "<img src=x" not in page
    assert esc(HOSTILE) in page and esc(HOSTILE_IMG) in page
    assert "sha256:c" in page and "sha256:p" in page
    for href in (
        "A09_access_control.html",
        "A09_access_control.pdf",
        "evidence/users.csv",
        "findings.json",
        "findings.csv",
        "requests.jsonl",
        "A09_access_control.html#access.terminated_active",
    ):
        assert f'href="{href}"' in page
    assert render_network_free(page)


def render_network_free(page):
    from gcevidence.report.render import network_fetches

    return network_fetches(page) == []
