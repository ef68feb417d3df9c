"""Family statements as PDF (fpdf2, no system libraries)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Sum
from django.utils import timezone
from fpdf import FPDF

from .models import LedgerEntry


def _money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {currency}"


def _text(value: str) -> str:
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
    pdf.set_title(f"Statement {start} to {end}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(tenant.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _text(f"Statement for {family.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"{start:%B %-d, %Y} to {end:%B %-d, %Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    widths = (28, 92, 35, 35)
    for width, title in zip(widths, ("Date", "Description", "Amount", "Balance"), strict=True):
        pdf.cell(width, 8, title, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(120, 7, "Opening balance")
    pdf.cell(35, 7, "")
    pdf.cell(35, 7, _money(opening, currency), new_x="LMARGIN", new_y="NEXT")
    balance = opening
    for entry in rows:
        balance += entry.amount
        pdf.cell(widths[0], 7, timezone.localtime(entry.created_at, tz).strftime("%Y-%m-%d"))
        pdf.cell(widths[1], 7, _text(entry.description[:60]))
        pdf.cell(widths[2], 7, _money(entry.amount, currency))
        pdf.cell(widths[3], 7, _money(balance, currency), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(155, 8, "Closing balance (positive: owed)", border="T")
    pdf.cell(35, 8, _money(balance, currency), border="T", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
