"""The wheel is self-contained: built from a fresh clone, installed in a fresh venv, it runs the
demo from an unrelated folder and seals a pack that verifies.

It builds what is committed (a `git clone` of this checkout), so uncommitted changes are not
tested here. Minutes long: marked `wheel`, run by `make test-wheel` (and by CI after
`make test`). pip may reach the package registry for the build backend and the dependencies;
its cache makes that quick.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = (
    "gcevidence/notebooks/A09_access_control.ipynb",
    "gcevidence/notebooks/summary.ipynb",
    "gcevidence/params/demo.yaml",
    "gcevidence/params/example.yaml",
    "gcevidence/catalog/checks.yaml",
    "gcevidence/report/templates/offline/index.html.j2",
)


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 1200):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}: {done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, environment, scratch folder) with the wheel of a fresh clone installed."""
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    tmp = tmp_path_factory.mktemp("wheel")
    # Nothing from this checkout or its venv may leak into the installed copy.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        and not k.startswith("GENESYSCLOUD_")
    }
    run(["git", "clone", "--quiet", str(ROOT), str(tmp / "clone")], tmp, env)
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", "dist", str(tmp / "clone")],
        tmp,
        env,
    )
    (wheel,) = (tmp / "dist").glob("gcevidence-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    bin_dir = venv / "bin"
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], tmp, env)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return bin_dir, env, tmp, wheel


def test_wheel_holds_the_notebooks_params_and_catalog(installed):
    wheel = installed[3]
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names
    assert not [n for n in names if n.startswith(("notebooks/", "params/", "tests/"))]


def test_installed_package_is_the_wheel_not_the_checkout(installed):
    bin_dir, env, tmp, _ = installed
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    done = run(
        [str(bin_dir / "python"), "-c", "import gcevidence; print(gcevidence.__file__)"],
        elsewhere,
        env,
    )
    location = Path(done.stdout.strip())
    assert location.is_relative_to(tmp / "venv") and not location.is_relative_to(ROOT)


def test_demo_from_another_folder_seals_a_pack_that_verifies(installed):
    bin_dir, env, tmp, _ = installed
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    out = tmp / "packs"
    done = run([str(bin_dir / "gcevidence"), "demo", "--out", str(out), "--no-pdf"], elsewhere, env)
    index = Path(done.stdout.strip().splitlines()[-1])
    assert index.name == "index.html" and index.parent.parent.parent == out
    assert "pack sealed" in done.stderr
    pack = index.parent
    for name in ("A09_access_control.html", "summary.ipynb", "findings.json", "params.yaml"):
        assert (pack / name).is_file(), name
    verified = run([str(bin_dir / "gcevidence"), "verify", str(pack)], elsewhere, env)
    assert verified.stdout.splitlines()[-1].startswith("OK: ")
    assert not (elsewhere / "output").exists()  # --out was honoured; nothing written here
