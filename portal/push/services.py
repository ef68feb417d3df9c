"""Push notifications: devices, messages decided in a transaction, sending with no lock held.

How a notification travels:

1. ``push_family`` is called inside the transaction that makes the change (next to the family
   email, in ``portal.enrollment.notifications.notify_family``). For the events a phone should
   hear about it writes one PushMessage per device of the family's guardians, in each device's
   language: the rows are the push's outbox, committed with the change or not at all. After
   commit it enqueues ``push.send``.
2. ``push.send`` claims those messages, calls the push service (Expo) with no transaction open,
   then records each ticket. Tokens Expo calls gone are removed.
3. ``push.receipts`` (beat) asks Expo for the receipts of sent messages later, and
   ``push.relay`` (beat) resends what a lost task left queued.

Announcements are pushed by ``push.announcements`` (beat, and on save in the admin) once each,
to the families of their audience."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import errors, messages
from .gateway import GONE, PushOut, PushUnavailable, push_service
from .models import PushBroadcast, PushDevice, PushMessage

logger = logging.getLogger(__name__)

# Family emails that also go to the family's phones (waitlist offers, hold-expiry warnings,
# request decisions, autopay failures); announcements have their own path below.
PUSH_EVENTS = frozenset({"waitlist_offer", "hold_expiring", "request_update", "autopay_failed"})
TOKEN_RE = re.compile(r"^(ExponentPushToken|ExpoPushToken)\[[A-Za-z0-9_\-]{10,150}\]$")
MAX_SEND_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=10)
RECEIPTS_GIVE_UP_AFTER = timedelta(hours=24)
ANNOUNCEMENT_FRESH_FOR = timedelta(hours=24)


# --- devices ---------------------------------------------------------------------------------


def device_register(
    *,
    guardian,
    token: str,
    platform: str,
    app_id: str = "",
    device_name: str = "",
    locale: str = "en",
) -> PushDevice:
    """Register (or refresh) this app's push token for the signed-in guardian. A token already
    known moves to this guardian: the phone now belongs to whoever signed in last."""
    token = (token or "").strip()
    if not TOKEN_RE.match(token):
        raise errors.push_token_invalid()
    if platform not in PushDevice.Platform.values:
        raise errors.platform_invalid(platform)
    now = timezone.now()
    fields = {
        "guardian": guardian,
        "platform": platform,
        "app_id": app_id[:200],
        "device_name": device_name[:100],
        "locale": messages.language(locale),
        "last_seen_at": now,
    }
    with transaction.atomic():
        device, created = PushDevice.objects.select_for_update().get_or_create(
            token=token, defaults={**fields, "created_at": now}
        )
        if not created:
            for name, value in fields.items():
                setattr(device, name, value)
            device.save(update_fields=[*fields])
    return device


def device_remove(*, guardian, device_id: int) -> None:
    """Forget one of this guardian's devices (the app does it on sign-out)."""
    deleted, _ = PushDevice.objects.filter(pk=device_id, guardian=guardian).delete()
    if not deleted:
        raise errors.device_not_found()


def device_list(*, guardian):
    return PushDevice.objects.filter(guardian=guardian)


# --- deciding what to send (inside transactions) ---------------------------------------------


def push_family(family_id: int, event: str, context: dict) -> list[int]:
    """Call inside the transaction that decided a family notification: for the events a phone
    should hear about, writes one message per device of the family's active guardians (in each
    device's language). The rows commit with the change or not at all (they are the push's
    outbox) and are sent after commit; no network here."""
    if event not in PUSH_EVENTS:
        return []
    if event == "request_update" and context.get("status") not in ("approved", "denied"):
        return []  # a request received or cancelled by the family itself: no push
    devices = list(
        PushDevice.objects.filter(guardian__family_id=family_id, guardian__user__is_active=True)
    )
    if not devices:
        return []
    return _messages_write(
        family_ids={d.pk: family_id for d in devices},
        devices=devices,
        event=event,
        key=f"{event}:{uuid.uuid4().hex}",
        render=lambda device: messages.render(event, context, device.locale),
        data={"event": event, "screen": messages.SCREENS[event]},
    )


