"""Plataforma de datos abiertos de la Gobernación de Casanare.

Stages (extract, privacy, quality, publish) are plain typed functions with no Airflow import;
``factory`` and ``tasks`` are the only modules that know Airflow.
"""
