"""Task logs of ``airflow dags test`` runs, filed where the Airflow UI reads task logs.

``dags test`` runs every task in its own process and prints all their logs to one stream, so
the UI of ``make up`` would show "no logs" for the runs ``make run`` made. Each task's part of
that stream (between ``[DAG TEST] starting task_id=…`` and ``[DAG TEST] end task task_id=…``)
is written to ``<base_log_folder>/dag_id=…/run_id=…/task_id=…/attempt=N.log``, the default
``log_filename_template`` the UI's file task handler opens.
"""

from __future__ import annotations

import re
from pathlib import Path

_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<map>-?\d+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+)")
_RUN = re.compile(r"<TaskInstance: (?P<dag>[^.\s]+)\.(?P<task>\S+) (?P<run>\S+) \[")


def split_test_log(text: str, base_folder: Path) -> list[Path]:
    """Write each task's lines of a ``dags test`` output to its UI log file; return the files."""
    written: list[Path] = []
    attempts: dict[str, int] = {}
    task = None
    lines: list[str] = []
    dag = run = None
    for line in text.splitlines(keepends=True):
        if (m := _START.search(line)) and task is None:
            task, lines = m.group("task"), [line]
            continue
        if task is None:
            continue
        lines.append(line)
        if (m := _RUN.search(line)) and m.group("task") == task and run is None:
            dag, run = m.group("dag"), m.group("run")
        if (m := _END.search(line)) and m.group("task") == task:
            if dag and run:
                attempts[task] = attempts.get(task, 0) + 1
                path = base_folder / f"dag_id={dag}" / f"run_id={run}" / f"task_id={task}" / \
                    f"attempt={attempts[task]}.log"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("".join(lines), encoding="utf-8")
                written.append(path)
            task, run, lines = None, None, []
    return written
