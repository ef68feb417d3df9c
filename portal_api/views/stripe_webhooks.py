"""Stripe's webhook endpoint (``/webhooks/stripe`` on the platform's root host): the raw body
and its signature go to ``portal.billing.webhooks.stripe_event_receive``, which verifies and
records the event; this view only answers in the API's error shape."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kernel.errors import ApplicationError
from portal.billing.webhooks import stripe_event_receive


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        answer = stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as exc:
        return JsonResponse(
            {"code": exc.code, "message": exc.message, "fields": {}}, status=exc.status
        )
    return JsonResponse(answer)
