"""JSON Schemas of the catalog files, and their errors as one line naming file, key and value.

The schemas are built per load: the lists a file may refer to (datasets, thresholds, check ids,
its own control-id pattern) become enums and patterns, so a dangling reference is a schema
error with the key path that holds it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gcevidence.errors import CatalogError

CHECKS_SCHEMA_ID = "gcevidence.catalog.checks/2"
FRAMEWORK_SCHEMA_ID = "gcevidence.catalog.framework/1"
BASELINES_SCHEMA_ID = "gcevidence.catalog.baselines/2"
ADMIN_PERMISSIONS_SCHEMA_ID = "gcevidence.catalog.admin-permissions/1"
CHECK_ID = r"^[a-z][a-z0-9]*\.[a-z][a-z0-9_]*$"
PAPER_REF = r"^[A-Z][A-Z0-9]{1,5}$"
CHECK_REF = r"^[A-Z][A-Z0-9]{1,5}-[1-9][0-9]*$"
NAME = r"^[a-z0-9][a-z0-9._-]*$"
# How a framework requirement is covered: mapped checks, a manual procedure, Genesys'
# attestation, or evidence the organisation holds outside the tenant.
COVERAGE_KINDS = ("checks", "manual", "genesys", "organisation")

_TEXT = {"type": "string", "pattern": r"\S", "x-problem": "must be non-empty text"}


def _object(required: Sequence[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": properties,
    }


def _enum(values: Iterable[str], what: str) -> dict[str, Any]:
    return {"enum": sorted(values), "x-what": what}


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def checks_schema(datasets: Iterable[str], thresholds: Iterable[str], severities: Iterable[str]):
    """checks.yaml: the working papers and every check's metadata."""
    paper = _object(
        ("notebook", "ref", "title"),
        {
            "notebook": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_]*$"},
            "ref": {"type": "string", "pattern": PAPER_REF},
            "title": _TEXT,
            "summary": {"type": "boolean"},
        },
    )
    check = _object(
        ("title", "severity", "paper", "ref", "datasets", "objective", "procedure", "remediation"),
        {
            "title": _TEXT,
            "severity": _enum(severities, "a severity"),
            "paper": {"type": "string"},
            "ref": {
                "type": "string",
                "pattern": CHECK_REF,
                "x-problem": "is not a working-paper reference (the paper's ref, a dash, a number)",
            },
            "datasets": {
                "type": "array",
                "uniqueItems": True,
                "items": _enum(datasets, "a dataset of gcevidence.datasets"),
            },
            "allow_incomplete": {"type": "boolean"},
            "thresholds": {
                "type": "array",
                "uniqueItems": True,
                "items": _enum(thresholds, "a threshold declared in baselines.yaml"),
            },
            "objective": _TEXT,
            "procedure": _TEXT,
            "remediation": _TEXT,
        },
    )
    return _object(
        ("schema", "papers", "checks"),
        {
            "schema": {"const": CHECKS_SCHEMA_ID},
            "papers": {"type": "array", "minItems": 1, "items": paper},
            "checks": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {
                    "pattern": CHECK_ID,
                    "x-problem": "is not a check id (family.name, lower case)",
                },
                "additionalProperties": check,
            },
        },
    )


def framework_schema(stem: str, id_pattern: str | None, check_ids: Iterable[str]):
    """frameworks/<id>.yaml: one framework, its requirements and the checks mapped to each."""
    control_name: dict[str, Any] = {"type": "string"}
    if id_pattern is not None:
        control_name = {
            "pattern": _anchored(id_pattern),
            "x-problem": f"does not match the framework's id_pattern {id_pattern}",
        }
    # Every mapping says why the check is evidence for the requirement (issue 12 §5), and
    # when it applies only under a condition, that condition.
    mapping = _object(
        ("check", "rationale"),
        {
            "check": _enum(check_ids, "a check declared in checks.yaml"),
            "rationale": _TEXT,
            "condition": _TEXT,
        },
    )
    requirement = _object(
        ("title",),
        {
            "title": _TEXT,
            "checks": {"type": "array", "minItems": 1, "items": mapping},
            "manual": _TEXT,
            "genesys": _TEXT,
            "organisation": _TEXT,
        },
    )
    # Exactly one way per row: two are refused here, none by the loader (a clearer message).
    requirement["not"] = {
        "anyOf": [{"required": list(pair)} for pair in itertools.combinations(COVERAGE_KINDS, 2)]
    }
    requirement["x-not"] = f"give exactly one of {', '.join(COVERAGE_KINDS)}"
    scope = _object(
        ("description", "ids"),
        {
            "description": _TEXT,
            "ids": {"type": "array", "minItems": 1, "uniqueItems": True, "items": control_name},
        },
    )
    successor = _object(
        ("framework", "correspondence"),
        {
            "framework": {"type": "string", "pattern": NAME},
            "correspondence": {
                "type": "object",
                "propertyNames": control_name,
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string"},
                },
            },
            "new": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
        },
    )
    return _object(
        ("schema", "id", "label", "short", "id_pattern", "report", "requirements"),
        {
            "schema": {"const": FRAMEWORK_SCHEMA_ID},
            "id": {"const": stem, "x-problem": f"must be the file name without .yaml ({stem})"},
            "label": _TEXT,
            "short": _TEXT,
            "id_pattern": _TEXT,
            "report": {"type": "boolean"},
            "order": {"type": "integer"},
            "successor": successor,
            "scope": scope,
            "requirements": {
                "type": "object",
                "propertyNames": control_name,
                "additionalProperties": requirement,
            },
        },
    )


