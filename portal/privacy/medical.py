"""Which fields hold medical details, and the guard that keeps every staff path (admin lookups,
filters, search, ordering, columns, exports) off them without the ``view_medical``
permission.

Medical details are students' medical notes and families' emergency contacts (the whole
``EmergencyContact`` model). A lookup "touches" them when any step of its path lands on one:
``medical_notes__icontains``, ``students__medical_notes__regex``,
``family__emergency_contacts__phone``..."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from .audit import audit_record
from .selectors import can_view_medical


def _medical_models():
    from portal.accounts.models import EmergencyContact, Student

    return {Student: {"medical_notes"}, EmergencyContact: None}  # None: every field


def touches_medical(model, path: str) -> bool:
    """Whether an ORM path (lookup, filter, search field or ordering) from ``model`` reaches
    a medical field. Unknown names end the walk: the ORM ignores or refuses them later."""
    medical = _medical_models()
    path = path.lstrip("-^=@")
    for part in path.split(LOOKUP_SEP):
        if model in medical and medical[model] is None:
            return True
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        fields = medical.get(model)
        if fields is not None and field.name in fields:
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return model in medical and medical[model] is None


def _strip(model, names, user) -> tuple:
    if can_view_medical(user):
        return tuple(names)
    return tuple(
        name
        for name in names
        if not (isinstance(name, str) and touches_medical(model, name))
        and not (
            isinstance(name, list | tuple)
            and isinstance(name[0], str)
            and touches_medical(model, name[0])
        )
    )


class MedicalGuardAdmin:
    """Mixed into every ModelAdmin of the tenant admin site (portal.privacy.apps): without the
    permission, no URL lookup (``?medical_notes__icontains=``, ``__regex``, ``__startswith``,
    through relations), list filter, search field, column or ordering reaches a medical field
    (a refused lookup is the admin's 400 "Filtering by ... not allowed"). With it, a changelist
    filtered or searched on medical fields is audited."""

    def lookup_allowed(self, lookup, value, request=None):
        if touches_medical(self.model, lookup) and (
            request is None or not can_view_medical(request.user)
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        return _strip(self.model, super().get_search_fields(request), request.user)

    def get_list_filter(self, request):
        return _strip(self.model, super().get_list_filter(request), request.user)

    def get_list_display(self, request):
        return _strip(self.model, super().get_list_display(request), request.user)

    def get_sortable_by(self, request):
        return _strip(self.model, super().get_sortable_by(request), request.user)

    def get_ordering(self, request):
        return _strip(self.model, super().get_ordering(request) or (), request.user)

    def changelist_view(self, request, extra_context=None):
        if can_view_medical(request.user):
            touched = sorted(key for key in request.GET if touches_medical(self.model, key))
            searched = bool(request.GET.get("q")) and any(
                touches_medical(self.model, name) for name in self.get_search_fields(request)
            )
            if touched or searched:
                audit_record(
                    action="search_medical",
                    object_type=self.model._meta.label_lower,
                    fields={"lookups": touched, "search": searched},
                )
        return super().changelist_view(request, extra_context)


def guard_admin_site(site) -> None:
    """Give every ModelAdmin registered on ``site`` the medical guard (idempotent)."""
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if not issubclass(cls, MedicalGuardAdmin):
            model_admin.__class__ = type(cls.__name__, (MedicalGuardAdmin, cls), {})
