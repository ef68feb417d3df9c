from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from kernel.errors import ApplicationError
from portal.accounts import services
from portal.accounts.errors import contact_not_found, student_not_found
from portal.accounts.inputs import ContactInput
from portal.accounts.models import EmergencyContact, Policy, Student
from portal.accounts.photos import (
    student_photo_absolute_url,
    student_photo_remove,
    student_photo_upload,
)
from portal.accounts.selectors import family_get, policies_pending
from portal.photos import MAX_PHOTO_BYTES

from ..serializers import IdNameOutput
from .auth import ConsentInput, consents_from
from .base import FamilyApi, PortalApi, client_ip


class GuardianOutput(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    relationship = serializers.CharField()
    is_primary = serializers.BooleanField()


class StudentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    gender = serializers.CharField()
    level = serializers.SerializerMethodField()
    medical_notes = serializers.CharField()
    is_active = serializers.BooleanField()
    photo_url = serializers.SerializerMethodField(
        help_text="A signed link to the student's photo, valid for 15 minutes (fetch the "
        "student again for a fresh one); null when there is none."
    )

    @extend_schema_field(IdNameOutput(allow_null=True))
    def get_level(self, student) -> dict | None:
        if student.level is None:
            return None
        return {"id": student.level.pk, "name": student.level.name}

    def get_photo_url(self, student) -> str | None:
        return student_photo_absolute_url(student)


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relationship = serializers.CharField()
    phone = serializers.CharField()


class PolicyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    scope = serializers.CharField()
    body = serializers.CharField()
    version = serializers.IntegerField()
    required_at_signup = serializers.BooleanField()


class PendingPolicyOutput(serializers.Serializer):
    policy = PolicyOutput()
    student_id = serializers.IntegerField(allow_null=True)


class FamilyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    referral_source = serializers.CharField()
    guardians = GuardianOutput(many=True, source="guardians.all")
    students = StudentOutput(many=True, source="students.all")
    emergency_contacts = ContactOutput(many=True, source="emergency_contacts.all")
    policies_to_accept = serializers.SerializerMethodField()
    you = serializers.SerializerMethodField()

    @extend_schema_field(PendingPolicyOutput(many=True))
    def get_policies_to_accept(self, family) -> list[dict]:
        return PendingPolicyOutput(policies_pending(family), many=True).data

    @extend_schema_field(GuardianOutput)
    def get_you(self, family) -> dict:
        return GuardianOutput(self.context["guardian"]).data


def _family_response(request, status_code=200):
    family = family_get(family_id=request.guardian.family_id)
    return Response(
        FamilyOutput(family, context={"guardian": request.guardian}).data, status=status_code
    )


class FamilyDetailApi(FamilyApi):
    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=300, required=False, allow_blank=True)
        address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
        address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
        city = serializers.CharField(max_length=100, required=False, allow_blank=True)
        region = serializers.CharField(max_length=100, required=False, allow_blank=True)
        postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
        country = serializers.CharField(max_length=10, required=False, allow_blank=True)

    @extend_schema(operation_id="family_retrieve", responses=FamilyOutput)
    def get(self, request):
        return _family_response(request)

    @extend_schema(
        operation_id="family_update",
        request=Input,
        responses=FamilyOutput,
        description="Primary guardian only (`primary_guardian_only`, 403).",
    )
    def patch(self, request):
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.family_update(guardian=request.guardian, **data.validated_data)
        return _family_response(request)


class StudentInput(serializers.Serializer):
    first_name = serializers.CharField(max_length=200, allow_blank=True)
    last_name = serializers.CharField(max_length=200, allow_blank=True)
    date_of_birth = serializers.DateField()
    gender = serializers.CharField(max_length=20, required=False, default="unspecified")
    level = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    medical_notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class StudentListApi(FamilyApi):
    @extend_schema(operation_id="family_students_list", responses=StudentOutput(many=True))
    def get(self, request):
        students = Student.objects.filter(family_id=request.guardian.family_id).select_related(
            "level"
        )
        return Response(StudentOutput(students, many=True).data)

    @extend_schema(
        operation_id="family_students_create",
        request=StudentInput,
        responses={201: StudentOutput},
        description="Errors: `date_of_birth_in_future`, `gender_invalid`, `level_not_found`, "
        "`first_name_required`, `invalid_input`.",
    )
    def post(self, request):
        data = StudentInput(data=request.data)
        data.is_valid(raise_exception=True)
        student = services.student_create(guardian=request.guardian, **data.validated_data)
        return Response(StudentOutput(student).data, status=status.HTTP_201_CREATED)


class StudentDetailApi(FamilyApi):
    def _student(self, request, student_id):
        student = (
            Student.objects.select_related("level")
            .filter(pk=student_id, family_id=request.guardian.family_id)
            .first()
        )
        if student is None:
            raise student_not_found()
        return student

    @extend_schema(operation_id="family_students_retrieve", responses=StudentOutput)
    def get(self, request, student_id: int):
        return Response(StudentOutput(self._student(request, student_id)).data)

    @extend_schema(
        operation_id="family_students_update", request=StudentInput, responses=StudentOutput
    )
    def patch(self, request, student_id: int):
        student = self._student(request, student_id)
        data = StudentInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        student = services.student_update(
            guardian=request.guardian, student=student, **data.validated_data
        )
        return Response(StudentOutput(student).data)


PHOTO_ERRORS = (
    "Errors: `invalid_input` (no `photo` part, or an empty file), `image_too_large` (over "
    "5 MB), `image_type_unsupported` (not a PNG, JPEG or WebP image; SVG), "
    "`image_type_mismatch` (a PNG named .jpg), `image_size_invalid` (under 64 or over 4000 "
    "pixels a side), `student_not_found` (404). A refused upload stores nothing."
)


