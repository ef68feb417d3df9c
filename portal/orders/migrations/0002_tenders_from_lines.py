"""Orders made before tenders existed paid with account credit and gift certificates through
negative lines (``account_credit``, ``gift_redemption``) that lowered their totals. Each becomes
a tender and the line goes, so an order's total is again the sum of its lines; gift certificate
uses become gift certificate tenders. Orders also get their kind, and monthly tuition invoices
(autopay) no longer lapse. Ledger entries are money history and stay as they were."""

from django.db import migrations
from django.db.models import Q

STATUS = {"awaiting_payment": "reserved", "confirmed": "used"}  # anything else: released


def forwards(apps, schema_editor):
    Order = apps.get_model("portal_enrollment", "Order")
    OrderLine = apps.get_model("portal_enrollment", "OrderLine")
    OrderTender = apps.get_model("portal_orders", "OrderTender")
    GiftCertificateUse = apps.get_model("portal_store", "GiftCertificateUse")

    Order.objects.filter(idempotency_key__startswith="autopay:").update(
        kind="tuition", expires_at=None
    )
    Order.objects.filter(
        Q(gift_certificates__isnull=False) | Q(punch_passes__isnull=False)
    ).update(kind="store")
    OrderLine.objects.filter(kind="tuition", description__startswith="Punch pass: ").update(
        kind="punch_pass"
    )
    uses = {(use.order_id, use.amount): use for use in GiftCertificateUse.objects.all()}
    for line in OrderLine.objects.filter(kind__in=["account_credit", "gift_redemption"]):
        order = Order.objects.get(pk=line.order_id)
        amount = -line.amount
        status = STATUS.get(order.status, "released")
        if line.kind == "gift_redemption":
            use = uses.pop((order.pk, amount), None)
            if use is not None:
                OrderTender.objects.create(
                    order=order,
                    kind="gift_certificate",
                    amount=amount,
                    gift_certificate_id=use.certificate_id,
                    status=use.status,
                    description=line.description,
                    created_at=use.created_at,
                )
        else:
            OrderTender.objects.create(
                order=order,
                kind="account_credit",
                amount=amount,
                status=status,
                description="Account credit",
            )
        Order.objects.filter(pk=order.pk).update(
            total=order.total + amount, discount_total=order.discount_total + amount
        )
        line.delete()
    for use in uses.values():  # a use whose line is gone: keep the record as a tender
        OrderTender.objects.create(
            order_id=use.order_id,
            kind="gift_certificate",
            amount=use.amount,
            gift_certificate_id=use.certificate_id,
            status=use.status,
            description="Gift certificate",
            created_at=use.created_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portal_orders", "0001_initial"),
        ("portal_store", "0001_initial"),
        ("portal_enrollment", "0002_order_kind_invoices"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
