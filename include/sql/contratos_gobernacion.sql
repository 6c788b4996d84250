-- Contratos de la Gobernación (réplica local de SECOP): carga incremental por fecha_actualizacion.
--
-- Parámetros enlazados (siempre los dos, nunca nulos; en este comentario se escriben sin los dos
-- puntos porque text() de SQLAlchemy también los reconocería aquí):
--   desde  inicio del intervalo, inclusive.
--   hasta  fin del intervalo, exclusivo.
-- Para una carga completa el llamador pasa desde = 1900-01-01 00.00.00 y hasta = el fin del
-- intervalo de la corrida (o 9999-12-31). Se evita "desde IS NULL OR ..." porque PostgreSQL no
-- puede inferir el tipo de un parámetro nulo y cada motor compara el nulo de forma distinta.
-- fecha_actualizacion se guarda como fecha y hora sin zona (TIMESTAMP / DATETIME; texto ISO
-- "AAAA-MM-DD HH.MM.SS" en SQLite) y se compara con el intervalo de la corrida en UTC. Los datos
-- sintéticos marcan las novedades recientes con la hora de pared de Bogotá, que nunca es posterior
-- a la hora UTC: una corrida de hoy siempre encuentra filas.
SELECT
    c.numero_contrato,
    c.tipo_documento_contratista,
    c.documento_contratista,
    c.nombre_contratista,
    c.objeto,
    c.valor,
    c.fecha_firma,
    c.plazo_dias,
    c.estado,
    c.modalidad,
    c.dependencia,
    c.codigo_municipio,
    c.fecha_actualizacion
FROM contrato c
WHERE c.fecha_actualizacion >= :desde
  AND c.fecha_actualizacion < :hasta
ORDER BY c.fecha_actualizacion, c.numero_contrato
