"""Building blocks of the casanare.gov.co open-data section (pages, downloads, feeds, transports)."""
