"""The migration that turns the old negative lines (account credit, gift redemptions) and gift
certificate uses into tenders: run backwards to the old shape inside the test's transaction,
fill in old-style orders, run forwards, and check the orders' money (rolled back afterwards)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db

BEFORE = [("portal_orders", "0001_initial"), ("portal_store", "0001_initial")]


# Runs Django's migration executor back to an old state and forward again over the live schema
# (the DDL of every migration in between, and the project state rendered twice): the slowest
# tests of the fast loop, and about a migration that ran once; `make test` and CI run it.
@pytest.mark.integration
def test_old_credit_and_gift_lines_become_tenders(in_tenant_a):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    old = executor.loader.project_state(BEFORE).apps
    Family = old.get_model("portal_accounts", "Family")
    Order = old.get_model("portal_enrollment", "Order")
    OrderLine = old.get_model("portal_enrollment", "OrderLine")
    GiftCertificate = old.get_model("portal_store", "GiftCertificate")
    GiftCertificateUse = old.get_model("portal_store", "GiftCertificateUse")

    family = Family.objects.create(name="Old times")
    gift = GiftCertificate.objects.create(
        code="AAAA-BBBB-CCCC-DDDD",
        initial_amount=5000,
        balance=0,
        currency="USD",
        recipient_name="R",
        recipient_email="r@example.com",
    )

    def old_order(status: str, key: str) -> object:
        # 120.00 of tuition, 50.00 from the certificate and 25.00 of credit, the old way:
        # negative lines, with the total and the discounts lowered by them.
        order = Order.objects.create(
            family=family,
            status=status,
            currency="USD",
            subtotal=12000,
            discount_total=-7500,
            total=4500,
            idempotency_key=key,
            expires_at="2026-01-01T00:00:00Z",
        )
        OrderLine.objects.create(order=order, kind="tuition", description="Gym", amount=12000)
        OrderLine.objects.create(
            order=order, kind="gift_redemption", description="Gift certificate …DDDD", amount=-5000
        )
        OrderLine.objects.create(
            order=order, kind="account_credit", description="Account credit", amount=-2500
        )
        return order

    paid = old_order("confirmed", "cart:1")
    lapsed = old_order("expired", "cart:2")
    GiftCertificateUse.objects.create(certificate=gift, order=paid, amount=5000, status="used")
    GiftCertificateUse.objects.create(
        certificate=gift, order=lapsed, amount=5000, status="released"
    )
    monthly = Order.objects.create(
        family=family,
        currency="USD",
        subtotal=9500,
        total=9500,
        idempotency_key="autopay:2026-01",
        expires_at="2026-02-01T00:00:00Z",
    )

    with connection.cursor() as cursor:  # check the rows now, so the old table can be dropped
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from portal.enrollment.models import Order as NewOrder
    from portal.orders.models import OrderTender
    from portal.orders.tenders import amount_due

    for pk, tender_status in ((paid.pk, "used"), (lapsed.pk, "released")):
        order = NewOrder.objects.get(pk=pk)
        assert (order.subtotal, order.discount_total, order.total) == (12000, 0, 12000)
        assert list(order.lines.values_list("kind", "amount")) == [("tuition", 12000)]
        tenders = OrderTender.objects.filter(order=order).order_by("kind")
        assert [(t.kind, t.amount) for t in tenders] == [
            ("account_credit", 2500),
            ("gift_certificate", 5000),
        ]
        assert {t.status for t in tenders} == {tender_status}
        assert tenders.get(kind="gift_certificate").gift_certificate_id == gift.pk
    assert amount_due(NewOrder.objects.get(pk=paid.pk)) == 4500  # what the card paid then
    invoice = NewOrder.objects.get(pk=monthly.pk)
    assert (invoice.kind, invoice.expires_at) == ("tuition", None)
