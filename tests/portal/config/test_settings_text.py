"""Every setting staff edit reads in Spanish on the settings pages: its label, help text and
choices are marked in portal/config/settings_text.py and translated in locale/es."""

from __future__ import annotations

import pytest
from django.utils import translation

from portal.config import settings_text
from portal.config.forms import SettingsForm
from portal.config.models import PortalSettings
from portal.config.settings_schema import PAGES

pytestmark = pytest.mark.django_db


def _texts(name: str) -> list[str]:
    field = PortalSettings._meta.get_field(name)
    texts = [settings_text.label_english(field)]
    if name in settings_text.MONEY_HELP:
        texts.append(settings_text.MONEY_HELP[name])
    else:
        texts.append(str(field.help_text))
    texts += [str(text) for _value, text in field.choices or []]
    return texts


def test_every_label_help_text_and_choice_is_marked_and_has_spanish():
    marked = set(settings_text.WORDING) | set(settings_text.MONEY_HELP.values())
    missing, untranslated = [], []
    with translation.override("es"):
        for page in PAGES:
            for name in page.fields:
                for text in _texts(name):
                    if text not in marked:
                        missing.append((name, text))
                    elif translation.gettext(text) == text:
                        untranslated.append((name, text))
    assert not missing, f"mark these in portal/config/settings_text.py: {missing}"
    assert not untranslated, f"give these Spanish in locale/es: {untranslated}"


def test_the_settings_form_speaks_spanish_with_the_currency(in_tenant_a):
    row = PortalSettings.objects.get()
    page = next(p for p in PAGES if p.key == "payments-store")
    with translation.override("es"):
        form = SettingsForm(page=page, row=row, currency="EUR")
        assert (
            form.fields["gift_certificate_min"].label == "Importe mínimo del certificado de regalo"
        )
        assert form.fields["gift_certificate_min"].help_text == (
            "Importe más pequeño que puede elegir una familia, en EUR."
        )
        choices = dict(form.fields["registration_fee_scope"].choices)
        assert choices["family"] == "Una vez por familia"
    form = SettingsForm(page=page, row=row, currency="USD")
    assert form.fields["gift_certificate_max"].help_text == (
        "Largest amount a family may choose, in USD."
    )
    assert form.fields["billing_day"].label == "Billing day"
