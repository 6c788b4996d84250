"""The plan's instruments built from the catalog and the platform's real state.

Registro de Activos de Información, Índice de Información Clasificada y Reservada (Ley 1712 de
2014, Decreto 103 de 2015), prioritization matrix (plan 10.2, 10.3), inventory intake (10.1),
Sello de Excelencia evidence (13) and Fase III announcements (12). Plain typed functions: the
``instrumentos`` platform DAG and the scripts only wire them.
"""
