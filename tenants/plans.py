"""Plans: the platform bills each business a monthly subscription through Stripe Billing on the
PLATFORM's own Stripe account (no ``Stripe-Account`` header: the business is the platform's
customer here, not a connected account charging families).

* ``subscription_start``: a Stripe Price per plan (made once, ``Plan.stripe_price_id``), a
  Customer for the business and a monthly Subscription invoiced to the owner
  (``collection_method=send_invoice``: Stripe emails each invoice with a payment page, so no card
  is collected here). Every call carries our own idempotency key; the attempt is recorded and
  committed before Stripe is called, and no row lock is held during a call.
* Webhooks on the root host's ``/webhooks/stripe`` without an ``account``
  (``customer.subscription.updated`` / ``.deleted``, ``invoice.payment_failed``) are recorded
  once (``PlatformStripeEvent``) and processed in a task that re-fetches the subscription from
  Stripe and copies its status: the latest state wins, whatever order events arrive in.
* Limits: a plan may cap active students. Over the cap a business is warned at once
  (``over_limit_since``); after the plan's ``grace_days`` new enrollments are refused with
  ``plan_student_limit_reached`` until it is back under the cap or on a bigger plan.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.network import stripe_client

from .errors import TenantNotFound
from .models import Plan, PlatformStripeEvent, Subscription, Tenant

logger = logging.getLogger(__name__)

PLATFORM_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_failed",
}
DAYS_UNTIL_DUE = 14


def billing_unavailable(message: str) -> ApplicationError:
    return ApplicationError("platform_billing_unavailable", message, status=503)


@functools.cache
def _client(key: str, base: str, version: str, retries: int) -> stripe.StripeClient:
    options: dict[str, Any] = {"stripe_version": version, "max_network_retries": retries}
    if base:
        options["base_addresses"] = {"api": base}
    return stripe_client(key, **options)


def client() -> stripe.StripeClient:
    """The platform account's Stripe client (the same key the portal's payments use, with no
    connected account)."""
    if not settings.STRIPE_SECRET_KEY:
        raise billing_unavailable("Stripe is not configured (STRIPE_SECRET_KEY): no billing.")
    if settings.STRIPE_API_BASE.startswith(("http://127.0.0.1", "http://localhost")):
        # localstripe (make demo) has no Prices and no invoiced subscriptions.
        raise billing_unavailable(
            "The local Stripe test server has no Stripe Billing; plans are billed only "
            "against Stripe itself."
        )
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_API_VERSION,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def _tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.select_related("plan").filter(schema_name=slug).first()
    if tenant is None:
        raise TenantNotFound(slug)
    return tenant


def subscription_get(*, tenant: Tenant) -> Subscription:
    subscription, _ = Subscription.objects.get_or_create(tenant=tenant)
    return subscription


def _stripe_failed(exc: stripe.StripeError) -> ApplicationError:
    logger.warning("platform billing call failed: %s", exc)
    message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    return billing_unavailable(f"Stripe refused or could not be reached: {message[:200]}")


def plan_price_ensure(*, plan: Plan) -> str:
    """The plan's monthly Price on the platform account, made the first time it is needed."""
    if plan.stripe_price_id:
        return plan.stripe_price_id
    try:
        price = client().v1.prices.create(
            params={
                "currency": plan.currency.lower(),
                "unit_amount": plan.monthly_price,
                "recurring": {"interval": "month"},
                "product_data": {"name": f"Customer portal: {plan.name}"},
                "metadata": {"plan": plan.code},
            },
            options={
                "idempotency_key": f"platform-price-{plan.code}-{plan.currency}-"
                f"{plan.monthly_price}"
            },
        )
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    Plan.objects.filter(pk=plan.pk, stripe_price_id="").update(stripe_price_id=price.id)
    plan.refresh_from_db(fields=["stripe_price_id"])
    return plan.stripe_price_id


def _period_end(obj: Any) -> datetime | None:
    """``current_period_end`` of a Stripe subscription: on the subscription in older API
    versions, on its items since 2025-03-31."""
    value = obj.get("current_period_end")
    if value is None:
        items = (obj.get("items") or {}).get("data") or []
        value = items[0].get("current_period_end") if items else None
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _plain(remote: Any) -> dict:
    """A Stripe object as a plain dict (stripe's objects refuse ``.get``)."""
    return remote.to_dict() if hasattr(remote, "to_dict") else dict(remote)


