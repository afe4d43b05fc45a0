"""Airflow tests: a throw-away AIRFLOW_HOME with SQLite, the DAG folder, tiny retry delays.

Set before anything imports Airflow, which reads its configuration on import.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(DAGS))  # the DAG file imports as `gcevidence_fleet`, as Airflow does

if not os.environ.get("AIRFLOW_HOME"):
    # Never the user's ~/airflow: a fresh home, removed at exit (make test-airflow passes its own).
    _home = tempfile.mkdtemp(prefix="gcevidence-airflow-")
    atexit.register(shutil.rmtree, _home, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = _home
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (
    f"sqlite:///{Path(os.environ['AIRFLOW_HOME']) / 'airflow.db'}"
)
# Two retries one second apart: the failing org's three tries take seconds, not hours.
os.environ["GCEVIDENCE_FLEET_RETRIES"] = "2"
os.environ["GCEVIDENCE_FLEET_RETRY_DELAY_SECONDS"] = "1"


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The metadata database, migrated once per session."""
    home = Path(os.environ["AIRFLOW_HOME"])
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run(
        [str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home
