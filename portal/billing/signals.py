from django.dispatch import receiver

from portal.enrollment.signals import order_confirmed, order_created

from .services import apply_account_credit, ledger_record_order


@receiver(order_confirmed, dispatch_uid="billing_ledger_on_order_confirmed")
def record_order_charges(sender, order, **kwargs) -> None:
    ledger_record_order(order=order)


@receiver(order_confirmed, dispatch_uid="billing_autopay_paid")
def autopay_paid(sender, order, **kwargs) -> None:
    from .models import AutopayCharge

    AutopayCharge.objects.filter(order=order).exclude(status=AutopayCharge.Status.SUCCEEDED).update(
        status=AutopayCharge.Status.SUCCEEDED, next_attempt_at=None
    )


@receiver(order_created, dispatch_uid="billing_account_credit")
def use_account_credit(sender, order, params, **kwargs) -> None:
    if (params or {}).get("use_account_credit", True):
        apply_account_credit(order=order)
