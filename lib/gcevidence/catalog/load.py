"""Read and validate the catalog files into frozen records, once per process.

checks.yaml (papers and checks), baselines.yaml (thresholds, baselines, conflicts) and every
frameworks/*.yaml are checked against their schemas and against each other; the first problem
is a CatalogError naming the file, the key path and the value. Each check's controls are
derived by inverting the framework files.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from gcevidence.catalog import schema
from gcevidence.catalog.records import (
    Baseline,
    Catalog,
    CheckMapping,
    CheckSpec,
    Conflict,
    Framework,
    Paper,
    Requirement,
    Successor,
    Threshold,
    ThresholdSpec,
)
from gcevidence.errors import CatalogError

HERE = Path(__file__).parent
CHECKS_FILE = HERE / "checks.yaml"
# Directories of extra framework files (os.pathsep-separated), loaded after the shipped ones.
EXTRA_FRAMEWORKS_ENV = "GCEVIDENCE_EXTRA_FRAMEWORKS"
DEFAULT_ORDER = 1000  # frameworks without `order` come after the shipped ones, by id


class _NotTextKey(str):
    """A mapping key YAML did not read as text (8.10 is the number 8.1): its source text."""

    def __new__(cls, source: str, parsed: Any) -> _NotTextKey:
        key = super().__new__(cls, source)
        key.parsed = parsed
        return key


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int):
        self.key, self.line, self.first = key, line, first


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that refuses a key given twice (plain YAML keeps the last one silently) and
    keeps the source text of keys that are not text, so the error can quote them."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = _NotTextKey(str(key_node.value), key)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise _DuplicateKey(key, line, lines[key])
            lines[key] = line
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except OSError as exc:
        raise CatalogError(str(path), "(file)", str(path), f"cannot be read: {exc}") from exc
    except _DuplicateKey as dup:
        raise CatalogError(
            str(path),
            f"line {dup.line}",
            dup.key,
            f"key given twice (first on line {dup.first})",
            "keep one",
        ) from None
    except yaml.YAMLError as exc:
        raise CatalogError(
            str(path), "(file)", path.name, f"is not valid YAML: {' '.join(str(exc).split())}"
        ) from exc


def _text_keys(value: Any, file: Path, path: tuple = ()) -> None:
    """Every mapping key must be text: YAML reads an unquoted 8.10 as the number 8.1."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, _NotTextKey):
                raise CatalogError(
                    str(file),
                    schema.key_path((*path, str(key))),
                    str(key),
                    f"key is read as {type(key.parsed).__name__} {key.parsed!r}, not text",
                    f'quote it ("{key}")',
                )
            _text_keys(item, file, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _text_keys(item, file, (*path, i))


def _load_file(path: Path, make_schema: Any) -> dict:
    doc = _read(path)
    _text_keys(doc, path)
    schema.validate(doc, make_schema(doc), path)
    return doc


def _words(text: str) -> str:
    return " ".join(str(text).split())


def _frozen(mapping: dict) -> MappingProxyType:
    return MappingProxyType(dict(mapping))


# --- baselines.yaml ---------------------------------------------------------------------------


def _baselines(path: Path) -> tuple[dict, dict, tuple]:
    def make(doc: Any) -> dict:
        thresholds = doc.get("thresholds") if isinstance(doc, dict) else None
        baselines = doc.get("baselines") if isinstance(doc, dict) else None
        return schema.baselines_schema(
            thresholds if isinstance(thresholds, dict) else {},
            baselines if isinstance(baselines, dict) else (),
        )

    doc = _load_file(path, make)
    specs = {
        name: ThresholdSpec(name, t["type"], bool(t.get("nullable")), _words(t["meaning"]))
        for name, t in doc["thresholds"].items()
    }
    baselines = {
        bid: Baseline(
            bid,
            b["name"],
            _frozen(
                {
                    n: Threshold(n, t["value"], t["source"], t.get("tool_default", False))
                    for n, t in b["thresholds"].items()
                }
            ),
        )
        for bid, b in doc["baselines"].items()
    }
    conflicts = tuple(
        Conflict(
            c["id"],
            c["setting"],
            c["kind"],
            tuple(c["thresholds"]),
            _frozen(c["positions"]),
            _words(c["note"]),
        )
        for c in doc["conflicts"]
    )
    return specs, baselines, conflicts


# --- checks.yaml ------------------------------------------------------------------------------


def _checks_doc(path: Path, threshold_names: Iterable[str]) -> dict:
    from gcevidence.datasets import SPECS
    from gcevidence.findings import SEVERITIES

    threshold_names = tuple(threshold_names)
    doc = _load_file(path, lambda _: schema.checks_schema(SPECS, threshold_names, SEVERITIES))
    seen: dict[str, dict[str, int]] = {"notebook": {}, "ref": {}}
    for i, paper in enumerate(doc["papers"]):
        for key, firsts in seen.items():
            if paper[key] in firsts:
                raise CatalogError(
                    str(path),
                    f"papers[{i}].{key}",
                    paper[key],
                    f"already used by papers[{firsts[paper[key]]}]",
                )
            firsts[paper[key]] = i
    summaries = [i for i, p in enumerate(doc["papers"]) if p.get("summary")]
    if len(summaries) != 1:
        raise CatalogError(
            str(path),
            f"papers[{summaries[1]}].summary" if summaries else "papers",
            True if summaries else None,
            "exactly one paper must be the summary",
            "set summary: true on one paper only",
        )
    family = {p["notebook"]: p["ref"] for p in doc["papers"] if not p.get("summary")}
    refs: dict[str, str] = {}
    for cid, check in doc["checks"].items():
        if check["paper"] not in family:
            raise CatalogError(
                str(path),
                schema.key_path(("checks", cid, "paper")),
                check["paper"],
                "is not a working paper declared under papers (the summary holds no check)",
                f"use one of {', '.join(family)}",
            )
        _check_ref(path, cid, check, family[check["paper"]], refs)
    return doc


def _check_ref(path: Path, cid: str, check: dict, paper_ref: str, seen: dict[str, str]) -> None:
    """A check's ref starts with its paper's ref and is used by no other check."""
    ref, where = check["ref"], schema.key_path(("checks", cid, "ref"))
    if ref.rsplit("-", 1)[0] != paper_ref:
        raise CatalogError(
            str(path),
            where,
            ref,
            f"does not start with the ref of its paper {check['paper']} ({paper_ref})",
            f"use {paper_ref}-<number>",
        )
    if ref in seen:
        raise CatalogError(
            str(path), where, ref, f"already the ref of {seen[ref]}", "give each check its own"
        )
    seen[ref] = cid


def _papers(doc: dict) -> tuple[Paper, ...]:
    papers = [
        Paper(p["notebook"], p["ref"], _words(p["title"]), i, bool(p.get("summary")))
        for i, p in enumerate(doc["papers"])
    ]
    return tuple(sorted(papers, key=lambda p: (p.summary, p.order)))


# --- frameworks/*.yaml ------------------------------------------------------------------------


def _framework_files(shipped: Path, extra_dirs: Sequence[Path]) -> list[Path]:
    files = sorted(shipped.glob("*.yaml"))
    for folder in extra_dirs:
        if not folder.is_dir():
            raise CatalogError(
                str(folder),
                "(directory)",
                str(folder),
                "is not a directory of framework files",
                f"fix {EXTRA_FRAMEWORKS_ENV} or the extra_framework_dirs given",
            )
        files += sorted(folder.glob("*.yaml"))
    return files


def _id_pattern(doc: Any, path: Path) -> str | None:
    pattern = doc.get("id_pattern") if isinstance(doc, dict) else None
    if not isinstance(pattern, str):
        return None  # the schema reports it
    try:
        re.compile(pattern)
    except re.error as exc:
        raise CatalogError(
            str(path), "id_pattern", pattern, f"is not a regular expression: {exc}"
        ) from None
    return pattern


def _framework(path: Path, check_ids: Sequence[str]) -> Framework:
    doc = _read(path)
    _text_keys(doc, path)
    pattern = _id_pattern(doc, path)
    schema.validate(doc, schema.framework_schema(path.stem, pattern, check_ids), path)
    fid = doc["id"]
    requirements = {}
    for control, req in doc["requirements"].items():
        mappings, seen = [], set()
        for i, m in enumerate(req.get("checks", ())):
            if m["check"] in seen:
                raise CatalogError(
                    str(path),
                    schema.key_path(("requirements", control, "checks", i, "check")),
                    m["check"],
                    "check mapped twice to this requirement",
                    "keep one",
                )
            seen.add(m["check"])
            mappings.append(
                CheckMapping(
                    fid,
                    control,
                    m["check"],
                    _words(m.get("rationale", "")),
                    _words(m.get("condition", "")),
                )
            )
        requirements[control] = Requirement(
            fid,
            control,
            _words(req["title"]),
            tuple(mappings),
            _words(req.get("manual", "")),
            _words(req.get("genesys", "")),
            _words(req.get("organisation", "")),
        )
        if not requirements[control].coverage:
            raise CatalogError(
                str(path),
                schema.key_path(("requirements", control)),
                ", ".join(req),
                "states no coverage",
                f"give exactly one of {', '.join(schema.COVERAGE_KINDS)}",
            )
    scope = doc.get("scope") or {"ids": [], "description": ""}
    for i, control in enumerate(scope["ids"]):
        if control not in requirements:
            raise CatalogError(
                str(path),
                f"scope.ids[{i}]",
                control,
                "is in scope but has no row under requirements",
                "add the requirement with its coverage",
            )
    successor = None
    if "successor" in doc:
        s = doc["successor"]
        successor = Successor(
            s["framework"],
            _frozen({k: tuple(v) for k, v in s["correspondence"].items()}),
            frozenset(s.get("new", ())),
        )
    return Framework(
        fid,
        _words(doc["label"]),
        _words(doc["short"]),
        pattern,
        doc["report"],
        doc.get("order", DEFAULT_ORDER),
        _frozen(requirements),
        path,
        successor,
        tuple(scope["ids"]),
        _words(scope["description"]),
    )


def _check_successor(fw: Framework, frameworks: dict[str, Framework]) -> None:
    s = fw.successor
    target = frameworks.get(s.framework)
    if target is None:
        raise CatalogError(
            str(fw.path),
            "successor.framework",
            s.framework,
            "is not a loaded framework",
            f"use one of {', '.join(sorted(frameworks))}",
        )
    newer = re.compile(_pattern_of(target))
    places = [
        (schema.key_path(("successor", "correspondence", k, i)), v)
        for k, vs in s.correspondence.items()
        for i, v in enumerate(vs)
    ]
    places += [(f"successor.new[{i}]", v) for i, v in enumerate(sorted(s.new))]
    for where, control in places:
        if not newer.fullmatch(control):
            raise CatalogError(
                str(fw.path),
                where,
                control,
                f"does not match the id_pattern of {target.id} ({target.id_pattern})",
            )


def _pattern_of(fw: Framework) -> str:
    return f"(?:{fw.id_pattern})"


def _frameworks(
    shipped: Path, check_ids: Sequence[str], extra_dirs: Sequence[Path]
) -> dict[str, Framework]:
    frameworks: dict[str, Framework] = {}
    for path in _framework_files(shipped, extra_dirs):
        fw = _framework(path, check_ids)
        if fw.id in frameworks:
            raise CatalogError(
                str(path), "id", fw.id, f"framework already defined in {frameworks[fw.id].path}"
            )
        frameworks[fw.id] = fw
    for fw in frameworks.values():
        if fw.successor is not None:
            _check_successor(fw, frameworks)
    return dict(sorted(frameworks.items(), key=lambda kv: (kv[1].order, kv[0])))


# --- the whole catalog ------------------------------------------------------------------------


def _check_specs(doc: dict, frameworks: dict[str, Framework]) -> dict[str, CheckSpec]:
    mappings: dict[str, list[CheckMapping]] = {cid: [] for cid in doc["checks"]}
    for fw in frameworks.values():
        for req in fw.requirements.values():
            for m in req.checks:
                mappings[m.check].append(m)
    specs = {}
    for cid, c in sorted(doc["checks"].items()):
        mine = tuple(mappings[cid])
        controls = {fid: tuple(m.control for m in mine if m.framework == fid) for fid in frameworks}
        specs[cid] = CheckSpec(
            cid,
            _words(c["title"]),
            c["severity"],
            c["paper"],
            c["ref"],
            tuple(c["datasets"]),
            bool(c.get("allow_incomplete", False)),
            tuple(c.get("thresholds", ())),
            _words(c["objective"]),
            _words(c["procedure"]),
            _words(c["remediation"]),
            mine,
            _frozen(controls),
        )
    return specs


def read_catalog(root: Path = HERE, extra_framework_dirs: Iterable[Path] = ()) -> Catalog:
    """Read and validate the catalog in `root` (uncached; load_catalog() caches it)."""
    root = Path(root)
    specs, baselines, conflicts = _baselines(root / "baselines.yaml")
    doc = _checks_doc(root / "checks.yaml", specs)
    frameworks = _frameworks(
        root / "frameworks", sorted(doc["checks"]), [Path(d) for d in extra_framework_dirs]
    )
    return Catalog(
        _frozen(_check_specs(doc, frameworks)),
        _papers(doc),
        _frozen(frameworks),
        _frozen(specs),
        _frozen(baselines),
        conflicts,
    )


def extra_framework_dirs_from_env(env: dict[str, str] | None = None) -> tuple[Path, ...]:
    value = (os.environ if env is None else env).get(EXTRA_FRAMEWORKS_ENV, "")
    return tuple(Path(p) for p in value.split(os.pathsep) if p)


def load_catalog(extra_framework_dirs: Iterable[Path] | None = None) -> Catalog:
    """The shipped catalog, plus frameworks from extra_framework_dirs (default: the env var)."""
    if extra_framework_dirs is None:
        extra_framework_dirs = extra_framework_dirs_from_env()
    return _cached(tuple(Path(d).resolve() for d in extra_framework_dirs))


@functools.cache
def _cached(extra_framework_dirs: tuple[Path, ...]) -> Catalog:
    return read_catalog(HERE, extra_framework_dirs)
