"""Internal modules of the SODA portal stand-in (see ``standins.soda_portal``)."""