def baselines_schema(thresholds: dict[str, Any], baseline_ids: Iterable[str]):
    """baselines.yaml: threshold declarations, each baseline's values, and their conflicts."""
    declaration = _object(
        ("type", "meaning"),
        {
            "type": {"enum": ["integer", "boolean"]},
            "nullable": {"type": "boolean"},
            "meaning": _TEXT,
        },
    )
    values = {}
    for name, spec in thresholds.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        value: dict[str, Any] = (
            {"type": "boolean"} if kind == "boolean" else {"type": "integer", "minimum": 0}
        )
        if isinstance(spec, dict) and spec.get("nullable") is True:
            value = {"anyOf": [value, {"type": "null"}], "x-problem": "must be a number or null"}
        values[name] = _object(
            ("value", "source"),
            {"value": value, "source": _TEXT, "tool_default": {"type": "boolean"}},
        )
    baseline = _object(
        ("name", "thresholds"),
        {"name": _TEXT, "thresholds": _object(sorted(values), values)},
    )
    conflict = _object(
        ("id", "setting", "kind", "thresholds", "positions", "note"),
        {
            "id": {"type": "string", "pattern": r"^C\d+$"},
            "setting": _TEXT,
            "kind": {"enum": ["hard", "soft"]},
            "thresholds": {
                "type": "array",
                "items": _enum(thresholds, "a threshold declared in baselines.yaml"),
            },
            "positions": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": _enum(baseline_ids, "a baseline of this file"),
                "additionalProperties": _TEXT,
            },
            "note": _TEXT,
        },
    )
    return _object(
        ("schema", "thresholds", "baselines", "conflicts"),
        {
            "schema": {"const": BASELINES_SCHEMA_ID},
            "thresholds": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*$"},
                "additionalProperties": declaration,
            },
            "baselines": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": NAME},
                "additionalProperties": baseline,
            },
            "conflicts": {"type": "array", "items": conflict},
        },
    )


def admin_permissions_schema() -> dict[str, Any]:
    """admin_permissions.yaml: groups of permission globs, each saying what they allow."""
    pattern = {
        "type": "string",
        "pattern": r"^[A-Za-z0-9_*\[\]:.-]+$",
        "x-problem": "must be a permission glob (letters, digits, `:`, `*`, `[*]`)",
    }
    group = _object(
        ("means", "patterns"),
        {
            "means": _TEXT,
            "patterns": {"type": "array", "minItems": 1, "uniqueItems": True, "items": pattern},
        },
    )
    return _object(
        ("schema", "groups"),
        {
            "schema": {"const": ADMIN_PERMISSIONS_SCHEMA_ID},
            "groups": {"type": "array", "minItems": 1, "items": group},
        },
    )


def key_path(parts: Iterable[Any]) -> str:
    """checks["auth.mfa_required"].datasets[0]: dotted, a key holding a dot in brackets."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not isinstance(part, str) or "." in part or " " in part or not part:
            text += f'["{part}"]' if isinstance(part, str) else f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text or "(file)"


def _validator_class() -> Any:
    # jsonschema imports its optional format checkers eagerly, and rfc3987_syntax compiles a
    # grammar at import (over a second on our 2 cores). The catalog uses no "format", so it is
    # kept out of the import unless something else already loaded it; the CLI starts faster.
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
        try:
            import jsonschema
        finally:
            del sys.modules["rfc3987_syntax"]
    import jsonschema

    return jsonschema.Draft202012Validator


def validate(doc: Any, schema: dict[str, Any], file: Path) -> None:
    """Raise CatalogError for the first schema error of `doc`, naming file, key path and value."""
    validator = _validator_class()(schema)
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(doc))
    if error is not None:
        raise _catalog_error(file, error)


def _catalog_error(file: Path, error: Any) -> CatalogError:
    path, value, schema = list(error.absolute_path), error.instance, error.schema
    fix = ""
    if "propertyNames" in error.relative_schema_path:
        path.append(value)  # the error is about a key: name it, and give the key as the value
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        unknown = next(k for k in value if k not in allowed)
        path.append(unknown)
        value, problem, fix = value[unknown], "unknown key", f"allowed: {', '.join(allowed)}"
    elif error.validator == "required" and isinstance(value, dict):
        missing = next(k for k in error.validator_value if k not in value)
        path.append(missing)
        value, problem = None, "missing"
        fix = f"required keys: {', '.join(error.validator_value)}"
    elif error.validator == "not" and isinstance(value, dict):
        value, problem = ", ".join(value), schema.get("x-not", error.message)
    elif f"x-{error.validator}" in schema or "x-problem" in schema:
        problem = schema.get(f"x-{error.validator}") or schema["x-problem"]
    elif error.validator == "enum":
        what = schema.get("x-what", "an allowed value")
        problem, fix = f"is not {what}", f"use one of {', '.join(map(str, schema['enum']))}"
    elif error.validator == "const":
        problem = f"must be {schema['const']!r}"
    elif error.validator == "type":
        problem = f"must be of type {error.validator_value}"
    else:
        problem = error.message
    return CatalogError(str(file), key_path(path), value, problem, fix)
