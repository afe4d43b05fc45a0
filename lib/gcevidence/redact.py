"""Removing named fields from a parsed JSON document: secrets, and personal data not needed.

A field is named by a path of keys separated by dots. `name[]` steps into every item of the
list under `name`, `name[key=a|b]` only into the items whose `key` is `a` or `b`; a key may be
a shell pattern (`*password*`), matched without regard to case.
`entities[].properties.*password*` names every property whose name contains "password" of
every entity of a listing; `entities[].propertyChanges[property=addresses].newValues` the new
values of every change of `addresses`.

Removing reports the paths it removed with the keys it actually
found (`entities[].properties.trunk_auth_password`), so the request log can name them.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable
from typing import Any

Step = tuple[str, bool, tuple[str, tuple[str, ...]] | None]  # key, a list, item filter


def _steps(path: str) -> list[Step]:
    """(key pattern, is a list, (item key, values) or None) per dot-separated step."""
    steps: list[Step] = []
    for part in _split(path):
        if part.endswith("]") and "[" in part:
            key, _, inside = part[:-1].partition("[")
            where = None
            if inside:
                field, _, values = inside.partition("=")
                where = (field, tuple(values.split("|")))
            steps.append((key, True, where))
        else:
            steps.append((part, False, None))
    return steps


def _split(path: str) -> list[str]:
    """The steps of a path: dots inside [...] do not separate."""
    parts, depth, current = [], 0, ""
    for ch in path:
        if ch == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(ch, 0)
        current += ch
    return [*parts, current]


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


def _remove(node: Any, steps: list[Step], seen: str, removed: set[str]) -> None:
    if not isinstance(node, dict) or not steps:
        return
    (pattern, many, where), rest = steps[0], steps[1:]
    for key in [k for k in node if _matches(k, pattern)]:
        here = f"{seen}.{key}" if seen else key
        if not rest:
            del node[key]
            removed.add(here)
            continue
        if not many:
            _remove(node[key], rest, here, removed)
            continue
        for item in node[key] if isinstance(node[key], list) else ():
            if where is None:
                _remove(item, rest, here + "[]", removed)
            elif isinstance(item, dict) and str(item.get(where[0])) in where[1]:
                _remove(item, rest, f"{here}[{where[0]}={item.get(where[0])}]", removed)


def without_fields(doc: Any, paths: Iterable[str]) -> Any:
    """A copy of `doc` without the fields the paths name (the input is left as it is)."""
    paths = tuple(paths)
    if isinstance(doc, dict) and all("." not in p and "[" not in p and "*" not in p for p in paths):
        return {k: v for k, v in doc.items() if k not in paths}  # top-level keys: no deep copy
    clean = copy.deepcopy(doc)
    remove_fields(clean, paths)
    return clean


__all__ = ["remove_fields", "without_fields"]
