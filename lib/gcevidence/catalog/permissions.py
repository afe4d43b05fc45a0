"""Administrative permissions: which role permissions make a role privileged (catalog data).

admin_permissions.yaml lists globs over permission strings, grouped by what they allow. A role
carrying a matching permission is administrative whether or not the params declare it
privileged; access.undeclared_privileged_roles lists the ones they leave out.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gcevidence.catalog import schema
from gcevidence.catalog.load import HERE, _read, _text_keys
from gcevidence.errors import CatalogError

ADMIN_PERMISSIONS_FILE = HERE / "admin_permissions.yaml"


@dataclass(frozen=True)
class AdminPattern:
    """One permission glob and what a permission matching it allows."""

    pattern: str
    means: str

    def matches(self, permission: str) -> bool:
        return fnmatch.fnmatchcase(permission, self.pattern)


@dataclass(frozen=True)
class AdminMatch:
    """A role's permission that is administrative, and the pattern that says so."""

    permission: str
    pattern: str
    means: str


def read_admin_patterns(path: Path = ADMIN_PERMISSIONS_FILE) -> tuple[AdminPattern, ...]:
    """Read and validate the file; a mistake is a CatalogError naming file, key and value."""
    doc = _read(path)
    _text_keys(doc, path)
    schema.validate(doc, schema.admin_permissions_schema(), path)
    seen: dict[str, int] = {}
    patterns = []
    for i, group in enumerate(doc["groups"]):
        for j, pattern in enumerate(group["patterns"]):
            if pattern in seen:
                raise CatalogError(
                    str(path),
                    schema.key_path(("groups", i, "patterns", j)),
                    pattern,
                    f"already listed in groups[{seen[pattern]}]",
                    "list each pattern once",
                )
            seen[pattern] = i
            patterns.append(AdminPattern(pattern, " ".join(group["means"].split())))
    return tuple(patterns)


@functools.cache
def admin_patterns() -> tuple[AdminPattern, ...]:
    """The shipped patterns, read once per process."""
    return read_admin_patterns()


def admin_permissions(
    permissions: Iterable[str], patterns: Iterable[AdminPattern] | None = None
) -> tuple[AdminMatch, ...]:
    """The administrative permissions among `permissions`, each with the first pattern it
    matches, in the order given."""
    chosen = tuple(admin_patterns() if patterns is None else patterns)
    found = []
    for permission in dict.fromkeys(p.strip() for p in permissions if p and p.strip()):
        hit = next((pat for pat in chosen if pat.matches(permission)), None)
        if hit is not None:
            found.append(AdminMatch(permission, hit.pattern, hit.means))
    return tuple(found)
