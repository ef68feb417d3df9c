from django.dispatch import receiver

from portal.enrollment.signals import order_confirmed, order_created, order_expired

from . import services


@receiver(order_created, dispatch_uid="store_apply_gift_certificate")
def apply_gift_certificate(sender, order, params, **kwargs) -> None:
    code = (params or {}).get("gift_certificate_code")
    if code:
        services.apply_to_new_order(order=order, code=code)


@receiver(order_confirmed, dispatch_uid="store_order_confirmed")
def confirm_gift_certificates(sender, order, **kwargs) -> None:
    services.on_order_confirmed(order=order)


@receiver(order_expired, dispatch_uid="store_order_expired")
def release_gift_certificates(sender, order, **kwargs) -> None:
    services.on_order_expired(order=order)


@receiver(order_confirmed, dispatch_uid="store_punch_passes_order_confirmed")
def activate_punch_passes(sender, order, **kwargs) -> None:
    services.punch_passes_on_order_confirmed(order=order)


@receiver(order_expired, dispatch_uid="store_punch_passes_order_expired")
def void_unpaid_punch_passes(sender, order, **kwargs) -> None:
    services.punch_passes_on_order_expired(order=order)
