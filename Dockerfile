# Imagen de producción: Airflow oficial 3.3.2 (Python 3.11) + dependencias fijadas del proyecto.
# Construida por docker-compose.yaml (build: .). El código (dags/, plugins/, include/) se monta
# como volumen en el compose; COPY lo incluye también para poder desplegar la imagen sola.
FROM apache/airflow:3.3.2-python3.11

USER airflow
COPY --chown=airflow:root requirements.txt /tmp/requirements.txt
# apache-airflow va fijado en requirements.txt a la misma versión de la imagen, así pip no la cambia.
# s3fs (staging en MinIO/S3) y sus dependencias, verificadas compatibles con fsspec==2026.9.0.
RUN pip install --no-cache-dir -r /tmp/requirements.txt \
        s3fs==2026.9.0 aiobotocore==3.10.0 botocore==1.43.117 aiohttp==3.14.5 \
        aiohappyeyeballs==2.7.1 aioitertools==0.13.0 aiosignal==1.4.0 frozenlist==1.8.0 \
        jmespath==1.1.0 multidict==7.2.1 propcache==0.5.4 yarl==1.25.1

COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
COPY --chown=airflow:root include/ /opt/airflow/include/

ENV PYTHONPATH=/opt/airflow/plugins:/opt/airflow \
    CASANARE_INCLUDE_DIR=/opt/airflow/include \
    GX_ANALYTICS_ENABLED=false
