"""Admin forms say which time zone their dates and times are typed in: the business's, active
for every request on its host (tenants.routing), so "8:00" is 8:00 on the business's clock."""

from __future__ import annotations

from django.utils import timezone


class TenantZoneNoteMixin:
    """Adds the note to the fieldsets named in ``zone_note_fieldsets`` (None: the form's only,
    unnamed fieldset)."""

    zone_note_fieldsets: tuple[str | None, ...] = ()

    def get_fieldsets(self, request, obj=None):
        note = (
            f"Dates and times are in {timezone.get_current_timezone_name()}, "
            "the business's time zone."
        )
        return [
            (name, {**options, "description": note})
            if name in self.zone_note_fieldsets
            else (name, options)
            for name, options in super().get_fieldsets(request, obj)
        ]
