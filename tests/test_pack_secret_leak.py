"""Secrets never leak: the whole demo runs with a recognisable client secret, then every byte of
the sealed pack and everything logged or printed is searched for it and for every token the
simulator issued (plain, base64 at any offset, URL/JSON/HTML-escaped, hex, UTF-16, and inside
zip members and compressed PDF streams)."""

from __future__ import annotations

import logging
import os

import pytest
from gcevidence.pack.secrets import scan_for_secrets
from gcevidence.pack.verify import verify_pack

simulator = pytest.importorskip("gcevidence.simulator")
pipeline = pytest.importorskip("gcevidence.pipeline")
if not hasattr(simulator, "Simulator") or not hasattr(pipeline, "demo_params"):
    pytest.skip("needs the simulator and the pipeline", allow_module_level=True)

CANARY_SECRET = "CANARY-s3cret/+=-do-not-leak-7f41c2"


def test_demo_pack_and_logs_hold_no_secret_or_token(tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # debug logging must not leak either
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    config = simulator.SimConfig(seed=11, users=80, client_secret=CANARY_SECRET,
                                 audit_events_per_day=20, audit_history_days=120)
    with pipeline.demo_params(tmp_path / "out", config, env) as (params, sim):
        result = pipeline.run_pipeline(params, tmp_path / "out", env=env, pdf=False)
        tokens = list(sim.tokens_issued)
        client_id = sim.client_id
    pack = result.pack_dir
    assert verify_pack(pack).ok
    assert tokens, "the run must have used at least one token, or this test proves nothing"
    secrets = [CANARY_SECRET, *tokens]

    assert scan_for_secrets(pack, secrets) == []
    # The scan does reach the files: the (non-secret) client id is recorded in the pack.
    assert scan_for_secrets(pack, [client_id])

    out, err = capfd.readouterr()
    said = "\n".join([caplog.text, out, err])
    for secret in secrets:
        assert secret not in said
    # Nothing else under the output folder (no stray temp or build folder) holds them either.
    assert scan_for_secrets(tmp_path / "out", secrets) == []
