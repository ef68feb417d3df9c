"""Family statements as PDF (fpdf2, no system libraries)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from .descriptions import description_display
from .models import LedgerEntry


def _money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {currency}"


# DejaVu Sans renders every character a name or a Spanish label holds (dashes, accents, "ñ");
# Debian's fonts-dejavu-core puts it here (infra/Dockerfile installs it). Without it the PDF
# falls back to the core Helvetica, which is Latin-1 only.
DEJAVU_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def _unicode_font(pdf: FPDF) -> str:
    for folder in DEJAVU_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return ""


def _text(value: str, unicode_font: bool = False) -> str:
    if unicode_font:
        return value
    # The core fonts are Latin-1; keep names readable whatever they contain.
    return value.encode("latin-1", "replace").decode("latin-1")


def statement_pdf(*, family, tenant, start: date, end: date) -> bytes:
    """Opening balance, every entry between ``start`` and ``end`` (inclusive) with a running
    balance, and the closing balance."""
    tz = tenant.zone  # the business's days, whatever zone the caller runs in
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end, time.max), tz)
    entries = LedgerEntry.objects.filter(family=family)
    opening = entries.filter(created_at__lt=since).aggregate(t=Sum("amount"))["t"] or 0
    rows = list(
        entries.filter(created_at__gte=since, created_at__lte=until).order_by("created_at", "pk")
    )
    currency = tenant.currency

    pdf = FPDF(format="Letter")
    family_font = _unicode_font(pdf)
    font = family_font or "Helvetica"

    def text(value: str) -> str:
        return _text(str(value), bool(family_font))

    # Labels and dates in the language of the request (the family's), dates in its format.
    first, last = date_format(start, "DATE_FORMAT"), date_format(end, "DATE_FORMAT")
    pdf.set_title(text(_("Statement %(start)s to %(end)s") % {"start": first, "end": last}))
    pdf.add_page()
    pdf.set_font(font, "B", 16)
    pdf.cell(0, 10, text(tenant.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 11)
    pdf.cell(
        0, 7, text(_("Statement for %(name)s") % {"name": family.name}),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.cell(
        0, 7, text(_("%(start)s to %(end)s") % {"start": first, "end": last}),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(4)
    pdf.set_font(font, "B", 10)
    widths = (28, 92, 35, 35)
    titles = (_("Date"), _("Description"), _("Amount"), _("Balance"))
    for width, title in zip(widths, titles, strict=True):
        pdf.cell(width, 8, text(title), border="B")
    pdf.ln()
    pdf.set_font(font, "", 10)
    pdf.cell(120, 7, text(_("Opening balance")))
    pdf.cell(35, 7, "")
    pdf.cell(35, 7, _money(opening, currency), new_x="LMARGIN", new_y="NEXT")
    balance = opening
    for entry in rows:
        balance += entry.amount
        day = timezone.localtime(entry.created_at, tz).date()
        pdf.cell(widths[0], 7, text(date_format(day, "SHORT_DATE_FORMAT")))
        pdf.cell(widths[1], 7, text(description_display(entry.description)[:60]))
        pdf.cell(widths[2], 7, _money(entry.amount, currency))
        pdf.cell(widths[3], 7, _money(balance, currency), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "B", 10)
    pdf.cell(155, 8, text(_("Closing balance (positive: owed)")), border="T")
    pdf.cell(35, 8, _money(balance, currency), border="T", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
