"""Staff roles (portal/staff/roles.py): the groups every business gets, giving a role, the
admin refusing to let staff grant rights they lack, admin actions and staff pages checking
their named permission, and docs/security.md's table matching the module."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client, RequestFactory
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from kernel.staff_permissions import STAFF_PERMISSIONS
from kernel.users.admin import GroupAdmin
from kernel.users.models import User
from portal.billing.models import Payment
from portal.requests.models import Request
from portal.staff.roles import ROLES, role_of, roles_table_markdown
from portal.staff.services import roles_sync, staff_role_set
from portal.store.models import GiftCertificate, PunchPass
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import host_of, make_actor

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def names(permissions) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def admin_client(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def user_with(tenant, email: str, *codenames: str, superuser: bool = False) -> User:
    with tenant_context(tenant):
        user = User.objects.create_user(
            email=email, password=PASSWORD, is_staff=True, is_superuser=superuser
        )
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    connection.set_tenant(tenant)
    return User.objects.get(pk=user.pk)


def test_every_business_has_the_role_groups_holding_exactly_their_permissions(in_tenant_a):
    for key, role in ROLES.items():
        group = Group.objects.get(name=key)
        assert names(group.permissions.select_related("content_type")) == role.permissions, key
    # Every staff permission exists, and the owner holds them all.
    assert set(STAFF_PERMISSIONS) <= set(
        Permission.objects.filter(content_type__app_label="portal_staff").values_list(
            "codename", flat=True
        )
    )
    assert {f"portal_staff.{c}" for c in STAFF_PERMISSIONS} <= ROLES["owner"].permissions
    # No role but the owner's may manage staff; none may edit groups (escalation by groups).
    for key, role in ROLES.items():
        assert ("portal_staff.manage_staff" in role.permissions) == (key == "owner")
        assert not {p for p in role.permissions if p.startswith("auth.")}, key
    # The business's owner, created with it, holds the owner role.
    owner = User.objects.get(email=in_tenant_a.owner_email)
    assert role_of(owner).key == "owner" and owner.is_superuser


def test_roles_sync_restores_a_group_someone_changed(in_tenant_a):
    coach = Group.objects.get(name="coach")
    coach.permissions.add(Permission.objects.get(codename="refund_payment"))
    Group.objects.get(name="manager").delete()
    roles_sync()
    assert names(coach.permissions.select_related("content_type")) == ROLES["coach"].permissions
    manager = Group.objects.get(name="manager")
    assert names(manager.permissions.select_related("content_type")) == ROLES["manager"].permissions


def test_a_staff_member_holds_one_role_at_a_time(in_tenant_a):
    actor = make_actor(in_tenant_a, email="roles@alpha.test", role="front_desk")
    connection.set_tenant(in_tenant_a)
    user = User.objects.get(pk=actor.user.pk)
    assert role_of(user).key == "front_desk" and user.has_perm("portal_staff.decide_request")
    assert not user.has_perm("portal_staff.refund_payment")
    user = staff_role_set(user=user, role="coach")
    assert [g.name for g in user.groups.all()] == ["coach"]
    assert not user.has_perm("portal_staff.decide_request")
    assert user.has_perm("portal_staff.take_attendance")
    with pytest.raises(ApplicationError) as error:
        staff_role_set(user=user, role="janitor")
    assert error.value.code == "unknown_role"
    assert [g.name for g in User.objects.get(pk=user.pk).groups.all()] == ["coach"]
    user = staff_role_set(user=user, role=None)
    assert role_of(User.objects.get(pk=user.pk)) is None


def test_docs_list_what_each_role_may_do():
    text = (ROOT / "docs" / "security.md").read_text()
    assert roles_table_markdown() in text
    for role in ROLES.values():
        assert role.summary in text, role.key


def test_the_group_admin_knows_the_role_groups():
    assert set(GroupAdmin.ROLE_GROUPS) == set(ROLES)


# -- no escalation in the admin --------------------------------------------------------------


def change_form(user: User, **changes) -> dict:
    form = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v not in ("", None)}


def test_a_user_with_change_user_cannot_make_itself_superuser_or_grant_what_it_lacks(in_tenant_a):
    hr = user_with(in_tenant_a, "hr@alpha.test", "view_user", "change_user")
    client = admin_client(in_tenant_a, hr)
    url = f"/admin/users/user/{hr.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()  # shown read-only
    # is_superuser is ignored; granting the owner group or refund_payment is refused.
    response = client.post(url, change_form(hr, is_superuser="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(pk=hr.pk).is_superuser
    owner_group = Group.objects.get(name="owner")
    response = client.post(url, change_form(hr, groups=[owner_group.pk]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    refund = Permission.objects.get(codename="refund_payment")
    response = client.post(url, change_form(hr, user_permissions=[refund.pk]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    hr = User.objects.get(pk=hr.pk)
    assert not hr.is_superuser and not hr.groups.exists()
    assert set(hr.user_permissions.values_list("codename", flat=True)) == {
        "view_user",
        "change_user",
    }
    # What it holds itself it may grant.
    view_user = Permission.objects.get(codename="view_user")
    family = GuardianFactory(email="granted@alpha.test").user
    response = client.post(
        f"/admin/users/user/{family.pk}/change/",
        change_form(family, user_permissions=[view_user.pk]),
    )
    assert response.status_code == 302
    assert list(family.user_permissions.values_list("codename", flat=True)) == ["view_user"]


def test_a_user_with_change_user_cannot_touch_an_account_with_more_rights(in_tenant_a):
    hr = user_with(in_tenant_a, "hr@alpha.test", "view_user", "change_user", "delete_user")
    owner = User.objects.get(email=in_tenant_a.owner_email)
    manager = make_actor(in_tenant_a, email="boss@alpha.test", role="manager").user
    client = admin_client(in_tenant_a, hr)
    for target in (owner, manager):
        before = User.objects.get(pk=target.pk)
        assert (
            client.post(
                f"/admin/users/user/{target.pk}/change/", change_form(target, email="x@evil.test")
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/admin/users/user/{target.pk}/password/",
                {"password1": "Hijacked-2026!", "password2": "Hijacked-2026!"},
            ).status_code
            == 403
        )
        assert (
            client.post(f"/admin/users/user/{target.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        after = User.objects.get(pk=target.pk)
        assert (after.email, after.password) == (before.email, before.password)
    # The owner (a superuser) may.
    assert (
        admin_client(in_tenant_a, owner).get(f"/admin/users/user/{manager.pk}/change/").status_code
        == 200
    )


def test_role_groups_are_not_edited_in_the_admin(in_tenant_a):
    owner = User.objects.get(email=in_tenant_a.owner_email)
    client = admin_client(in_tenant_a, owner)
    coach = Group.objects.get(name="coach")
    refund = Permission.objects.get(codename="refund_payment")
    response = client.post(
        f"/admin/auth/group/{coach.pk}/change/", {"name": "coach", "permissions": [refund.pk]}
    )
    assert response.status_code == 403
    assert names(coach.permissions.select_related("content_type")) == ROLES["coach"].permissions
    # A group-editor who is not a superuser offers only permissions it holds.
    editor = user_with(in_tenant_a, "groups@alpha.test", "view_group", "add_group", "change_group")
    response = admin_client(in_tenant_a, editor).post(
        "/admin/auth/group/add/", {"name": "sneaky", "permissions": [refund.pk]}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Group.objects.filter(name="sneaky").exists()


# -- admin actions and staff pages check their named permission -------------------------------

ACTIONS = [
    (Payment, "refund_in_full", "view_payment", "refund_payment"),
    (Request, "approve", "view_request", "decide_request"),
    (Request, "deny", "view_request", "decide_request"),
    (GiftCertificate, "void", "view_giftcertificate", "refund_payment"),
    (PunchPass, "void", "view_punchpass", "refund_payment"),
]


@pytest.mark.parametrize(("model", "action", "view", "needed"), ACTIONS)
def test_admin_actions_need_their_permission(model, action, view, needed, in_tenant_a):
    model_admin = admin.site._registry[model]
    viewer = user_with(in_tenant_a, f"view-{action}@alpha.test", view)
    request = RequestFactory().get("/admin/")
    request.user = viewer
    assert action not in model_admin.get_actions(request)
    request.user = user_with(in_tenant_a, f"do-{action}@alpha.test", view, needed)
    assert action in model_admin.get_actions(request)


def test_domains_in_the_admin_need_manage_domains(in_tenant_a):
    desk = make_actor(in_tenant_a, email="desk@alpha.test", role="manager").user
    assert admin_client(in_tenant_a, desk).get("/admin/tenants/domain/").status_code == 403
    owner = User.objects.get(email=in_tenant_a.owner_email)
    assert admin_client(in_tenant_a, owner).get("/admin/tenants/domain/").status_code == 200


def test_the_theme_preview_needs_edit_theme(in_tenant_a):
    from theming.services import brand_update

    brand_update(primary="#7c3aed")
    coach = make_actor(in_tenant_a, email="coach@alpha.test", role="coach").user
    designer = make_actor(in_tenant_a, email="designer@alpha.test", role="manager").user
    css_for = {}
    for label, user in (("coach", coach), ("designer", designer)):
        response = admin_client(in_tenant_a, user).get("/theme.css?preview=1")
        css_for[label] = response.content.decode()
    assert "#7c3aed" in css_for["designer"]
    assert "#7c3aed" not in css_for["coach"]
