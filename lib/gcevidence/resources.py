"""The files the package ships beside its code: the notebooks and the params templates.

They are found with importlib.resources, so an installed wheel finds its own copies wherever
it runs from; in a checkout the package's `notebooks` and `params` entries are symlinks to the
top-level folders people edit (see pyproject.toml).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped(*parts: str) -> Path:
    """A file or folder shipped inside the gcevidence package."""
    # Installed packages (wheel or editable) live on the file system, and papermill and the
    # kernels need real paths: a Traversable from a zip import would not do.
    return Path(str(resources.files("gcevidence").joinpath(*parts)))


NOTEBOOKS_DIR = shipped("notebooks")
DEMO_PARAMS = shipped("params", "demo.yaml")
EXAMPLE_PARAMS = shipped("params", "example.yaml")
