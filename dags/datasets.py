"""One Airflow DAG per prioritized dataset of the catalog (include/catalog/*.yaml).

Adding a dataset is configuration only: a YAML, a GX suite and, for SQL sources, a query.
(The words "airflow" and "dag" in this docstring also let Airflow's safe-mode parser pick
the file up, since it never imports ``airflow`` directly.)
"""

from casanare.catalog import load_catalog
from casanare.factory import build_dag

for _dataset in load_catalog().priorizados:
    globals()[_dataset.slug] = build_dag(_dataset)
