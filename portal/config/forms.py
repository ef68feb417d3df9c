"""The settings pages' input: one form per settings page, built from the model's fields (their
labels, help text, types and validators) and ``settings_schema``. Shared input parsing beside the
services (deliveries call it, then ``portal_settings_change``); money is typed in the currency,
times in the business's zone (the request runs in it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from kernel.errors import ApplicationError
from portal.billing.money import amount_format, amount_parse

from . import settings_text
from .models import PortalSettings
from .settings_schema import LINE_LIST_FIELDS, MONEY_FIELDS, MONEY_LIST_FIELDS, SettingsPage

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _model_field(name: str) -> models.Field:
    field = PortalSettings._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _money_list_parse(raw: str, *, currency: str, field: str) -> str:
    parts = [p.strip() for p in (raw or "").split(",") if p.strip()]
    return ",".join(str(amount_parse(p, currency=currency, field=field)) for p in parts)


class SettingsForm(forms.Form):
    """Fields of one settings page. ``changes()`` gives the model's values (minor units)."""

    def __init__(self, *args, page: SettingsPage, row: PortalSettings, currency: str, **kwargs):
        self.page, self.currency = page, currency
        initial = {}
        for name in page.fields:
            value = getattr(row, name)
            if name in MONEY_FIELDS:
                value = amount_format(value, currency=currency)
            elif name in MONEY_LIST_FIELDS:
                value = ", ".join(
                    amount_format(int(p), currency=currency) for p in row.gift_amount_list
                )
            initial[name] = value
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for name in page.fields:
            model_field = _model_field(name)
            help_text = settings_text.help_text(model_field, currency=currency)
            if name in MONEY_FIELDS or name in MONEY_LIST_FIELDS:
                field: forms.Field = forms.CharField(
                    required=name in MONEY_FIELDS, max_length=200, strip=True
                )
                field.widget.attrs["inputmode"] = "decimal"
            elif isinstance(model_field, models.DateTimeField):
                field = forms.DateTimeField(
                    required=False,
                    input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                    widget=forms.DateTimeInput(
                        attrs={"type": "datetime-local"}, format=DATETIME_FORMAT
                    ),
                )
            else:
                formfield = model_field.formfield()
                assert formfield is not None
                field = formfield
                if name in LINE_LIST_FIELDS:
                    field.widget = forms.Textarea(attrs={"rows": 3})
                if model_field.choices and isinstance(field, forms.ChoiceField):
                    blank = [("", "---------")] if model_field.blank else []
                    field.choices = blank + settings_text.choices(model_field)
            field.label = settings_text.label(model_field)
            field.help_text = help_text
            self.fields[name] = field

    def changes(self) -> dict[str, Any]:
        """The cleaned values as the model stores them; ``ApplicationError`` (``invalid_amount``)
        for an amount that is not one."""
        out = dict(self.cleaned_data)
        for name in MONEY_FIELDS & set(out):
            out[name] = amount_parse(out[name], currency=self.currency, field=name)
        for name in MONEY_LIST_FIELDS & set(out):
            out[name] = _money_list_parse(out[name], currency=self.currency, field=name)
        for name in set(out):
            if out[name] is None and name not in _NULLABLE:
                out[name] = _model_field(name).get_default()
        return out

    def add_service_error(self, exc: ApplicationError) -> None:
        """Show a service's refusal beside the fields it names (or above the form)."""
        placed = False
        for name, messages in exc.fields.items():
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


_NULLABLE = frozenset(f.name for f in PortalSettings._meta.concrete_fields if f.null)
