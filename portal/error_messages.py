"""Service refusal messages, marked for translation in one place.

Services raise ``ApplicationError`` with English messages; ``kernel.errors`` translates a
message (and its field messages) into the active language when it is raised, so the web
pages and the API answer in the family's language. The messages below are the static ones of
the family-facing services (``tests/portal/test_error_messages.py`` finds every one in the
source and fails on one missing here or untranslated); ``gettext_noop`` keeps them in the
catalog when ``makemessages`` runs."""

from __future__ import annotations

from django.utils.translation import gettext_noop

# The field labels the services name inside "%(label)s is required." and the like.
LABELS = (
    gettext_noop("First name"),
    gettext_noop("Last name"),
    gettext_noop("Family name"),
    gettext_noop("Name"),
)

MESSAGES = (
    gettext_noop("A day you chose is full: choose other days."),
    gettext_noop("Choose at least one day."),
    gettext_noop("Choose fewer days."),
    gettext_noop("Give each day as YYYY-MM-DD."),
    gettext_noop("One of the days you chose is not a day of this camp you can book."),
    gettext_noop(
        "This camp is booked by the day or the week: add it to the cart with the days you want."
    ),
    gettext_noop("This is booked as a whole: leave out the days."),
    gettext_noop(
        "Families already hold or have seats in this camp: how it is booked cannot change now."
    ),
    gettext_noop("Give the family the reason for the denial."),
    gettext_noop("The note is not text."),
    gettext_noop(
        "A card on file is required for your enrollments; add another before removing this one."
    ),
    gettext_noop("A drop cannot take effect in the past."),
    gettext_noop("A drop is already requested for this enrollment."),
    gettext_noop("A phone number is required."),
    gettext_noop("A transfer is already requested for this enrollment."),
    gettext_noop("Accept at least one policy."),
    gettext_noop("An account with this email already exists."),
    gettext_noop("An account with this email already exists. Sign in or reset your password."),
    gettext_noop("Answer yes or no."),
    gettext_noop("Check the date of birth."),
    gettext_noop("Choose a password you have not used here before."),
    gettext_noop("Choose how it is paid: owed, cash, cheque or card."),
    gettext_noop("Choose the student who is coming."),
    gettext_noop("Enter a phone number."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Every visit on this punch pass has been used."),
    gettext_noop("Give the money back as a refund or as account credit."),
    gettext_noop("Give the reason for the drop."),
    gettext_noop("Keep the answer under 1,000 characters."),
    gettext_noop("Many families are registering right now. Please try again in a moment."),
    gettext_noop("No such guardian in the family."),
    gettext_noop("Nothing is left to pay on this order."),
    gettext_noop("Only a pending request can be cancelled."),
    gettext_noop("Only a succeeded payment can be refunded."),
    gettext_noop("Pick a different class to transfer to."),
    gettext_noop("Please sign in to buy a gift certificate."),
    gettext_noop("Please tell us why you are dropping."),
    gettext_noop("Registration is not open to new families. Please contact us."),
    gettext_noop("Send the answers as an object."),
    gettext_noop("Tell us how you heard about us."),
    gettext_noop("Tell us your name."),
    gettext_noop("That gift certificate code is not valid."),
    gettext_noop("That level does not exist."),
    gettext_noop("That policy does not exist."),
    gettext_noop("That student is not in this family."),
    gettext_noop("The amount must be positive."),
    gettext_noop("The family is suspended."),
    gettext_noop("The override reason is at most 1000 characters."),
    gettext_noop("The position is a whole number from 1."),
    gettext_noop("The primary guardian cannot be removed."),
    gettext_noop("This absence is already reported."),
    gettext_noop("This business does not book makeups online."),
    gettext_noop("This business does not keep payment methods on file."),
    gettext_noop("This business does not sell gift certificates."),
    gettext_noop("This business does not sell punch passes."),
    gettext_noop("This business does not take absence reports online."),
    gettext_noop("This business does not take drop requests online."),
    gettext_noop("This business does not take transfer requests online."),
    gettext_noop("This charge is being collected right now; look again in a minute."),
    gettext_noop("This enrollment has already been transferred once."),
    gettext_noop("This enrollment is not active."),
    gettext_noop("This gift certificate has no balance left."),
    gettext_noop("This link is not valid."),
    gettext_noop("This order is already paid."),
    gettext_noop("This request has already been decided."),
    gettext_noop("This reset link is invalid or has expired. Ask for a new one."),
    gettext_noop("Too many wrong codes. Please try again in 15 minutes."),
    gettext_noop("Transfers may only move a student into the next level."),
    gettext_noop("Use a two-letter country code, e.g. US."),
    gettext_noop("We could not find that autopay charge."),
    gettext_noop("We could not find that card."),
    gettext_noop("We could not find that payment."),
    gettext_noop("We could not find that request."),
    gettext_noop("Who is the gift for?"),
    gettext_noop("You are no longer on this waitlist."),
    gettext_noop("Your account has a past-due balance. Please pay it before enrolling."),
    gettext_noop("Your account has no balance to pay."),
    gettext_noop("Your account is inactive. Please contact us to enroll again."),
    # Photos (portal/photos.py: a student's photo the family uploads).
    gettext_noop("Choose a photo to upload."),
    gettext_noop("Images may be at most 5 MB."),
    gettext_noop("SVG images are not accepted; use PNG, JPEG or WebP."),
    gettext_noop("This image is too large; at most 4000 pixels a side."),
    gettext_noop("Use a PNG, JPEG or WebP image."),
)
