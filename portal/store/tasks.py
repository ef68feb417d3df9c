from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string

from portal import links


@shared_task(name="store.send_gift_certificate", acks_late=True)
def send_gift_certificate_task(certificate_id: int) -> bool:
    from .models import GiftCertificate

    certificate = GiftCertificate.objects.filter(pk=certificate_id, status="active").first()
    if certificate is None:
        return False
    text = render_to_string(
        "emails/gift_certificate.txt",
        {
            "certificate": certificate,
            "business": connection.tenant.name,
            "amount": f"{certificate.initial_amount / 100:.2f} {certificate.currency}",
            "url": links.url("home"),
        },
    )
    subject, _, body = text.partition("\n")
    send_mail(
        subject.removeprefix("Subject: ").strip(),
        body.strip() + "\n",
        settings.DEFAULT_FROM_EMAIL,
        [certificate.recipient_email],
    )
    return True
