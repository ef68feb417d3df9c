"""gzip for the pages and API answers Django renders (static files come compressed from
WhiteNoise already). A class list page is ~24 KB of HTML and ~4 KB gzipped: on a phone's slow
connection that is the difference Lighthouse measures (docs/web.md, "Lighthouse").

Only text is compressed (HTML, JSON, CSS, JavaScript, XML, plain text, calendars): images,
fonts, PDFs and archives are compressed already, and gzipping a streamed file costs the server
for nothing. Answers that carry an ETag are left alone: gzip would make the validator weak
(``W/"..."``), and the views that compare ``If-None-Match`` with their own tag (/theme.css,
/embed.js, the theme tokens the app revalidates) would never answer 304 again.

BREACH: Django's GZipMiddleware pads every compressed answer with a random number of bytes
("Heal The BREACH"), and CSRF tokens are masked afresh on every page.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/problem+json",
    "image/svg+xml",
)


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if response.has_header("ETag") or not content_type.startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)
