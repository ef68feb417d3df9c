"""Each family event the app hears about produces a push through the fake push service; sending
happens after commit, records Expo's tickets and receipts, and forgets devices Expo calls
gone."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.notifications import notify_family
from portal.enrollment.services.cart import warn_expiring_holds
from portal.push.gateway import fake_push
from portal.push.models import PushBroadcast, PushDevice, PushMessage
from portal.push.services import announcements_push_due, push_receipts_check, push_relay
from portal.push.tasks import push_send_task
from tests.factories import AnnouncementFactory, ProgramFactory
from tests.portal.enrollment_helpers import make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db
TOKEN = "ExponentPushToken[aaaaaaaaaaaaaaaaaaaaaa]"


@pytest.fixture(autouse=True)
def _fresh_fake():
    fake_push.reset()
    yield
    fake_push.reset()


@pytest.fixture
def phone(family_a):
    connection.set_tenant(family_a.tenant)
    return PushDevice.objects.create(guardian=family_a.guardian, token=TOKEN, platform="ios")


def sent_to(token=TOKEN):
    return [m for m in fake_push.sent if m.to == token]


def test_a_waitlist_offer_is_pushed(family_a, phone, django_capture_on_commit_callbacks):
    offering = make_offering(capacity=1, name="Rec Gym")
    holder, kid = make_family("first@alpha.test")
    hold = services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    services.waitlist_join(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    assert fake_push.sent == []
    with django_capture_on_commit_callbacks(execute=True):
        services.cart_remove(family=holder, hold_id=hold.pk)
    (push,) = sent_to()
    assert push.title == "A seat opened in Rec Gym"
    assert push.body.startswith("It is held for Mia until ")
    assert push.data == {"event": "waitlist_offer", "screen": "Waitlist", "tenant": "alpha"}
    message = PushMessage.objects.get()
    assert (message.status, message.ticket_id, message.attempts) == ("sent", "fake-1", 1)


def test_a_hold_about_to_expire_is_pushed_in_the_devices_language(
    family_a, phone, django_capture_on_commit_callbacks
):
    PushDevice.objects.filter(pk=phone.pk).update(locale="es")
    offering = make_offering(name="Ninja")
    hold = services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    type(hold).objects.filter(pk=hold.pk).update(expires_at=timezone.now() + timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert warn_expiring_holds() == 1
    (push,) = sent_to()
    assert push.title == "Tu carrito está por vencer"
    assert "Ninja para Mia" in push.body and push.data["screen"] == "Cart"
    with django_capture_on_commit_callbacks(execute=True):
        assert warn_expiring_holds() == 0  # once per hold
    assert len(fake_push.sent) == 1


def test_request_decisions_are_pushed_but_not_the_familys_own_submission(
    family_a, phone, django_capture_on_commit_callbacks
):
    from portal.orders import services as orders
    from portal.requests import services as requests

    portal_settings_update(absences_auto_approve=False)
    offering = make_offering(name="Rec Gym", start_date=next_weekday(0, after_days=1))
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    orders.order_confirm(order_id=orders.checkout(family=family_a.family).pk)
    enrollment = family_a.family.enrollments.get()
    with django_capture_on_commit_callbacks(execute=True):
        req = requests.absence_request(
            family=family_a.family,
            enrollment_id=enrollment.pk,
            meeting_date=offering.meetings()[2],
        )
    assert fake_push.sent == []  # "received": the family did it themselves
    with django_capture_on_commit_callbacks(execute=True):
        requests.request_decide(request_id=req.pk, approve=False, note="Call us.", by=None)
    (push,) = sent_to()
    assert push.title == "Your absence request was denied"
    assert push.body.endswith("“Call us.”") and push.data["screen"] == "Requests"


def test_an_autopay_failure_is_pushed(family_a, phone, django_capture_on_commit_callbacks):
    context = {
        "period": "March 2027",
        "amount": "95.00 USD",
        "reason": "Your card was declined.",
        "retry": "Mar 2",
        "url": "http://x/orders/1/pay",
    }
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_family(family_a.family.pk, "autopay_failed", context)
    (push,) = sent_to()
    assert push.title == "We could not charge your card"
    assert push.body == (
        "Your March 2027 tuition of 95.00 USD did not go through: Your card was declined."
    )
    assert push.data["screen"] == "Billing"


def test_events_not_for_phones_and_families_without_devices_push_nothing(
    family_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify_family(family_a.family.pk, "autopay_failed", {"period": "May"})  # no device
        PushDevice.objects.create(guardian=family_a.guardian, token=TOKEN, platform="ios")
        notify_family(family_a.family.pk, "enrollment_confirmed", {"enrollments": []})
    assert fake_push.sent == [] and not PushMessage.objects.exists()


def test_a_rolled_back_change_pushes_nothing(family_a, phone, django_capture_on_commit_callbacks):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        notify_family(family_a.family.pk, "autopay_failed", {"period": "May"})
        raise Abort
    assert fake_push.sent == [] and not PushMessage.objects.exists()


def test_announcements_are_pushed_once_to_their_audience(family_a, phone):
    program = ProgramFactory(name="Swim")
    other, _ = make_family("other@alpha.test")
    other_token = "ExponentPushToken[bbbbbbbbbbbbbbbbbbbbbb]"
    PushDevice.objects.create(guardian=other.guardians.get(), token=other_token, platform="android")
    AnnouncementFactory(title="Closed Monday", body="Snow day.")
    for_swim = AnnouncementFactory(title="Pool news", audience="programs")
    for_swim.programs.set([program])
    AnnouncementFactory(title="Old news", created_at=timezone.now() - timedelta(days=3))
    AnnouncementFactory(title="Later", starts_at=timezone.now() + timedelta(hours=2))
    AnnouncementFactory(title="Draft", is_published=False)
    assert announcements_push_due() == 2
    push_send_task.apply().get()
    assert sorted((m.to, m.title) for m in fake_push.sent) == [
        (TOKEN, "Closed Monday"),
        (other_token, "Closed Monday"),
    ]  # nobody takes part in Swim: its announcement reaches no one
    assert fake_push.sent[0].body == "Snow day."
    assert fake_push.sent[0].data["screen"] == "Announcements"
    assert PushBroadcast.objects.get(announcement=for_swim).recipients == 0
    assert announcements_push_due() == 0  # once each
    assert len(fake_push.sent) == 2


def test_a_device_expo_calls_gone_is_forgotten_at_send_or_receipt(
    family_a, phone, django_capture_on_commit_callbacks
):
    fake_push.gone.add(TOKEN)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_family(family_a.family.pk, "autopay_failed", {"period": "May"})
    message = PushMessage.objects.get()
    assert (message.status, message.error) == ("failed", "DeviceNotRegistered")
    assert message.device is None
    assert not PushDevice.objects.exists()

    fake_push.reset()
    phone2 = PushDevice.objects.create(guardian=family_a.guardian, token=TOKEN, platform="ios")
    fake_push.gone_in_receipt.add(TOKEN)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_family(family_a.family.pk, "autopay_failed", {"period": "June"})
    latest = PushMessage.objects.get(device=phone2)
    assert latest.status == "sent"
    assert push_receipts_check() == {"delivered": 0, "failed": 0}  # too early to ask
    PushMessage.objects.filter(pk=latest.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    assert push_receipts_check() == {"delivered": 0, "failed": 1}
    latest.refresh_from_db()
    assert latest.status == "failed" and latest.error == "DeviceNotRegistered"
    assert not PushDevice.objects.exists()


def test_receipts_mark_delivered(family_a, phone, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_family(family_a.family.pk, "autopay_failed", {"period": "May"})
    PushMessage.objects.update(sent_at=timezone.now() - timedelta(hours=1))
    assert push_receipts_check() == {"delivered": 1, "failed": 0}
    assert PushMessage.objects.get().status == "delivered"
    assert push_receipts_check() == {"delivered": 0, "failed": 0}


def test_a_push_service_outage_keeps_messages_for_the_relay(
    family_a, phone, django_capture_on_commit_callbacks
):
    fake_push.down = True
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_family(family_a.family.pk, "autopay_failed", {"period": "May"})
    message = PushMessage.objects.get()
    assert (message.status, message.attempts) == ("queued", 1)
    assert fake_push.sent == []
    fake_push.down = False
    PushMessage.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert push_relay() == 1
    assert len(sent_to()) == 1
    assert push_relay() == 0  # sent once
    assert push_send_task.apply(args=[[message.pk]]).get()["sent"] == 0  # a replay sends nothing
    assert len(sent_to()) == 1


def test_a_worker_that_died_while_sending_is_retried_by_the_relay(family_a, phone):
    message = PushMessage.objects.create(
        device=phone, family=family_a.family, event="autopay_failed", event_key="k",
        title="t", body="b", status="sending", sent_at=timezone.now() - timedelta(hours=1),
        created_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    assert push_relay() == 1
    message.refresh_from_db()
    assert message.status == "sent" and len(sent_to()) == 1


@override_settings(PUSH_BACKEND="off")
def test_push_off_sends_nothing(family_a, phone, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_family(family_a.family.pk, "autopay_failed", {"period": "May"})
    assert fake_push.sent == [] and PushMessage.objects.get().status == "failed"
