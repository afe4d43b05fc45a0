"""Removing named fields from a parsed JSON document: secrets, and personal data not needed.

A field is named by a path of keys separated by dots. `name[]` steps into every item of the
list under `name`; a key may be a shell pattern (`*password*`), matched without regard to case.
`entities[].properties.*password*` names every property whose name contains "password" of
every entity of a listing. Removing reports the paths it removed with the keys it actually
found (`entities[].properties.trunk_auth_password`), so the request log can name them.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable
from typing import Any


def _steps(path: str) -> list[tuple[str, bool]]:
    """(key pattern, is a list) per dot-separated step."""
    steps = []
    for part in path.split("."):
        many = part.endswith("[]")
        steps.append((part[:-2] if many else part, many))
    return steps


def _matches(key: str, pattern: str) -> bool:
    if not any(c in pattern for c in "*?["):
        return key == pattern
    return fnmatch.fnmatchcase(key.lower(), pattern.lower())


def remove_fields(doc: Any, paths: Iterable[str]) -> list[str]:
    """Delete every field the paths name from `doc` (in place); the paths removed, sorted."""
    removed: set[str] = set()
    for path in paths:
        _remove(doc, _steps(path), "", removed)
    return sorted(removed)


def _remove(node: Any, steps: list[tuple[str, bool]], seen: str, removed: set[str]) -> None:
    if not isinstance(node, dict) or not steps:
        return
    (pattern, many), rest = steps[0], steps[1:]
    for key in [k for k in node if _matches(k, pattern)]:
        here = f"{seen}.{key}" if seen else key
        if not rest:
            del node[key]
            removed.add(here)
            continue
        if many:
            for item in node[key] if isinstance(node[key], list) else ():
                _remove(item, rest, here + "[]", removed)
        else:
            _remove(node[key], rest, here, removed)


def without_fields(doc: Any, paths: Iterable[str]) -> Any:
    """A copy of `doc` without the fields the paths name (the input is left as it is)."""
    paths = tuple(paths)
    if isinstance(doc, dict) and all("." not in p and "[" not in p and "*" not in p for p in paths):
        return {k: v for k, v in doc.items() if k not in paths}  # top-level keys: no deep copy
    clean = copy.deepcopy(doc)
    remove_fields(clean, paths)
    return clean


__all__ = ["remove_fields", "without_fields"]
