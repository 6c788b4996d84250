"""Fase IV of the plan: freshness, use, indicators, drift, history, dashboard and quarterly report.

Plain typed functions with no Airflow import; ``dags/monitoreo_datos_abiertos.py`` wires them.
"""
