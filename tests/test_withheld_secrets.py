"""Credentials the API hands out with its answers (OAuth client secrets above all) are dropped
at collection, remembered in memory only, and a pack that holds one anyway is never sealed."""

from __future__ import annotations

import dataclasses

import pytest
from gcevidence import collect_clients
from gcevidence.collect import collect
from gcevidence.datasets.api_access import OAUTH_CLIENTS, secret_of, without_secret
from gcevidence.errors import PackError
from gcevidence.pack import PackBuilder
from gcevidence.pack.secrets import scan_for_secrets
from test_collect_sim import client_for, params_for


def _collect(sim, tmp_path, pack):
    params = params_for(sim, tmp_path, days=5, services=["PeoplePermissions"])
    client = client_for(sim, pack.dir)
    try:
        return collect(params, client, pack.dir)
    finally:
        client.close()


def test_client_secrets_are_withheld_and_reach_no_file(simulator, tmp_path):
    planted = {c.secret for c in simulator.org.oauth_clients if c.secret}
    assert len(planted) >= 5
    with PackBuilder(tmp_path / "out", simulator.now.date()) as pack:
        snapshot = _collect(simulator, tmp_path, pack)
        assert planted <= snapshot.withheld_secrets
        assert scan_for_secrets(pack.dir, sorted(planted)) == []
        sealed = pack.seal({}, refuse_secrets=sorted(snapshot.withheld_secrets))
    assert (sealed / "evidence" / "raw" / "oauth_clients.jsonl.zst").is_file()


def test_a_pack_that_would_hold_a_client_secret_is_not_sealed(simulator, tmp_path, monkeypatch):
    # A scrubber that forgets the secret: the collection still knows what it should have removed.
    leaky = dataclasses.replace(OAUTH_CLIENTS, scrub=lambda client: client)
    monkeypatch.setattr(collect_clients, "OAUTH_CLIENTS", leaky)
    leak = r"evidence/raw/oauth_clients\.jsonl\.zst \(zstd content\): secret #"
    with (
        pytest.raises(PackError, match=leak),
        PackBuilder(tmp_path / "out", simulator.now.date()) as pack,
    ):
        snapshot = _collect(simulator, tmp_path, pack)
        pack.seal({}, refuse_secrets=sorted(snapshot.withheld_secrets))
    assert not list((tmp_path / "out").glob("*/*"))  # nothing sealed, nothing left


def test_the_scrubber_removes_exactly_the_secret_it_withholds():
    client = {"id": "c1", "name": "CI", "secret": "s3cr3t-value", "state": "active"}
    assert without_secret(client) == {"id": "c1", "name": "CI", "state": "active"}
    assert secret_of(client) == ["s3cr3t-value"] and secret_of({"id": "c2"}) == []
    assert client["secret"] == "s3cr3t-value"  # the input is untouched
