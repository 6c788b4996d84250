"""Make a GX Data Docs site work offline: no stylesheet, font or script from a CDN.

GX 1.x pages load Bootstrap 4, bootstrap-table, jQuery, Font Awesome and Vega from public CDNs;
on a government network without internet they render unstyled, and every page view tells
those CDNs which reports an operator opened. The pages are already rendered server-side
(tables, badges, navigation are plain HTML), so this replaces every external ``<link>`` and
``<script src>`` (and the GX logo, fetched from S3 on every view) with one inline stylesheet covering the Bootstrap classes GX uses. What is
lost are the interactive extras (table filters and Vega charts, which our suites do not draw).
"""

from __future__ import annotations

import re
from pathlib import Path

MARK = "<!-- casanare: sin recursos externos -->"
_EXTERNAL = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^>]*>|<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>"
    r"|<img\b[^>]*\bsrc=[\"']https?://[^>]*>",
    re.IGNORECASE,
)
# The subset of Bootstrap 4 the GX templates use, written for this project (no third-party code).
STYLE = """<style>
*,::after,::before{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:.95rem;line-height:1.5;color:#212529;background:#fff}
a{color:#0b4f8a}h1,h2,h3,h4,h5{margin:.6rem 0;line-height:1.2}
.container-fluid{width:100%;padding:0 15px}.row{display:flex;flex-wrap:wrap;margin:0 -15px}
.col-12,[class*="col-md-"],[class*="col-lg-"],[class*="col-sm-"]{position:relative;width:100%;padding:0 15px}
@media(min-width:768px){.col-md-2{flex:0 0 16.7%;max-width:16.7%}.col-md-3{flex:0 0 25%;max-width:25%}
.col-md-9{flex:0 0 75%;max-width:75%}.col-md-10{flex:0 0 83.3%;max-width:83.3%}.d-md-inline-flex{display:inline-flex!important}}
.table{width:100%;margin-bottom:1rem;border-collapse:collapse}.table td,.table th{padding:.3rem .5rem;border-top:1px solid #dee2e6;vertical-align:top;text-align:left}
.table-responsive{display:block;width:100%;overflow-x:auto}.table-sm td,.table-sm th{padding:.25rem}
.card{border:1px solid rgba(0,0,0,.125);border-radius:.25rem;margin-bottom:1rem;background:#fff}
.card-header{padding:.6rem 1rem;background:#f7f7f7;border-bottom:1px solid rgba(0,0,0,.125)}.card-body{padding:1rem}
.badge{display:inline-block;padding:.25em .5em;font-size:80%;font-weight:700;border-radius:.25rem;background:#6c757d;color:#fff}
.badge-success{background:#1e6b24}.badge-danger{background:#b00020}.badge-info{background:#0b4f8a}.badge-secondary{background:#6c757d}
.alert{padding:.6rem 1rem;border:1px solid transparent;border-radius:.25rem;margin-bottom:1rem}.alert-secondary{background:#e2e3e5}
.navbar{display:flex;flex-wrap:wrap;align-items:center;padding:.5rem 1rem}.navbar-brand{font-size:1.2rem;margin-right:1rem}
.nav{display:flex;flex-wrap:wrap;padding-left:0;margin:0;list-style:none}.nav-link{display:block;padding:.4rem .8rem}
.nav-pills .nav-link.active{background:#0b4f8a;color:#fff;border-radius:.25rem}
.breadcrumb-item{display:inline}.breadcrumb-item+.breadcrumb-item::before{content:" / "}
.bg-light{background:#f8f9fa!important}.sticky-top{position:sticky;top:0;z-index:10}.rounded{border-radius:.25rem}
.d-none{display:none}.float-left{float:left}.lead{font-size:1.1rem}.h-100{height:100%}
.text-success{color:#1e6b24}.text-danger{color:#b00020}.text-muted{color:#6c757d}
.collapse:not(.show){display:none}
.m-0{margin:0}.mt-0{margin-top:0}.mt-1{margin-top:.25rem}.mb-0{margin-bottom:0}.mb-1{margin-bottom:.25rem}.mb-4{margin-bottom:1.5rem}
.ml-1{margin-left:.25rem}.ml-2{margin-left:.5rem}.mr-0{margin-right:0}.mr-auto{margin-right:auto}
.p-0{padding:0}.p-1{padding:.25rem}.p-2{padding:.5rem}.px-0{padding-left:0;padding-right:0}.pt-0{padding-top:0}.pt-4{padding-top:1.5rem}
.pb-0{padding-bottom:0}.pb-1{padding-bottom:.25rem}.pb-4{padding-bottom:1.5rem}.pl-5{padding-left:3rem}.pr-5{padding-right:3rem}
</style>"""


def make_offline(page: Path) -> bool:
    """Rewrite one Data Docs page without external resources; False if it already was."""
    text = page.read_text(encoding="utf-8")
    if MARK in text:
        return False
    text = _EXTERNAL.sub("", text)
    text = text.replace("</head>", f"{MARK}\n{STYLE}\n</head>", 1)
    page.write_text(text, encoding="utf-8")
    return True


def make_site_offline(docs_dir: Path) -> int:
    """Every page of the site (pages rewritten on this run only: the others carry the mark)."""
    return sum(make_offline(page) for page in docs_dir.rglob("*.html"))
