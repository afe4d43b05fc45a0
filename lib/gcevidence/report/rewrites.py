"""Every rewrite of an executed notebook on its way into the pack, declared in one place.

As in nbconvert itself, each rewrite is one small Preprocessor with one job, and exporters
apply them. `STEPS` says which exporter applies which step: the NotebookExporter writes the
record (the executed .ipynb the pack keeps), the HTMLExporter the rendered copy. `config()`
holds every setting of those steps and exporters; the callers only name the copy they want.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbconvert import HTMLExporter, NotebookExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from traitlets import Dict, Unicode
from traitlets.config import Config

TEMPLATES = Path(__file__).parent / "templates"
PARAMETER_TAGS = ("parameters", "injected-parameters")


class PackRelativePreprocessor(Preprocessor):
    """Papermill's injected parameters and metadata, and every build path, made pack-relative.

    They hold only the run folder and params paths (never credentials: those stay in the
    environment), but absolute build paths would be wrong after the pack is renamed and would
    leak machine paths; relative ones make the executed notebook re-runnable from the pack.
    """

    build_dir = Unicode("", help="absolute folder the notebook was executed into").tag(config=True)
    parameters = Dict(help="the injected parameters as the pack's copy states them").tag(
        config=True
    )

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = resources.get("metadata", {}).get("name", "")
        for cell in nb.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.source = "# Parameters injected by papermill (relative to the pack folder)\n"
                cell.source += "\n".join(
                    f"{k} = {json.dumps(v)}" for k, v in self.parameters.items()
                )
        meta = nb.metadata.get("papermill", {})
        meta["parameters"] = dict(self.parameters)
        meta["input_path"] = f"notebooks/{name}.ipynb"
        meta["output_path"] = f"{name}.ipynb"
        meta.pop("environment_variables", None)
        if self.build_dir:
            # Outputs too (tracebacks, printed paths) may name the build folder.
            nb = _replaced(nb, self.build_dir, ".")
        return nb, resources


def _replaced(node: Any, old: str, new: str) -> Any:
    """`node` with `old` replaced by `new` in every string it holds (keys are left alone)."""
    if isinstance(node, str):
        return node.replace(old, new)
    if isinstance(node, list):
        return [_replaced(v, old, new) for v in node]
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _replaced(value, old, new)
    return node


# Which exporter applies which rewrite, in order.
STEPS: tuple[tuple[type, tuple[type[Preprocessor], ...]], ...] = (
    (NotebookExporter, (PackRelativePreprocessor,)),  # the record the pack keeps
    (HTMLExporter, (TagRemovePreprocessor,)),  # the rendered copy: parameter cells dropped
)


def config(build_dir: Path | None = None, parameters: Mapping[str, str] | None = None) -> Config:
    """The settings of every step and exporter (the build folder and parameters of one run)."""
    cfg = Config()
    for exporter, steps in STEPS:
        cfg[exporter.__name__].preprocessors = list(steps)
    cfg.PackRelativePreprocessor.build_dir = str(build_dir or "")
    cfg.PackRelativePreprocessor.parameters = dict(parameters or {})
    cfg.TagRemovePreprocessor.remove_cell_tags = set(PARAMETER_TAGS)
    # The HTML copy: no code, no prompts, images inline, a template that fetches nothing.
    cfg.HTMLExporter.exclude_input = True
    cfg.HTMLExporter.exclude_input_prompt = True
    cfg.HTMLExporter.exclude_output_prompt = True
    cfg.HTMLExporter.embed_images = True
    cfg.HTMLExporter.template_name = "offline"
    cfg.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    return cfg


def html_exporter() -> HTMLExporter:
    """The exporter of the HTML copy, with its steps."""
    return HTMLExporter(config=config())


def rewrite_record(path: Path, build_dir: Path, parameters: Mapping[str, str]) -> Path:
    """Apply the record's steps to an executed notebook in place."""
    exporter = NotebookExporter(config=config(build_dir, parameters))
    text, _ = exporter.from_filename(str(path))
    path.write_text(text, encoding="utf-8")
    return path
