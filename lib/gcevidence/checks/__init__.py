"""Control checks: pure functions from a snapshot and the policy to Findings.

Importing this package registers every check family; checks/drift.py (access.role_drift)
is imported when present.
"""

import importlib

from gcevidence.checks import access, auth, crypto, logging, network  # noqa: E402,F401,I001
from gcevidence.checks.registry import (
    REGISTRY,
    CheckContext,
    Outcome,
    register_check,
    run_checks,
    run_one,
)

try:  # role drift lives in its own module, written separately; absent until then
    importlib.import_module("gcevidence.checks.drift")
except ModuleNotFoundError as exc:
    if exc.name != "gcevidence.checks.drift":
        raise

__all__ = ["REGISTRY", "CheckContext", "Outcome", "register_check", "run_checks", "run_one"]
