"""The settings pages' wording in the active language: the label, help text and choices of
every setting staff edit are marked here (``gettext_noop``, so ``makemessages`` keeps them) and
the settings form (``forms.SettingsForm``) reads them through ``gettext``, so an owner who uses the
console in Spanish reads Spanish. The model keeps its English wording (the admin, migrations,
docs/settings.md). ``tests/portal/config/test_settings_text.py`` fails on a setting of a page
whose label, help text or choice is missing here or has no Spanish."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, gettext_noop

# Amounts are typed in the business's currency: these replace the model's "in minor units".
MONEY_HELP = {
    "gift_certificate_amounts": gettext_noop(
        "Fixed amounts offered, in %(currency)s, comma-separated (e.g. 25.00, 50.00)."
    ),
    "gift_certificate_min": gettext_noop("Smallest amount a family may choose, in %(currency)s."),
    "gift_certificate_max": gettext_noop("Largest amount a family may choose, in %(currency)s."),
}

WORDING = (
    gettext_noop("Registration mode"),
    gettext_noop("Default for every offering."),
    gettext_noop("Enroll at once when requirements are met"),
    gettext_noop("Staff approve each request first"),
    gettext_noop("Pending requests count against openings"),
    gettext_noop("Pending requests and transfers hold a seat."),
    gettext_noop("Enrollment cutoff minutes after start"),
    gettext_noop(
        "Online enrollment closes this many minutes after an offering's first meeting starts "
        "(0: at the start). Empty: families may join until it ends, from the next meeting."
    ),
    gettext_noop("Force start on meeting date"),
    gettext_noop(
        "A family joining a class that has started begins on a real meeting date, never "
        "between meetings."
    ),
    gettext_noop("Waitlist offer hours"),
    gettext_noop(
        "Hours a family has to accept a waitlist offer before it goes to the next family (1-336)."
    ),
    gettext_noop("Priority registration starts at"),
    gettext_noop("Start of the priority-registration window."),
    gettext_noop("Priority registration ends at"),
    gettext_noop("End of the window; after it everyone may register."),
    gettext_noop("Priority registration mode"),
    gettext_noop("Who may register during the priority window."),
    gettext_noop("Families with a keyword"),
    gettext_noop("Returning families"),
    gettext_noop("Keyword holders and returning families"),
    gettext_noop("Priority keywords"),
    gettext_noop("Keywords (one per line) that let a family register early."),
    gettext_noop("Visitors may create accounts"),
    gettext_noop("Visitors may create a family account online."),
    gettext_noop("Families may set levels"),
    gettext_noop(
        "Parents may choose or change their students' levels; when off, staff place each "
        "student in a level."
    ),
    gettext_noop("New families may enroll"),
    gettext_noop("Families without any past enrollment may enroll."),
    gettext_noop("New family enrollment opens at"),
    gettext_noop(
        "If set, new families may enroll only from this moment (e.g. after the returning "
        "families' window)."
    ),
    gettext_noop("Inactive families may enroll"),
    gettext_noop("Families marked inactive may enroll."),
    gettext_noop("Past due policy"),
    gettext_noop("What happens when a family with a past-due balance enrolls."),
    gettext_noop("Allow enrollment"),
    gettext_noop("Block enrollment"),
    gettext_noop("Turn enrollment into a request"),
    gettext_noop("Past due after days"),
    gettext_noop(
        "A charge the family has not paid becomes past due this many days after it is posted "
        "to the ledger (payments settle the oldest charges first); 0: at once."
    ),
    gettext_noop("Referral source required"),
    gettext_noop("Ask how the family heard about the business at signup."),
    gettext_noop("Referral sources"),
    gettext_noop("Choices offered at signup, one per line (e.g. Friend, Google)."),
    gettext_noop("Hold timer minutes"),
    gettext_noop("Minutes a seat stays held in a cart before it is released (1-120)."),
    gettext_noop("Absences enabled"),
    gettext_noop("Families may report absences."),
    gettext_noop("Absence notice hours"),
    gettext_noop("Absences must be reported at least this many hours before the class."),
    gettext_noop("Absences auto approve"),
    gettext_noop("Approve reported absences without staff review."),
    gettext_noop("Absence issues makeup token"),
    gettext_noop("An approved absence gives the student a makeup token."),
    gettext_noop("Makeups enabled"),
    gettext_noop("Families may book makeup classes with their tokens."),
    gettext_noop("Makeup token expiry days"),
    gettext_noop("Days a makeup token stays valid (1-365)."),
    gettext_noop("Makeup seats per class"),
    gettext_noop("Extra makeup students a class may take beyond its capacity."),
    gettext_noop("Transfers enabled"),
    gettext_noop("Families may ask to move an enrollment to another class."),
    gettext_noop("Transfers next level only"),
    gettext_noop("Transfers may only move a student to the next level."),
    gettext_noop("One transfer per enrollment"),
    gettext_noop("An enrollment may be transferred once."),
    gettext_noop("Drops enabled"),
    gettext_noop("Families may ask to drop an enrollment."),
    gettext_noop("Drop notice days"),
    gettext_noop("A drop takes effect at least this many days after it is requested."),
    gettext_noop("Drop reason required"),
    gettext_noop("Families must say why they drop."),
    gettext_noop("Staff bios visible"),
    gettext_noop("Show staff bios and photos."),
    gettext_noop("Staff availability visible"),
    gettext_noop("Show staff availability for private lessons."),
    gettext_noop("Portal enabled"),
    gettext_noop(
        "When off, families see “Our Customer Portal is currently unavailable” and nobody can "
        "log in, enroll, request or pay."
    ),
    gettext_noop("List visible when logged out"),
    gettext_noop("Visitors who are not signed in may browse the class list."),
    gettext_noop("Welcome heading"),
    gettext_noop("Heading on the portal's home page."),
    gettext_noop("Welcome message"),
    gettext_noop("Plain text shown under the heading."),
    gettext_noop("Show classes"),
    gettext_noop("List weekly classes."),
    gettext_noop("Show camps"),
    gettext_noop("List camps."),
    gettext_noop("Show events"),
    gettext_noop("List events."),
    gettext_noop("Openings display"),
    gettext_noop("Show the number of openings, or only FULL / OPEN."),
    gettext_noop("Number of openings"),
    gettext_noop("FULL / OPEN"),
    gettext_noop("Show levels"),
    gettext_noop("Show the levels of each offering."),
    gettext_noop("Class search filters"),
    gettext_noop(
        "The class-search filters families see, in this order, comma-separated; leave one out "
        "to hide it. Known filters: kind, program, location, level, instructor, term, day, "
        "time_of_day, age, gender, dates, has_openings."
    ),
    gettext_noop("Stored payment method policy"),
    gettext_noop("Whether families may, or must, keep a payment method on file for autopay."),
    gettext_noop("Do not store payment methods"),
    gettext_noop("Families may save a payment method"),
    gettext_noop("A saved method for autopay is required"),
    gettext_noop("Billing day"),
    gettext_noop("Day of the month (1-28) autopay bills monthly tuition."),
    gettext_noop("Autopay retry days"),
    gettext_noop("Days after a failed autopay charge to try again, comma-separated (e.g. 1,3,7)."),
    gettext_noop("Registration fee scope"),
    gettext_noop(
        "Charge an offering's registration fee once per family or once per student in each term."
    ),
    gettext_noop("Once per family"),
    gettext_noop("Once per student"),
    gettext_noop("Registration year start month"),
    gettext_noop(
        "Month (1-12) a registration year starts; the registration fee is charged once per "
        "registration year."
    ),
    gettext_noop("Sibling discount percents"),
    gettext_noop(
        "Discount on each additional student's tuition in one order, by position: “0,10,15” "
        "gives the 2nd student 10% and the 3rd and later 15%. Empty: none."
    ),
    gettext_noop("Multi class discount percents"),
    gettext_noop(
        "Discount for a student's additional classes in one order, by position: “0,10,20” "
        "gives the 2nd class 10% and the 3rd and later 20%. Empty: none."
    ),
    gettext_noop("Gift certificates enabled"),
    gettext_noop("Sell gift certificates and accept them at checkout."),
    gettext_noop("Gift certificates visitors may buy"),
    gettext_noop("Visitors without an account may buy gift certificates."),
    gettext_noop("Gift certificate amounts"),
    gettext_noop("Gift certificate min"),
    gettext_noop("Gift certificate max"),
    gettext_noop("Punch passes enabled"),
    gettext_noop("Sell punch passes (N visits) and let families redeem them."),
    gettext_noop("Show punch passes"),
    gettext_noop("List punch passes for sale."),
    gettext_noop("Mobile app enabled"),
    gettext_noop("Families may use the mobile app and this business's own app."),
)


def label_english(field: models.Field) -> str:
    text = str(field.verbose_name)
    return text[:1].upper() + text[1:]


def label(field: models.Field) -> str:
    return gettext(label_english(field))


def help_text(field: models.Field, *, currency: str) -> str:
    if field.name in MONEY_HELP:
        return gettext(MONEY_HELP[field.name]) % {"currency": currency}
    return gettext(str(field.help_text))


def choices(field: models.Field) -> list[tuple[str, str]]:
    return [(value, gettext(str(text))) for value, text in field.choices or []]