def photo_upload_read(request) -> tuple[str, bytes]:
    """The ``photo`` part of a multipart upload, refused before it is read when too big."""
    upload = request.FILES.get("photo")
    if upload is None:
        raise ApplicationError(
            "invalid_input", "Send the image as the “photo” field.", fields={"photo": ["Required."]}
        )
    if upload.size > MAX_PHOTO_BYTES:
        message = "Images may be at most 5 MB."
        raise ApplicationError("image_too_large", message, fields={"photo": [message]})
    return upload.name or "", upload.read()


class StudentPhotoApi(FamilyApi):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="family_students_photo_upload",
        request={
            "multipart/form-data": inline_serializer(
                "StudentPhoto", {"photo": serializers.FileField()}
            )
        },
        responses=StudentOutput,
        description="Add or replace the student's photo (PNG, JPEG or WebP, at most 5 MB, 64 "
        "to 4000 pixels a side). It is re-encoded without its EXIF data, kept private and "
        "shown through `photo_url`, a signed link that expires. " + PHOTO_ERRORS,
    )
    def post(self, request, student_id: int):
        name, data = photo_upload_read(request)
        student = student_photo_upload(
            family_id=request.guardian.family_id, student_id=student_id, name=name, data=data
        )
        return Response(StudentOutput(student).data)

    @extend_schema(
        operation_id="family_students_photo_remove",
        responses=StudentOutput,
        description="Remove the student's photo (the file is deleted). "
        "Errors: `student_not_found` (404).",
    )
    def delete(self, request, student_id: int):
        student = student_photo_remove(family_id=request.guardian.family_id, student_id=student_id)
        return Response(StudentOutput(student).data)


class GuardianListApi(FamilyApi):
    class Input(serializers.Serializer):
        first_name = serializers.CharField(max_length=200, allow_blank=True)
        last_name = serializers.CharField(max_length=200, allow_blank=True)
        email = serializers.CharField(max_length=254)
        phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
        relationship = serializers.CharField(
            max_length=50, required=False, allow_blank=True, default=""
        )

    @extend_schema(operation_id="family_guardians_list", responses=GuardianOutput(many=True))
    def get(self, request):
        family = family_get(family_id=request.guardian.family_id)
        return Response(GuardianOutput(family.guardians.all(), many=True).data)

    @extend_schema(
        operation_id="family_guardians_create",
        request=Input,
        responses={201: GuardianOutput},
        description="Primary guardian only. The new guardian gets an email to choose a password. "
        "Errors: `primary_guardian_only` (403), `email_taken` (409), `email_invalid`.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        guardian = services.guardian_add(guardian=request.guardian, **data.validated_data)
        return Response(GuardianOutput(guardian).data, status=status.HTTP_201_CREATED)


class GuardianDetailApi(FamilyApi):
    @extend_schema(
        operation_id="family_guardians_delete",
        responses={204: None},
        description="The primary guardian removes another guardian of the family: their login "
        "stops working at once (deactivated, app tokens revoked). Errors: "
        "`primary_guardian_only` (403), `guardian_not_found` (404), "
        "`primary_guardian_not_removable` (409).",
    )
    def delete(self, request, guardian_id: int):
        services.guardian_remove(guardian=request.guardian, guardian_id=guardian_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmergencyContactListApi(FamilyApi):
    class Input(ContactInput):
        pass

    @extend_schema(operation_id="family_contacts_list", responses=ContactOutput(many=True))
    def get(self, request):
        contacts = EmergencyContact.objects.filter(family_id=request.guardian.family_id)
        return Response(ContactOutput(contacts, many=True).data)

    @extend_schema(
        operation_id="family_contacts_create", request=Input, responses={201: ContactOutput}
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.emergency_contact_create(
            guardian=request.guardian, **data.validated_data
        )
        return Response(ContactOutput(contact).data, status=status.HTTP_201_CREATED)


class EmergencyContactDetailApi(FamilyApi):
    class Input(ContactInput):
        """Every field optional: what is left out keeps its value."""

    @extend_schema(
        operation_id="family_contacts_update",
        request=Input,
        responses=ContactOutput,
        description="Any guardian of the family edits one of its emergency contacts; every "
        "field's problem is answered at once. Errors: `contact_not_found` (404), "
        "`name_required`, `phone_required`, `phone_invalid`, `invalid_input`.",
    )
    def patch(self, request, contact_id: int):
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        contact = services.emergency_contact_update(
            guardian=request.guardian, contact_id=contact_id, **data.validated_data
        )
        return Response(ContactOutput(contact).data)

    @extend_schema(operation_id="family_contacts_delete", responses={204: None})
    def delete(self, request, contact_id: int):
        contact = EmergencyContact.objects.filter(
            pk=contact_id, family_id=request.guardian.family_id
        ).first()
        if contact is None:
            raise contact_not_found()
        services.emergency_contact_delete(guardian=request.guardian, contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyAcceptApi(FamilyApi):
    class Input(serializers.Serializer):
        policies = ConsentInput(many=True)

    @extend_schema(
        operation_id="family_policies_accept",
        request=Input,
        responses=FamilyOutput,
        description="Accept policies with a typed signature. Errors: `policy_not_found`, "
        "`policy_version_changed` (409), `signature_required`, `student_required`.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.policies_accept(
            guardian=request.guardian,
            consents=consents_from(data.validated_data["policies"]),
            ip=client_ip(request),
        )
        return _family_response(request)


class PolicyListApi(PortalApi):
    @extend_schema(
        operation_id="policies_list",
        responses=PolicyOutput(many=True),
        description="Active policies, e.g. to show at signup.",
    )
    def get(self, request):
        return Response(PolicyOutput(Policy.objects.filter(is_active=True), many=True).data)