def _copy_state(subscription: Subscription, remote: Any) -> None:
    remote = _plain(remote)
    status = remote.get("status") or ""
    if status not in Subscription.Status.values:
        # incomplete_expired and paused are not plans a business may use: treat as canceled.
        status = Subscription.Status.CANCELED
    subscription.status = status
    subscription.current_period_end = _period_end(remote)
    if status in (Subscription.Status.ACTIVE, Subscription.Status.TRIALING):
        subscription.last_payment_error = ""
    subscription.updated_at = timezone.now()


def subscription_start(*, slug: str) -> Subscription:
    """Start billing a business for its plan. Idempotent: a business with a live subscription
    keeps it; one whose subscription was canceled gets a new one (a new attempt, a new key)."""
    tenant = _tenant(slug)
    if tenant.plan is None:
        raise ApplicationError(
            "plan_required", "Choose a plan for the business before billing it.", status=409
        )
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get_or_create(tenant=tenant)[0]
        live = subscription.stripe_subscription_id and subscription.status not in (
            Subscription.Status.CANCELED,
            Subscription.Status.NONE,
        )
        if live:
            return subscription
        if subscription.stripe_subscription_id:
            subscription.attempt += 1  # the canceled one stays canceled on Stripe
            subscription.stripe_subscription_id = ""
            subscription.save(update_fields=["attempt", "stripe_subscription_id"])
    price = plan_price_ensure(plan=tenant.plan)
    stripe_client = client()
    try:
        if not subscription.stripe_customer_id:
            customer = stripe_client.v1.customers.create(
                params={
                    "name": tenant.name,
                    "email": tenant.contact_email or tenant.owner_email,
                    "metadata": {"tenant": tenant.schema_name},
                },
                options={"idempotency_key": f"platform-customer-{tenant.pk}"},
            )
            Subscription.objects.filter(pk=subscription.pk).update(stripe_customer_id=customer.id)
            subscription.stripe_customer_id = customer.id
        remote = stripe_client.v1.subscriptions.create(
            params={
                "customer": subscription.stripe_customer_id,
                "items": [{"price": price}],
                "collection_method": "send_invoice",
                "days_until_due": DAYS_UNTIL_DUE,
                "metadata": {"tenant": tenant.schema_name, "plan": tenant.plan.code},
            },
            options={
                "idempotency_key": f"platform-subscription-{tenant.pk}-{subscription.attempt}"
            },
        )
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.stripe_subscription_id = remote.id
        _copy_state(subscription, remote)
        subscription.save()
    logger.info("platform subscription %s started for %s", remote.id, slug)
    return subscription


def plan_change(*, slug: str, plan_code: str) -> Tenant:
    """Move a business to another plan; a live subscription moves to the new plan's price
    (prorated by Stripe) before the plan is recorded, so both always agree."""
    tenant = _tenant(slug)
    plan = Plan.objects.filter(code=plan_code, is_active=True).first()
    if plan is None:
        message = f"“{(plan_code or '')[:40]}” is not a plan on offer."
        raise ApplicationError("plan_unknown", message, fields={"plan": [message]})
    if tenant.plan_id == plan.pk:
        return tenant
    subscription = subscription_get(tenant=tenant)
    if subscription.stripe_subscription_id and subscription.status != Subscription.Status.CANCELED:
        price = plan_price_ensure(plan=plan)
        stripe_client = client()
        try:
            remote = stripe_client.v1.subscriptions.retrieve(subscription.stripe_subscription_id)
            item_id = _plain(remote)["items"]["data"][0]["id"]
            remote = stripe_client.v1.subscriptions.update(
                subscription.stripe_subscription_id,
                params={
                    "items": [{"id": item_id, "price": price}],
                    "proration_behavior": "create_prorations",
                },
                options={
                    "idempotency_key": f"platform-plan-{tenant.pk}-{subscription.attempt}-"
                    f"{plan.code}"
                },
            )
        except stripe.StripeError as exc:
            raise _stripe_failed(exc) from exc
        with transaction.atomic():
            fresh = Subscription.objects.select_for_update().get(pk=subscription.pk)
            _copy_state(fresh, remote)
            fresh.save()
    Tenant.objects.filter(pk=tenant.pk).update(plan=plan)
    tenant.plan = plan
    return tenant


