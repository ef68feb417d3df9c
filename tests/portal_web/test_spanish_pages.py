"""Every family page, rendered in Spanish with data on it (a class, an enrollment, a request,
a ledger entry, a waitlist entry, a contact), leaks no English: no string of the catalog that
has a Spanish translation appears untranslated in the page's visible text, and none of a list
of English words the templates and messages use does either; nor does an ISO date."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import polib
import pytest

from portal.accounts.models import Family
from portal.billing.models import LedgerEntry
from portal.requests import services as request_services
from tests.factories import EmergencyContactFactory
from tests.portal.enrollment_helpers import enroll, make_offering

pytestmark = pytest.mark.django_db

CATALOG = Path(__file__).resolve().parents[2] / "locale/es/LC_MESSAGES/django.po"
# English words of the family pages' own templates and messages; as whole words they never
# belong in a Spanish page (class, student and family names in the data are chosen not to
# contain them).
ENGLISH = [
    "Add", "Remove", "Edit", "Save", "Cancel", "Back", "Your", "You", "Please", "Balance",
    "Enrolled", "Pending", "Approved", "Absence", "Makeup", "Transfer", "Drop", "Waitlist",
    "Cart", "Checkout", "Students", "Guardians", "Emergency", "Sign in", "Sign out", "Family",
    "Classes", "Schedule", "Requests", "Billing", "Store", "Account", "Password", "Monday",
    "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
    "February", "March", "April", "June", "July", "August", "September", "October",
    "November", "December", "Male", "Female", "Primary", "Download", "Level", "Birth",
    "Phone", "Name", "Status", "Total", "Due", "Paid", "Charge", "Payment", "Credit",
]  # fmt: skip
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PAGES = [
    "/", "/classes/", "/classes/{offering}/", "/classes/find/", "/cart/", "/family/",
    "/family/edit/", "/family/students/add/", "/family/students/{student}/",
    "/family/guardians/add/", "/family/contacts/add/", "/family/contacts/{contact}/edit/",
    "/family/calendar/", "/account/", "/account/devices/", "/enrollments/", "/schedule/",
    "/waitlist/", "/requests/", "/billing/", "/store/", "/staff/",
]  # fmt: skip


def _visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style|noscript)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    # Attribute text people read or hear: labels, placeholders, titles, alt text.
    attributes = re.findall(r'(?:aria-label|placeholder|title|alt)="([^"]*)"', page)
    text = re.sub(r"(?s)<[^>]+>", " ", page)
    return html_lib.unescape(" ".join([text, *attributes]))


def _translated_msgids() -> list[str]:
    """Catalog strings long enough to be sentences, whose Spanish differs, without
    placeholders: if one shows in a Spanish page, something rendered it untranslated."""
    out = []
    for entry in polib.pofile(str(CATALOG)):
        msgid = entry.msgid
        if (
            entry.msgstr
            and entry.msgstr != msgid
            and len(msgid) >= 14
            and " " in msgid
            and "%" not in msgid
            and "{" not in msgid
            and "<" not in msgid
        ):
            out.append(msgid)
    return out


@pytest.fixture
def spanish_family(family_web):
    offering = make_offering(name="Gimnasia Rec", capacity=5)
    enrollment = enroll(family_web.family, family_web.student, offering)
    request_services.absence_request(
        family=family_web.family, enrollment_id=enrollment.pk, meeting_date=offering.meetings()[1]
    )
    LedgerEntry.objects.create(
        family=family_web.family, kind="charge", description="Gimnasia Rec — Mia",
        amount=4200, currency="usd", source_key="t:spanish-pages",
    )  # fmt: skip
    contact = EmergencyContactFactory(family=family_web.family, name="Abuela Rosa")
    Family.objects.filter(pk=family_web.family.pk).update(name="Los Rivera")
    family_web.web.cookies["django_language"] = "es"
    family_web.ids = {
        "offering": offering.pk, "student": family_web.student.pk, "contact": contact.pk,
    }  # fmt: skip
    return family_web


def test_family_pages_in_spanish_leak_no_english(spanish_family):
    sentences = _translated_msgids()
    assert len(sentences) > 300  # the check has teeth
    words = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH) + r")\b")
    leaks = {}
    for template in PAGES:
        path = template.format(**spanish_family.ids)
        response = spanish_family.web.get(path)
        assert response.status_code == 200, (path, response.status_code)
        text = _visible_text(response.content.decode())
        found = sorted({s for s in sentences if s in text} | set(words.findall(text)))
        # Dates in prose read in the locale's format, never ISO (form inputs keep their ISO
        # values in attributes, which are not prose).
        found += [f"ISO date {d}" for d in sorted(set(ISO_DATE.findall(text)))]
        if found:
            leaks[path] = found
    assert leaks == {}


def test_the_leak_check_sees_english(family_web):
    """The same check on the English pages finds plenty: it is not blind."""
    words = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH) + r")\b")
    text = _visible_text(family_web.web.get("/family/").content.decode())
    assert len(set(words.findall(text))) >= 5
    assert any(s in text for s in _translated_msgids())