def _messages_write(*, family_ids, devices, event, key, render, data) -> list[int]:
    rows = []
    for device in devices:
        title, body = render(device)
        rows.append(
            PushMessage(
                device=device,
                family_id=family_ids[device.pk],
                event=event,
                event_key=key,
                title=title,
                body=body,
                data={**data, "tenant": connection.schema_name},
            )
        )
    with transaction.atomic():
        PushMessage.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            PushMessage.objects.filter(
                event_key=key, status=PushMessage.Status.QUEUED, device__in=devices
            ).values_list("pk", flat=True)
        )
        if ids:
            _send_on_commit(ids)
    return ids


def _send_on_commit(ids: list[int]) -> None:
    from .tasks import push_send_task

    def publish() -> None:
        try:
            push_send_task.delay(ids)
        except Exception as exc:  # the broker is down: push.relay sends them later
            logger.warning("push: could not enqueue %s messages: %s", len(ids), exc)

    transaction.on_commit(publish)


# --- sending (no lock held while the service is called) --------------------------------------


def push_send(*, message_ids: list[int] | None = None) -> dict[str, int]:
    """Send queued messages (these, or every queued one). Safe to run twice: a message is
    claimed (queued -> sending) before the call, so a second run finds nothing to send."""
    queued = PushMessage.objects.filter(status=PushMessage.Status.QUEUED, device__isnull=False)
    if message_ids is not None:
        queued = queued.filter(pk__in=message_ids)
    with transaction.atomic():
        claim = list(
            queued.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
        )[:1000]
        PushMessage.objects.filter(pk__in=claim).update(
            status=PushMessage.Status.SENDING, sent_at=timezone.now()
        )
    if not claim:
        return {"sent": 0, "failed": 0, "retry": 0}
    batch = list(PushMessage.objects.filter(pk__in=claim).select_related("device").order_by("pk"))
    out = [PushOut(to=m.device.token, title=m.title, body=m.body, data=m.data) for m in batch]
    try:
        tickets = push_service().send(out)  # the network call: no transaction is open
    except PushUnavailable as exc:
        logger.warning("push: service unavailable in %s: %s", connection.schema_name, exc)
        _send_failed(batch, str(exc))
        return {"sent": 0, "failed": 0, "retry": len(batch)}
    sent = failed = 0
    gone_devices = set()
    with transaction.atomic():
        for message, ticket in zip(batch, tickets, strict=True):
            if ticket.status == "ok":
                message.status = PushMessage.Status.SENT
                message.ticket_id = ticket.id
                sent += 1
            else:
                message.status = PushMessage.Status.FAILED
                message.error = (ticket.error or ticket.message)[:300]
                failed += 1
                if ticket.error == GONE:
                    gone_devices.add(message.device_id)
            message.attempts += 1
            message.sent_at = timezone.now()
            message.save(update_fields=["status", "ticket_id", "error", "attempts", "sent_at"])
        if gone_devices:
            PushDevice.objects.filter(pk__in=gone_devices).delete()
    return {"sent": sent, "failed": failed, "retry": 0}


def _send_failed(batch: list[PushMessage], error: str) -> None:
    with transaction.atomic():
        for message in batch:
            message.attempts += 1
            message.error = error[:300]
            message.status = (
                PushMessage.Status.FAILED
                if message.attempts >= MAX_SEND_ATTEMPTS
                else PushMessage.Status.QUEUED
            )
            message.save(update_fields=["attempts", "error", "status"])


def push_relay() -> int:
    """Beat: messages a lost task left queued, or a dead worker left sending, go out again."""
    now = timezone.now()
    PushMessage.objects.filter(
        status=PushMessage.Status.SENDING, sent_at__lt=now - STUCK_AFTER
    ).update(status=PushMessage.Status.QUEUED)
    due = PushMessage.objects.filter(
        status=PushMessage.Status.QUEUED, created_at__lt=now - timedelta(seconds=30)
    )
    if not due.exists():
        return 0
    return push_send()["sent"]


