"""Phases run in a forked child: results and the toolkit's errors come back, memory does not."""

from __future__ import annotations

import os
import resource

import pytest
from gcevidence.errors import IncompleteEvidence, InputError
from gcevidence.isolate import can_fork, in_child

pytestmark = pytest.mark.skipif(not can_fork(), reason="phases run in this process here")


def test_the_result_comes_back_and_the_memory_stays_in_the_child():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def phase():
        held = bytearray(300 << 20)  # 300 MiB, touched
        held[::4096] = b"x" * len(held[::4096])
        return {"rows": len(held) >> 20, "pid": os.getpid()}

    answer = in_child(phase, "test")
    assert answer["rows"] == 300 and answer["pid"] != os.getpid()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 << 10  # the parent never held the 300 MiB
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss >= 300 << 10


def test_a_toolkit_error_arrives_with_its_type_fields_and_exit_status():
    def phase():
        raise InputError("params.yaml", "period.days", 0, "must be at least 1", "use 90")

    with pytest.raises(InputError) as caught:
        in_child(phase, "test")
    error = caught.value
    assert (error.file, error.field, error.value, error.exit_status) == (
        "params.yaml",
        "period.days",
        0,
        2,
    )
    assert str(error) == "params.yaml: period.days=0: must be at least 1; use 90"


def test_incomplete_evidence_keeps_exit_status_3():
    def phase():
        raise IncompleteEvidence("users: 10 read, 12 announced")

    with pytest.raises(IncompleteEvidence) as caught:
        in_child(phase, "test")
    assert caught.value.exit_status == 3 and "12 announced" in str(caught.value)


def test_an_error_that_cannot_travel_is_named_and_a_silent_death_is_reported():
    class Local(Exception):  # defined here: the parent cannot unpickle it by name
        pass

    def raises_local():
        raise Local("lost in transit")

    with pytest.raises(RuntimeError, match="Local: lost in transit"):
        in_child(raises_local, "test")
    with pytest.raises(RuntimeError, match=r"the checks process ended \(exit status 7\)"):
        in_child(lambda: os._exit(7), "checks")
