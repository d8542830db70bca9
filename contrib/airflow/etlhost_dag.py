"""etlhost in Airflow: one DAG, one task per Mode workspace (docs/deploy.md).

The shape OpenMetadata gives its own ingestion DAGs: a task runs one workflow, so a workspace
that fails is retried alone and the others' runs stand. Each task runs
`etlhost run /etc/etlhost/mode-<workspace>.yaml`; the workflow file reads the workspace's token
from the environment (${MODE_TOKEN}, ${MODE_SECRET}), which the task takes from the Airflow
Variables etlhost_<workspace>_token and etlhost_<workspace>_secret, so no secret is written in
this file or shown in a command line.

Where the catalog and state live matters with several workers: a SQLite catalog is a file on
the worker that ran the task, so all etlhost tasks go to one worker (queue "etlhost") until the
catalog and state are in PostgreSQL (the postgres sink); then any worker may run any task.

Without Airflow the module still imports (plain `python3 etlhost_dag.py` prints the tasks):
the task list is plain data, and the DAG is built only when Airflow is importable.
"""

import datetime
import os
import shlex

try:
    from airflow import DAG
    from airflow.operators.bash import BashOperator
except ImportError:  # no Airflow: keep the plan, build no DAG
    DAG = None
    BashOperator = None

ETLHOST = os.environ.get("ETLHOST_BIN", "/usr/bin/etlhost")
WORKFLOW_DIR = os.environ.get("ETLHOST_WORKFLOW_DIR", "/etc/etlhost")
# One entry per Mode workspace; each has its own workflow file and its own rate limit at Mode.
WORKSPACES = ["acme", "acme-eu", "sandbox"]


def task_id(workspace):
    """The Airflow task id of a workspace (Airflow allows letters, digits, - _ .)."""
    return "mode_" + "".join(c if c.isalnum() or c in "-_." else "_" for c in workspace)


def command(workspace):
    """The shell command the task runs. etlhost's exit status is the task's: 0 success,
    1 some records or a source failed, 2 configuration, 3 connection or authentication,
    130 stopped (docs/etlhost.md)."""
    workflow = os.path.join(WORKFLOW_DIR, "mode-%s.yaml" % workspace)
    return "%s run %s" % (shlex.quote(ETLHOST), shlex.quote(workflow))


def secret_env(workspace):
    """The task's environment: Jinja templates Airflow fills from its Variables at run time,
    so the secret is fetched when the task runs, not when the DAG file is parsed."""
    key = "etlhost_%s" % workspace.replace("-", "_")
    return {
        "MODE_TOKEN": "{{ var.value.%s_token }}" % key,
        "MODE_SECRET": "{{ var.value.%s_secret }}" % key,
    }


def tasks():
    """(task_id, command, env) for every workspace: what the DAG runs, testable without Airflow."""
    return [(task_id(w), command(w), secret_env(w)) for w in WORKSPACES]


dag = None
if DAG is not None:
    dag = DAG(
        dag_id="etlhost_mode",
        schedule="@hourly",
        start_date=datetime.datetime(2026, 1, 1),
        catchup=False,
        # One run of the DAG at a time: two runs of the same workflow at once would wait on the
        # catalog's lock and then fail (docs/deploy.md, "Two schedulers").
        max_active_runs=1,
        default_args={
            "retries": 2,
            "retry_delay": datetime.timedelta(minutes=5),
            # SQLite catalog: one worker (see above). Drop this with PostgreSQL.
            "queue": "etlhost",
            "execution_timeout": datetime.timedelta(hours=2),
        },
        tags=["etlhost", "mode"],
    )
    for tid, cmd, env in tasks():
        BashOperator(task_id=tid, bash_command=cmd, env=env, append_env=True, dag=dag)


if __name__ == "__main__":
    for tid, cmd, _ in tasks():
        print("%s: %s" % (tid, cmd))
