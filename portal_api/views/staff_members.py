"""Staff API for the business's staff: who is on it, inviting someone with a role, changing a
role (owner only: ``manage_staff``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from portal.staff import selectors
from portal.staff.roles import ROLES, role_of
from portal.staff.services import staff_invite, staff_role_change

from .base import PortalApi


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.SerializerMethodField()
    signed_up = serializers.SerializerMethodField()

    def get_role(self, user) -> str | None:
        role = getattr(user, "role", None) or role_of(user)
        return role.key if role else None

    def get_signed_up(self, user) -> bool:
        return user.has_usable_password()


class StaffMemberListApi(PortalApi):
    permission_classes = [staff_permission("manage_staff")]

    class Input(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        role = serializers.ChoiceField(choices=list(ROLES))
        full_name = serializers.CharField(max_length=150, required=False, allow_blank=True,
                                          default="")  # fmt: skip

    @extend_schema(operation_id="staff_members", responses=MemberOutput(many=True))
    def get(self, request):
        return Response(MemberOutput(selectors.staff_members(), many=True).data)

    @extend_schema(
        operation_id="staff_member_invite",
        request=Input,
        responses={201: MemberOutput},
        description="Invite someone with a role; they get an email with a link to choose a "
        "password. `already_staff` (409), `email_is_a_family_login` (409).",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = staff_invite(**data.validated_data)
        return Response(MemberOutput(member).data, status=status.HTTP_201_CREATED)


class StaffMemberRoleApi(PortalApi):
    permission_classes = [staff_permission("manage_staff")]

    class Input(serializers.Serializer):
        role = serializers.ChoiceField(choices=list(ROLES), allow_null=True)

    @extend_schema(
        operation_id="staff_member_role",
        request=Input,
        responses=MemberOutput,
        description="Change a staff member's role; `null` takes them off the staff. "
        "`own_role_unchangeable` (409), `staff_not_found` (404), `staff_outranks_you` (403).",
    )
    def post(self, request, user_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = staff_role_change(user_id=user_id, role=data.validated_data["role"],
                                   by=request.user)  # fmt: skip
        return Response(MemberOutput(member).data)
