"""pyproject.toml and environment.yml must list the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Conda-forge spells a few packages differently from PyPI.
CONDA_NAMES = {"moto[server]": "moto"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ ;]", spec.strip(), maxsplit=1)[0].lower()


def test_pyproject_and_environment_list_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(s) for s in project["dependencies"]}
    pip_names |= {_name(s) for s in project["optional-dependencies"]["test"]}
    pip_names = {CONDA_NAMES.get(n, n) for n in pip_names}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda_names |= {_name(s) for s in dep["pip"] if not s.startswith("-e")}
        else:
            conda_names.add(_name(dep))
    conda_names -= {"python", "pip"}
    assert pip_names == conda_names