# --- webhooks -----------------------------------------------------------------------------------


def _subscription_id_of(event_type: str, obj: dict) -> str:
    if event_type.startswith("customer.subscription."):
        return str(obj.get("id") or "")
    value = obj.get("subscription")
    if not value:  # API versions since 2025-03-31 move it under parent
        parent = obj.get("parent") or {}
        value = (parent.get("subscription_details") or {}).get("subscription")
    if isinstance(value, dict):
        value = value.get("id")
    return str(value or "")


def platform_event_receive(*, event_id: str, event_type: str, obj: dict) -> dict:
    """Record a platform-account event once and process it after the commit. Answers what the
    webhook endpoint returns."""
    from kernel.tasks import enqueue_on_commit

    from .tasks import platform_event_process_task

    if event_type not in PLATFORM_EVENTS:
        return {"received": True, "ignored": "not a platform billing event"}
    subscription_id = _subscription_id_of(event_type, obj)[:64]
    message = ""
    if event_type == "invoice.payment_failed":
        number = str(obj.get("number") or obj.get("id") or "")[:40]
        message = f"Payment of invoice {number} failed."
    try:
        with transaction.atomic():
            PlatformStripeEvent.objects.create(
                event_id=event_id,
                type=event_type,
                subscription_id=subscription_id,
                note=message,
            )
            enqueue_on_commit(platform_event_process_task, event_id)
    except IntegrityError:
        return {"received": True, "duplicate": True}
    return {"received": True}


def platform_event_process(*, event_id: str) -> str:
    """Apply a recorded event: re-fetch its subscription from Stripe and copy its status.
    Safe to run twice (a processed event is skipped)."""
    event = PlatformStripeEvent.objects.filter(event_id=event_id).first()
    if event is None or event.processed_at is not None:
        return "skipped"
    subscription = Subscription.objects.filter(stripe_subscription_id=event.subscription_id).first()
    if subscription is None or not event.subscription_id:
        PlatformStripeEvent.objects.filter(pk=event.pk).update(
            processed_at=timezone.now(), error="no such subscription"
        )
        return "unknown subscription"
    try:
        remote = client().v1.subscriptions.retrieve(event.subscription_id)
    except (stripe.StripeError, ApplicationError) as exc:
        PlatformStripeEvent.objects.filter(pk=event.pk).update(error=str(exc)[:500])
        raise
    with transaction.atomic():
        fresh = Subscription.objects.select_for_update().get(pk=subscription.pk)
        _copy_state(fresh, remote)
        if event.note and fresh.status not in (
            Subscription.Status.ACTIVE,
            Subscription.Status.TRIALING,
        ):
            fresh.last_payment_error = event.note[:300]
        fresh.save()
        PlatformStripeEvent.objects.filter(pk=event.pk).update(
            processed_at=timezone.now(), error=""
        )
    return fresh.status


# --- limits and the grace period ----------------------------------------------------------------


@dataclass(frozen=True)
class PlanStanding:
    plan: Plan | None
    active_students: int
    limit: int | None
    over_since: datetime | None
    grace_ends: datetime | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.active_students > self.limit

    @property
    def at_limit(self) -> bool:
        return self.limit is not None and self.active_students >= self.limit

    @property
    def blocked(self) -> bool:
        return self.at_limit and self.grace_ends is not None and timezone.now() >= self.grace_ends


def plan_standing(*, tenant: Tenant, active_students: int) -> PlanStanding:
    """Where a business stands against its plan's student limit, recording when it went over
    (the grace period starts then) and forgetting it once back under. Writes only when that
    changes."""
    plan = tenant.plan
    limit = plan.student_limit if plan is not None else None
    subscription = subscription_get(tenant=tenant)
    over = limit is not None and active_students > limit
    if over and subscription.over_limit_since is None:
        Subscription.objects.filter(pk=subscription.pk, over_limit_since__isnull=True).update(
            over_limit_since=timezone.now()
        )
        subscription.refresh_from_db(fields=["over_limit_since"])
    elif limit is not None and active_students < limit and subscription.over_limit_since:
        Subscription.objects.filter(pk=subscription.pk).update(over_limit_since=None)
        subscription.over_limit_since = None
    since = subscription.over_limit_since
    grace_ends = since + timedelta(days=plan.grace_days) if since and plan is not None else None
    return PlanStanding(plan, active_students, limit, since, grace_ends)
