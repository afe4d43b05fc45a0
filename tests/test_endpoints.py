"""The endpoint declarations against the simulator, the official SDK and the library's own code.

The simulator's route table carries each endpoint's permission as the SDK's API docs state it;
every declared endpoint must be a simulated route with the same method, path and permission,
and every simulated route is declared or a deliberate extra (listed below with its reason).
The SDK's generated API modules are the judge that each path and method exists as written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gcevidence.datasets import SPECS
from gcevidence.endpoints import ENDPOINTS, Paging, endpoint_for, requests_by_endpoint
from gcevidence.simulator.api import MAX_PAGE_SIZE, ROUTES

LIB = Path(__file__).resolve().parents[1] / "lib" / "gcevidence"
DECLARATIONS = (LIB / "endpoints.py",)

# Simulated endpoints the toolkit never calls: each is served so that the SDK conformance test
# (tests/test_sdk_conformance.py) judges more of the simulated wire format, and for a newcomer
# exploring the org with the SDK against `gcevidence simulate`.
DELIBERATE_EXTRAS = {
    # Grants are read per role (subject grants), so the toolkit needs no
    # authorization:grant:view; these two show the same grants per subject.
    ("GET", "/api/v2/users/{subjectId}/roles"): "a user's roles (SDK: get_user_roles)",
    ("GET", "/api/v2/authorization/subjects/{subjectId}"): "a subject's grants",
    # The members listing is reconciled against its own total: the group itself is not read.
    ("GET", "/api/v2/groups/{groupId}"): "a group and its memberCount",
    ("GET", "/api/v2/authorization/divisions/home"): "the home division",
    ("GET", "/api/v2/recording/keyconfigurations/{keyConfigurationId}"): "one key configuration",
    # The service names audit.services may list, and their entity types and actions.
    ("GET", "/api/v2/audits/query/servicemapping"): "audit services",
    ("GET", "/api/v2/audits/query/realtime/servicemapping"): "realtime audit services",
}
SDK_CALL = re.compile(r"resource_path = '([^']+)'.*?call_api\(resource_path, '(\w+)'", re.S)


def sdk_endpoints() -> set[tuple[str, str]]:
    """(method, path) of every endpoint in the official SDK's generated API modules."""
    sdk = pytest.importorskip("PureCloudPlatformClientV2")
    found = set()
    for module in (Path(sdk.__file__).parent / "apis").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        found |= {(m.group(2), m.group(1)) for m in SDK_CALL.finditer(text)}
    return found


def routes() -> dict[tuple[str, str], str]:
    return {(r.method, r.path): r.permission for r in ROUTES}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_declared_endpoint_is_simulated_with_its_permission(name):
    endpoint = ENDPOINTS[name]
    key = (endpoint.method, endpoint.path)
    assert key in routes(), f"{endpoint}: no simulated route with this method and path"
    assert routes()[key] == endpoint.permission, (
        f"{endpoint}: declared permission {endpoint.permission!r}, "
        f"the simulator (the SDK docs) says {routes()[key]!r}"
    )


def test_every_simulated_route_is_declared_or_a_deliberate_extra():
    declared = {(e.method, e.path) for e in ENDPOINTS.values()}
    undeclared = set(routes()) - declared
    assert undeclared == set(DELIBERATE_EXTRAS), (
        f"simulated but not declared: {sorted(undeclared - set(DELIBERATE_EXTRAS))}; "
        f"listed as extras but declared or gone: {sorted(set(DELIBERATE_EXTRAS) - undeclared)}"
    )


def test_every_endpoint_and_route_exists_in_the_sdk_as_written():
    sdk = sdk_endpoints()
    declared = {(e.method, e.path) for e in ENDPOINTS.values()}
    assert not declared - sdk, f"declared, not in the SDK: {sorted(declared - sdk)}"
    assert not set(routes()) - sdk, f"simulated, not in the SDK: {sorted(set(routes()) - sdk)}"


def test_listings_declare_a_page_size_the_api_accepts():
    for endpoint in ENDPOINTS.values():
        if endpoint.paging in (Paging.PAGES, Paging.CURSOR):
            assert endpoint.page_size and 1 <= endpoint.page_size <= MAX_PAGE_SIZE, endpoint
        else:
            assert endpoint.page_size is None, endpoint


def test_every_endpoint_is_read_by_a_dataset_or_preflight():
    read = {e.name for spec in SPECS.values() for e in spec.reads}
    preflight_only = {"role", "role_users"}  # preflight compares the role counts Genesys gives
    assert set(ENDPOINTS) == read | preflight_only


def test_urls_fill_every_placeholder_and_refuse_a_missing_one():
    grants = ENDPOINTS["role_subject_grants"]
    assert grants.url(roleId="r1") == "/api/v2/authorization/roles/r1/subjectgrants"
    with pytest.raises(ValueError, match="roleId"):
        grants.url()
    with pytest.raises(ValueError):
        grants.url(roleId="r1", userId="u1")
    assert ENDPOINTS["users"].query({"state": "any"}) == {"state": "any"}
    assert ENDPOINTS["roles"].query() == {"userCount": False}
    assert ENDPOINTS["roles"].query({"userCount": True}) == {"userCount": True}


def test_a_request_maps_to_its_endpoint():
    assert endpoint_for("GET", "/api/v2/users?state=any").name == "users"
    assert endpoint_for("GET", "/api/v2/users/abc").name == "user"
    assert endpoint_for("POST", "/api/v2/users/abc") is None
    assert endpoint_for("GET", "/api/v2/recording/recordingkeys/rotationschedule").name == (
        "rotation_schedule"
    )
    assert endpoint_for("GET", "/api/v2/audits/query/tx-1").name == "audit_query_status"
    assert endpoint_for("GET", "/api/v2/audits/query/tx-1/results").name == "audit_query_results"
    assert endpoint_for("POST", "/api/v2/audits/query/realtime").name == "audit_realtime"
    counts = requests_by_endpoint(
        [("POST", "/oauth/token"), ("GET", "/api/v2/users/a"), ("GET", "/api/v2/users/b")]
        + [("GET", "/api/v2/nowhere")]
    )
    assert counts == {"user": 2, "token": 1, "undeclared": 1}


def api_path_literals(path: Path) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "/api/v2" in line
    ]


def test_endpoint_paths_are_written_only_in_the_declarations():
    """No /api/v2 path anywhere in the library (code, comments, docstrings) but endpoints.py;
    the simulator keeps its own route table, which the tests above compare."""
    offenders = [
        f"{path.relative_to(LIB)}:{number}: {line}"
        for path in sorted(LIB.rglob("*.py"))
        if path not in DECLARATIONS and "simulator" not in path.relative_to(LIB).parts
        for number, line in api_path_literals(path)
    ]
    assert not offenders, "endpoint paths outside the declarations:\n" + "\n".join(offenders)
    assert api_path_literals(LIB / "endpoints.py")  # the test would notice a move
