"""Ledger and order-line descriptions are stored once in English and read in the family's
language: every sentence the services write is recognised and worded again (names, amounts and
months kept); English reads exactly as stored; anything else is shown as it is."""

from __future__ import annotations

import pytest
from django.utils import translation

from portal.billing.descriptions import description_display

# What the services write (portal.enrollment.pricing, portal.orders, portal.store,
# portal.requests, portal.billing) and how a Spanish reader sees it.
SPANISH = {
    "Ninja Skills — Mia": "Ninja Skills — Mia",
    "Ninja Skills — Mia, January 2027": "Ninja Skills — Mia, enero de 2027",
    "Registration fee 2026-2027 — Mia": "Cuota de inscripción 2026-2027 — Mia",
    "Registration fee 2026-2027": "Cuota de inscripción 2026-2027",
    "Multi-class discount 10% — Ninja Skills": "Descuento por varias clases 10% — Ninja Skills",
    "Sibling discount 5% — Leo": "Descuento por hermanos 5% — Leo",
    "Payment toward your account balance": "Pago a cuenta de su saldo",
    "Gift certificate for Abuela Rosa": "Certificado de regalo para Abuela Rosa",
    "Punch pass: Ten visits": "Bono de visitas: Ten visits",
    "Drop of Mia: Ninja Skills (prorated credit)": (
        "Baja de Mia: Ninja Skills (crédito prorrateado)"
    ),
    "Transfer of Mia: Ninja Skills to Vault Club (prorated credit)": (
        "Traslado de Mia: de Ninja Skills a Vault Club (crédito prorrateado)"
    ),
    "Transfer of Mia: Ninja Skills to Vault Club (prorated difference)": (
        "Traslado de Mia: de Ninja Skills a Vault Club (diferencia prorrateada)"
    ),
    "Card payment for order 12": "Pago con tarjeta del pedido 12",
    "Paid with account credit": "Pagado con crédito de la cuenta",
    "Account credit": "Crédito a favor",
    "Paid with gift certificate …WXYZ": "Pagado con el certificado de regalo …WXYZ",
    "Gift certificate …WXYZ": "Certificado de regalo …WXYZ",
    "Refund": "Reembolso",
    "Refund: class cancelled": "Reembolso: class cancelled",
    "Autopay attempt 2 failed: Your card was declined.": (
        "Falló el intento de pago automático 2: Your card was declined."
    ),
    "Credit: Ninja Skills not approved": "Crédito: Ninja Skills no aprobada",
    "Adjustment agreed at the desk": "Adjustment agreed at the desk",
}


@pytest.mark.parametrize(("stored", "spanish"), list(SPANISH.items()))
def test_a_stored_description_reads_in_spanish(stored, spanish):
    with translation.override("es"):
        assert description_display(stored) == spanish


@pytest.mark.parametrize("stored", list(SPANISH))
def test_english_reads_exactly_as_stored(stored):
    with translation.override("en"):
        assert description_display(stored) == stored


def test_nothing_stored_reads_as_nothing():
    assert description_display("") == ""
