-- Matrícula escolar (réplica local del SIMAT): una fila por matrícula con el municipio y la zona
-- de la sede. Carga completa anual (fuente.incremental: false), sin parámetros enlazados.
-- SQL estándar, probado en SQLite, PostgreSQL y MariaDB.
SELECT
    m.anio,
    m.id_matricula,
    m.codigo_dane_sede,
    s.nombre_sede,
    s.codigo_municipio,
    s.zona,
    m.tipo_documento,
    m.numero_documento,
    m.nombres,
    m.apellidos,
    m.fecha_nacimiento,
    m.genero AS sexo,
    m.grado,
    m.jornada,
    m.estado AS estado_matricula
FROM matricula m
JOIN sede s ON s.codigo_dane_sede = m.codigo_dane_sede
WHERE s.sector = 'Oficial'
ORDER BY m.anio, m.id_matricula