def push_receipts_check() -> dict[str, int]:
    """Beat: Expo's receipts of messages sent at least PUSH_RECEIPT_DELAY seconds ago. An error
    fails the message; DeviceNotRegistered also removes the device."""
    now = timezone.now()
    waiting = PushMessage.objects.filter(
        status=PushMessage.Status.SENT,
        checked_at__isnull=True,
        sent_at__lte=now - timedelta(seconds=settings.PUSH_RECEIPT_DELAY),
    ).exclude(ticket_id="")
    batch = list(waiting.order_by("pk")[:1000])
    if not batch:
        return {"delivered": 0, "failed": 0}
    try:
        receipts = push_service().receipts([m.ticket_id for m in batch])
    except PushUnavailable as exc:
        logger.warning("push: receipts unavailable in %s: %s", connection.schema_name, exc)
        return {"delivered": 0, "failed": 0}
    delivered = failed = 0
    gone_devices = set()
    with transaction.atomic():
        for message in batch:
            receipt = receipts.get(message.ticket_id)
            if receipt is None:
                if message.sent_at < now - RECEIPTS_GIVE_UP_AFTER:
                    message.checked_at = now  # Expo keeps receipts a day; stop asking
                    message.save(update_fields=["checked_at"])
                continue
            message.checked_at = now
            if receipt.status == "ok":
                message.status = PushMessage.Status.DELIVERED
                delivered += 1
            else:
                message.status = PushMessage.Status.FAILED
                message.error = (receipt.error or receipt.message)[:300]
                failed += 1
                if receipt.error == GONE:
                    gone_devices.add(message.device_id)
            message.save(update_fields=["checked_at", "status", "error"])
        if gone_devices:
            PushDevice.objects.filter(pk__in=gone_devices).delete()
    return {"delivered": delivered, "failed": failed}


# --- announcements ---------------------------------------------------------------------------


def announcement_audience_devices(announcement) -> list[PushDevice]:
    """Devices of the families an announcement is for (its audience, as the portal shows it)."""
    from portal.config.models import Announcement

    devices = PushDevice.objects.filter(
        guardian__user__is_active=True, guardian__family__status="active"
    ).select_related("guardian")
    if announcement.audience == Announcement.Audience.PROGRAMS:
        program_ids = list(announcement.programs.values_list("pk", flat=True))
        devices = devices.filter(
            Q(
                guardian__family__enrollments__offering__program_id__in=program_ids,
                guardian__family__enrollments__status__in=("active", "pending", "reserved"),
            )
            | Q(guardian__family__students__level__program_id__in=program_ids)
        ).distinct()
    return list(devices)


def announcements_push_due() -> int:
    """Push each announcement once, when it comes into effect (announcements that started more
    than a day ago are never pushed late). Returns how many were pushed."""
    from portal.config.models import Announcement

    now = timezone.now()
    fresh = now - ANNOUNCEMENT_FRESH_FOR
    due = (
        Announcement.objects.in_effect(now)
        .filter(push_broadcast__isnull=True)
        .filter(Q(starts_at__gte=fresh) | Q(starts_at__isnull=True, created_at__gte=fresh))
    )
    pushed = 0
    for announcement in due:
        try:
            with transaction.atomic():
                broadcast = PushBroadcast.objects.create(announcement=announcement)
                devices = announcement_audience_devices(announcement)
                title = announcement.title[:200]
                body = (announcement.body or announcement.title)[:300]
                _messages_write(
                    family_ids={d.pk: d.guardian.family_id for d in devices},
                    devices=devices,
                    event="announcement",
                    key=f"announcement:{announcement.pk}",
                    render=lambda device, t=title, b=body: (t, b),
                    data={
                        "event": "announcement",
                        "screen": messages.SCREENS["announcement"],
                        "announcement": announcement.pk,
                    },
                )
                broadcast.recipients = len(devices)
                broadcast.save(update_fields=["recipients"])
        except IntegrityError:
            continue  # another run pushed it
        pushed += 1
    return pushed
