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

Answers under ``MIN_LENGTH`` bytes are sent as they are (Django's own floor is 200): they fit
in one TCP segment either way, and with the padding gzip barely shortens them (a waiting-room
poll's 281 bytes came out at 274) while it costs the server and the client CPU on every one of
the thousands of polls and joins of a registration opening.
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


# About one TCP segment's payload (a 1,500-byte Ethernet frame less the IP and TCP headers).
MIN_LENGTH = 1_400


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not response.streaming and len(response.content) < MIN_LENGTH:
            return response
        content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if response.has_header("ETag") or not content_type.startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)
