from django.contrib import admin

from portal.privacy.audit import audit_record
from portal.privacy.selectors import can_view_medical

from .models import EmergencyContact, Family, Guardian, Policy, PolicyAcceptance, Student
from .services import policy_save

REDACTED = "— restricted (needs the “view medical” permission) —"


class GuardianInline(admin.StackedInline):
    model = Guardian
    extra = 0
    raw_id_fields = ("user",)
    fields = (
        ("first_name", "last_name"),
        ("email", "phone"),
        ("relationship", "is_primary"),
        "user",
    )


class StudentInline(admin.TabularInline):
    model = Student
    extra = 0
    fields = (
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "level",
        "is_active",
        "medical_notes",
    )

    def get_fields(self, request, obj=None):
        if can_view_medical(request.user):
            return self.fields
        return [f if f != "medical_notes" else "medical_notes_redacted" for f in self.fields]

    def get_readonly_fields(self, request, obj=None):
        if can_view_medical(request.user):
            return ()
        return ("medical_notes_redacted",)

    @admin.display(description="Medical notes")
    def medical_notes_redacted(self, student):
        return REDACTED if student.medical_notes else "—"


class EmergencyContactInline(admin.TabularInline):
    """Shown only to staff with the "view medical" permission (portal.privacy)."""

    model = EmergencyContact
    extra = 0


@admin.register(Family)
class FamilyAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "city", "primary_email", "student_count", "created_at")
    list_filter = ("status", "is_guest", "city", "referral_source", "created_at")
    search_fields = (
        "name",
        "guardians__first_name",
        "guardians__last_name",
        "guardians__email",
        "guardians__phone",
        "students__first_name",
        "students__last_name",
    )
    inlines = [GuardianInline, StudentInline, EmergencyContactInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("guardians", "students")

    def get_inlines(self, request, obj):
        if can_view_medical(request.user):
            return self.inlines
        return [inline for inline in self.inlines if inline is not EmergencyContactInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if can_view_medical(request.user) and response.status_code == 200:
            family = Family.objects.filter(pk=object_id).first() if object_id.isdigit() else None
            if family is not None:
                # Who read which child's notes, and the family's contacts, each a row.
                for student in family.students.all():
                    audit_record(
                        action="read_medical", obj=student, fields={"read": ["medical_notes"]}
                    )
                audit_record(
                    action="read_medical",
                    obj=family,
                    family_id=family.pk,
                    fields={"read": ["emergency_contacts"]},
                )
        return response

    @admin.display(description="Primary guardian email")
    def primary_email(self, family):
        primary = family.primary_guardian
        return primary.email if primary else "—"

    @admin.display(description="Students")
    def student_count(self, family):
        return len(family.students.all())


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = (
        "first_name",
        "last_name",
        "family",
        "date_of_birth",
        "gender",
        "level",
        "is_active",
    )
    list_filter = ("is_active", "gender", "level")
    search_fields = ("first_name", "last_name", "family__name")
    list_select_related = ("family", "level")
    raw_id_fields = ("family",)

    def get_exclude(self, request, obj=None):
        return None if can_view_medical(request.user) else ("medical_notes",)

    def get_readonly_fields(self, request, obj=None):
        if can_view_medical(request.user):
            return ()
        return ("medical_notes_redacted",)

    @admin.display(description="Medical notes")
    def medical_notes_redacted(self, student):
        return REDACTED if student.medical_notes else "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if can_view_medical(request.user) and response.status_code == 200:
            student = Student.objects.filter(pk=object_id).first() if object_id.isdigit() else None
            if student is not None:
                audit_record(action="read_medical", obj=student, fields={"read": ["medical_notes"]})
        return response


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "kind",
        "scope",
        "version",
        "is_active",
        "required_at_signup",
        "updated_at",
    )
    list_filter = ("kind", "scope", "is_active")
    search_fields = ("title", "body")
    readonly_fields = ("version", "updated_at")

    def save_model(self, request, obj, form, change):
        policy_save(policy=obj, text_changed=change and "body" in form.changed_data)


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("policy", "version", "family", "student", "signature", "accepted_at")
    list_filter = ("policy",)
    search_fields = ("family__name", "signature")
    list_select_related = ("policy", "family", "student")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
