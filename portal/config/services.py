from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kernel.errors import ApplicationError

from .models import PortalSettings, SignupQuestion


def portal_settings_ensure(*, tenant: Any = None) -> PortalSettings:
    """The tenant's settings row, created with defaults when missing (provisioning hook; runs
    in the tenant's schema, idempotent)."""
    defaults: dict[str, Any] = {}
    if tenant is not None:
        defaults["welcome_heading"] = f"Welcome to {tenant.name}"
    settings_row, _ = PortalSettings.objects.get_or_create(
        id=PortalSettings.SINGLETON_ID, defaults=defaults
    )
    return settings_row


@transaction.atomic
def portal_settings_update(**changes: Any) -> PortalSettings:
    """Change settings, validating the whole row (the Django admin and internal callers)."""
    row = PortalSettings.objects.select_for_update().get(id=PortalSettings.SINGLETON_ID)
    for field, value in changes.items():
        setattr(row, field, value)
    row.full_clean()
    row.save()
    return row


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, bool | int | str | None) else str(value)


def settings_fields_check(*, names: list[str]) -> None:
    """``unknown_field`` for any name that is not a setting staff can change."""
    from .settings_schema import EDITABLE_FIELDS

    unknown = sorted(set(map(str, names)) - set(EDITABLE_FIELDS))
    if unknown:
        raise ApplicationError(
            "unknown_field",
            f"“{unknown[0][:60]}” is not a setting staff can change.",
            fields={name[:60]: ["Not a setting staff can change."] for name in unknown[:20]},
        )


def portal_settings_change(*, changes: dict[str, Any]) -> PortalSettings:
    """Staff change settings (the console's pages and ``/api/v1/staff/settings``): only the
    fields of ``settings_schema.EDITABLE_FIELDS``, the whole row validated by the model's rules,
    each change audited. Refuses with ``unknown_field`` or ``invalid_input`` (fields name the
    problems) and changes nothing then."""
    from portal.privacy.audit import audit_record

    settings_fields_check(names=list(changes))
    with transaction.atomic():
        portal_settings_ensure()
        row = PortalSettings.objects.select_for_update().get(id=PortalSettings.SINGLETON_ID)
        changed = {}
        for field, value in changes.items():
            if getattr(row, field) != value:
                changed[field] = [_jsonable(getattr(row, field)), _jsonable(value)]
            setattr(row, field, value)
        try:
            row.full_clean()
        except ValidationError as exc:
            fields = {name: list(messages) for name, messages in exc.message_dict.items()}
            first = next(iter(fields.values()))[0]
            raise ApplicationError("invalid_input", first, fields=fields) from None
        if changed:
            row.save()
            audit_record(action="settings_change", obj=row, fields=changed)
    return row


QUESTION_FIELDS = ("label", "help_text", "kind", "choices", "required", "is_active", "sort_order")


def signup_question_save(
    *, question_id: int | None = None, values: dict[str, Any]
) -> SignupQuestion:
    """Add (``question_id`` None) or change one of the business's signup questions; refused
    with ``invalid_input`` naming the fields, or ``signup_question_not_found``."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        if question_id is None:
            question = SignupQuestion()
        else:
            found = SignupQuestion.objects.select_for_update().filter(pk=question_id).first()
            if found is None:
                raise ApplicationError(
                    "signup_question_not_found", "No such signup question.", status=404
                )
            question = found
        for name in QUESTION_FIELDS:
            if name in values:
                setattr(question, name, values[name])
        try:
            question.full_clean()
        except ValidationError as exc:
            fields = {name: list(messages) for name, messages in exc.message_dict.items()}
            raise ApplicationError(
                "invalid_input", next(iter(fields.values()))[0], fields=fields
            ) from None
        question.save()
        saved = {name: _jsonable(getattr(question, name)) for name in QUESTION_FIELDS}
        audit_record(action="signup_question_save", obj=question, fields=saved)
    return question


def signup_question_delete(*, question_id: int) -> None:
    """Remove a question; families' answers keep the question's wording."""
    from portal.privacy.audit import audit_record

    from .models import SignupQuestion

    with transaction.atomic():
        question = SignupQuestion.objects.select_for_update().filter(pk=question_id).first()
        if question is None:
            raise ApplicationError(
                "signup_question_not_found", "No such signup question.", status=404
            )
        audit_record(
            action="signup_question_delete", obj=question, fields={"label": question.label}
        )
        question.delete()
