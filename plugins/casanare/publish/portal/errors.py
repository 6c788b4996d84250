"""Portal failures, each routed to whoever can fix it.

The dependencia only hears about its own data; what the portal refuses for credentials or
schema reasons goes to the platform team (``destinatario = "plataforma"``) with the portal's
own message and what to do. Throttling and 5xx are retried by the client and only surface as
:class:`~casanare.errors.PortalNoDisponible` (transient) when the retries run out.
"""

from __future__ import annotations

from casanare.errors import DatosAbiertosError


class PublicacionRechazada(DatosAbiertosError):
    """The portal refused a request (400/404/409): field names, types, ids. Retrying won't help."""

    causa = "error_interno"
    destinatario = "plataforma"


class CredencialesRechazadas(PublicacionRechazada):
    """401/403: the ``datos_gov_co`` connection's user, password or app token are wrong."""


class EsquemaIncompatible(PublicacionRechazada):
    """The catalog asks for a schema change the pipeline must not make on its own (dropping data)."""


class ReconciliacionFallida(DatosAbiertosError):
    """What the portal serves after a publish differs from what was sent.

    Transient on purpose: the publish snapshot did not advance, so the retry diffs against the
    portal's real rows and repairs the difference.
    """

    causa = "portal_no_disponible"
    transitoria = True
    destinatario = "plataforma"
