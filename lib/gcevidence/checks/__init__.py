"""Control checks: pure functions from a snapshot and the policy to Findings.

Importing this package registers every check family; checks/drift.py (access.role_drift)
and checks/admin_roles.py (access.undeclared_privileged_roles) are imported too.
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

# Importing a family module registers its checks.
importlib.import_module("gcevidence.checks.drift")
importlib.import_module("gcevidence.checks.admin_roles")
# Issue 9 (cov-access): OAuth clients and trustees, recording retention, role definitions.
for _module in ("api_access", "data", "role_definitions"):
    importlib.import_module(f"gcevidence.checks.{_module}")

__all__ = ["REGISTRY", "CheckContext", "Outcome", "register_check", "run_checks", "run_one"]
