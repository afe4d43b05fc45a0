"""Dataset declarations: what they promise about rows and raw evidence, and that a declared
dataset is collected from its declaration alone."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from gcevidence import collect as collect_module
from gcevidence import snapshot as snapshot_module
from gcevidence.datasets import SPECS
from gcevidence.datasets.model import document, table
from gcevidence.datasets.recording import without_api_key, without_local_api_key
from gcevidence.datasets.telephony import without_sip_secrets
from gcevidence.endpoints import ENDPOINTS
from test_collect_sim import run, run_text

# Tables whose raw file is not one API entity per line: the raw of group_members is one line per
# group (its member ids), unused_roles and role_permissions are derived from the users' and the
# roles' raw (DERIVED_FROM), audit_queries and the roster have no API entities.
NOT_FROM_RAW = {
    "group_members",
    "unused_roles",
    "role_permissions",
    "audit_queries",
    "audit_days",
    "hr_roster",
}
DERIVED_FROM = {"unused_roles": "users", "role_permissions": "roles"}


def as_csv(rows: list[dict]) -> list[dict]:
    """What the CSV writer makes of normalised rows (every value a string)."""
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_every_table_row_derives_from_its_stored_raw_entity(simulator, tmp_path):
    """An auditor can re-derive each CSV row from the raw evidence with the declared normaliser;
    and the normaliser fills exactly the declared columns."""
    snap, _, _ = run(simulator, tmp_path)
    checked = []
    for name, spec in SPECS.items():
        if spec.kind != "table" or name in NOT_FROM_RAW:
            continue
        raw = list(snap.raw(name))
        derived = [row for entity in raw for row in spec.normalise(entity)]
        assert all(list(row) == list(spec.columns) for row in derived), name
        written = snap.table(name).to_dict("records")
        assert written and as_csv(derived) == written, name
        checked.append(name)
    for name, source in DERIVED_FROM.items():
        raw = list(snap.raw(source))
        derived = [row for entity in raw for row in SPECS[name].normalise(entity)]
        assert derived and as_csv(derived) == snap.table(name).to_dict("records"), name
    assert {"users", "role_grants", "trunks", "audit_events", "identity_providers"} <= set(checked)


def test_a_new_declared_dataset_is_collected_without_collection_code(
    simulator, tmp_path, monkeypatch
):
    """Declaring a listing and a document is enough: the collector reads, normalises, scrubs,
    reconciles and records them like every other dataset."""
    divisions = table(
        "division_names",
        "id name",
        (ENDPOINTS["divisions"],),
        row=lambda d: {"id": d.get("id", ""), "name": d.get("name", "")},
        scrub=lambda d: {k: v for k, v in d.items() if k != "homeDivision"},
        removes="homeDivision",
        summary=lambda entities: {"named": sum(1 for d in entities if d.get("name"))},
    )
    home = document("token_timeout_copy", (ENDPOINTS["token_timeout"],))
    extended = MappingProxyType({**SPECS, divisions.name: divisions, home.name: home})
    monkeypatch.setattr(collect_module, "SPECS", extended)
    monkeypatch.setattr(snapshot_module, "SPECS", extended)
    snap, _, run_dir = run(simulator, tmp_path)
    status = snap.status("division_names")
    assert status.complete and status.rows == status.expected_rows == len(simulator.org.divisions)
    assert status.requests == 1 and status.extra == {"named": status.rows}
    assert list(snap.table("division_names").columns) == ["id", "name"]
    raw = list(snap.raw("division_names"))
    assert status.raw_path.endswith(".jsonl.zst")
    assert len(raw) == status.rows and not any("homeDivision" in d for d in raw)
    assert snap.object("token_timeout_copy") == snap.object("token_timeout")
    log = (run_dir / "requests.jsonl").read_text()
    assert log.count('"/api/v2/tokens/timeout"') == 2


def test_declarations_that_cannot_work_are_refused():
    roles, grants = ENDPOINTS["roles"], ENDPOINTS["role_subject_grants"]
    results = ENDPOINTS["audit_query_results"]

    def problems(spec) -> str:
        return "; ".join(spec.problems())

    assert problems(table("t", "id", (roles,), row=dict)) == ""
    assert "exactly one endpoint" in problems(table("t", "id", (roles, grants), row=dict))
    assert "needs a normaliser" in problems(table("t", "id", (roles,)))
    assert "a table without columns" in problems(table("t", "", (roles,), row=dict))
    assert "special collector" in problems(table("t", "id", (results,), row=dict))
    mixed = (roles, ENDPOINTS["auth_settings"])
    assert "different permissions" in problems(table("t", "id", mixed, collector="x"))
    assert "reads no endpoint" in problems(table("t", "id", (), collector="x"))
    assert all(not spec.problems() for spec in SPECS.values())


def test_every_dataset_permission_and_source_come_from_its_endpoints():
    assert SPECS["role_grants"].permission == "authorization:role:view"
    assert SPECS["users"].permission == "" and SPECS["hr_roster"].permission == ""
    assert SPECS["users"].source.startswith("GET /api/v2/users?state=any&expand=authorization,")
    assert SPECS["roles"].source == "GET /api/v2/authorization/roles?userCount=false"
    assert SPECS["hr_roster"].source == "HR roster CSV (params hr.roster)"


def test_scrubbers_remove_credentials_and_keep_the_rest():
    config = {"id": "c1", "apiId": "lkm", "apiKey": "hawk-key", "url": "https://k"}
    assert without_api_key(config) == {"id": "c1", "apiId": "lkm", "url": "https://k"}
    key = {"id": "k1", "localEncryptionConfiguration": {"apiId": "lkm", "apiKey": "hawk-key"}}
    assert without_local_api_key(key) == {
        "id": "k1",
        "localEncryptionConfiguration": {"apiId": "lkm"},
    }
    assert without_local_api_key({"id": "k2"}) == {"id": "k2"}
    trunk = {"id": "t1", "properties": {"trunk_auth_password": {"value": "pw"}, "trunk_x": 1}}
    clean = without_sip_secrets(trunk)
    assert clean["properties"] == {"trunk_auth_password": "[removed]", "trunk_x": 1}
    assert trunk["properties"]["trunk_auth_password"] == {"value": "pw"}  # input untouched


@pytest.mark.parametrize("dataset", ["recording_key_configs", "recording_keys", "trunks"])
def test_declared_scrubbing_keeps_planted_credentials_out_of_the_run(
    simulator, tmp_path, monkeypatch, dataset
):
    org, api = simulator.org, simulator.api
    secret = f"planted-{dataset}-credential-7f3e"
    if dataset == "recording_key_configs":
        org.key_configs[1]["apiKey"] = secret
    elif dataset == "recording_keys":
        org.recording_keys[0]["localEncryptionConfiguration"] = {"apiId": "lkm", "apiKey": secret}
    else:
        wire = api.trunk_wire

        def with_password(trunk):
            body = wire(trunk)
            if "properties" in body:
                body["properties"]["trunk_sip_password"] = {"value": {"instance": secret}}
            return body

        monkeypatch.setattr(api, "trunk_wire", with_password)
    snap, _, run_dir = run(simulator, tmp_path)
    assert snap.status(dataset).complete and snap.status(dataset).rows
    leaked = [p.name for p in run_dir.rglob("*") if p.is_file() and secret in run_text(p)]
    assert not leaked
