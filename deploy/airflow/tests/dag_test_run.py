"""Run the fleet DAG once with Airflow's dag.test(); print its task instances as JSON, last.

A child process of the tests, so that every line Airflow and the tasks log can be searched for
secrets. Usage: dag_test_run.py CONF_JSON CONNECTIONS_FILE VARIABLES_FILE
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gcevidence_fleet  # noqa: E402 - the DAG file, from the folder above

MARKER = "DAG-TEST-RESULT "


def main(conf: str, connections: str, variables: str) -> int:
    dr = gcevidence_fleet.fleet_dag.test(
        run_conf=json.loads(conf), conn_file_path=connections, variable_file_path=variables
    )
    tis = [
        {
            "task_id": ti.task_id,
            "map_index": ti.map_index,
            "rendered_map_index": ti.rendered_map_index,
            "state": None if ti.state is None else str(getattr(ti.state, "value", ti.state)),
            "try_number": ti.try_number,
        }
        for ti in dr.get_task_instances()
    ]
    state = str(getattr(dr.state, "value", dr.state))
    print(MARKER + json.dumps({"run_id": dr.run_id, "state": state, "tis": tis}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
