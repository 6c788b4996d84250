"""Publish stage: datos.gov.co (Socrata) and the casanare.gov.co open-data section."""
