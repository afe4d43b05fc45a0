"""Run a phase of the pipeline in a child process, so that what it held is given back when it ends.

A large org's collection and checks hold hundreds of megabytes of tables for a while; freed in a
long-lived process that memory mostly stays with it (the allocator keeps it), so the pipeline
would stay that large while the notebook kernels and Chromium run beside it. In a forked child
it goes back to the system when the child exits, and the pipeline stays small.

The child is a fork (Linux): it inherits the run's state as it is, and sends back the phase's
result, or the exception it raised (the toolkit's errors survive the trip with their exit
status). Where fork is not the platform's way (macOS, Windows), the phase runs in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def can_fork() -> bool:
    return sys.platform.startswith("linux")


def in_child(phase: Callable[[], T], name: str = "phase") -> T:
    """phase() in a forked child; its result (or its exception) as if it ran here."""
    if not can_fork():
        return phase()
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(phase, sender, name), name=f"gcevidence-{name}")
    proc.start()
    sender.close()
    try:
        try:
            ok, value = receiver.recv()
        except EOFError:
            proc.join()
            raise RuntimeError(
                f"the {name} process ended (exit status {proc.exitcode}) without an answer"
            ) from None
        proc.join()
    except BaseException:
        # Ctrl-C or SIGTERM here: the child stops with us, so the unfinished pack can go.
        proc.kill()
        proc.join()
        raise
    finally:
        receiver.close()
    if ok:
        return value
    raise value


def _child(phase: Callable[[], object], sender, name: str) -> None:
    try:
        answer = (True, phase())
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        log.debug("%s failed in its process:\n%s", name, traceback.format_exc())
        answer = (False, _portable(exc))
    try:
        sender.send(answer)
    except Exception as exc:  # noqa: BLE001 - an answer that cannot be pickled
        sender.send((False, RuntimeError(f"the {name} process could not send its answer: {exc}")))
    finally:
        sender.close()


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when the parent can rebuild it, else a RuntimeError saying what it
    was (its type and message)."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, never read from outside
    except Exception:  # noqa: BLE001 - any exception a pickle round trip may raise
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
