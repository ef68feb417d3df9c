"""Tenant lifecycle: register, provision (fast clone), suspend, reactivate."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import schema_context, schema_exists, tenant_context

from kernel.errors import ApplicationError
from kernel.users.models import User
from kernel.users.services import user_get_or_create_staff_owner

from . import routing
from .errors import ProvisioningFailed, TenantNotFound
from .hooks import provisioning_hooks
from .models import CURRENCIES, LOCALES, Domain, Plan, Subscription, Tenant, validate_timezone
from .schema_pool import schema_create
from .slugs import slug_validate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvisionResult:
    tenant: Tenant
    owner_email: str
    set_password_url: str | None
    created: bool


def _field_error(field: str, code: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})


def _validate_details(
    *,
    name: str,
    owner_email: str,
    contact_email: str,
    timezone_name: str,
    currency: str,
    locale: str,
) -> dict[str, str]:
    name = (name or "").strip()
    if not name:
        raise _field_error("name", "name_required", "The business name is required.")
    if len(name) > 100:
        raise _field_error(
            "name", "name_too_long", "The business name may be at most 100 characters."
        )
    cleaned = {"name": name}
    for field, value in (("owner_email", owner_email), ("contact_email", contact_email)):
        value = (value or "").strip().lower()
        try:
            validate_email(value)
        except ValidationError:
            raise _field_error(
                field, f"{field}_invalid", f"“{value}” is not a valid email address."
            ) from None
        cleaned[field] = value
    try:
        validate_timezone(timezone_name)
    except ValidationError as exc:
        raise _field_error("timezone", "timezone_invalid", exc.messages[0]) from None
    if currency not in dict(CURRENCIES):
        raise _field_error(
            "currency",
            "currency_unsupported",
            f"“{currency}” is not a supported currency ({', '.join(dict(CURRENCIES))}).",
        )
    if locale not in dict(LOCALES):
        raise _field_error(
            "locale",
            "locale_unsupported",
            f"“{locale}” is not a supported language ({', '.join(dict(LOCALES))}).",
        )
    cleaned.update(timezone=timezone_name, currency=currency, locale=locale)
    return cleaned


def _plan_for(code: str | None) -> Plan | None:
    if not code:
        return None
    plan = Plan.objects.filter(code=code, is_active=True).first()
    if plan is None:
        raise _field_error("plan", "plan_unknown", f"“{code[:40]}” is not a plan on offer.")
    return plan


def tenant_register(
    *,
    name: str,
    slug: str,
    owner_email: str,
    contact_email: str | None = None,
    timezone_name: str = "America/New_York",
    currency: str = "USD",
    locale: str = "en",
    plan: str | None = None,
    launched: bool = False,
) -> Tenant:
    """Validate a new business and reserve its slug (status ``provisioning``; it does not route
    until ``tenant_provision`` finishes). A business is onboarded unlaunched: its family portal
    says "opening soon" and the directory leaves it out until ``tenant_launch``. ``launched``
    is for the operator's CLI and the demo, which make businesses that are public at once."""
    slug_validate(slug)
    details = _validate_details(
        name=name,
        owner_email=owner_email,
        contact_email=contact_email or owner_email,
        timezone_name=timezone_name,
        currency=currency,
        locale=locale,
    )
    chosen_plan = _plan_for(plan)
    taken = ApplicationError(
        "slug_taken",
        f"The slug “{slug}” is already taken.",
        status=409,
        fields={"slug": [f"The slug “{slug}” is already taken."]},
    )
    if Tenant.objects.filter(schema_name=slug).exists() or schema_exists(slug):
        raise taken
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                schema_name=slug,
                name=details["name"],
                owner_email=details["owner_email"],
                contact_email=details["contact_email"],
                timezone=details["timezone"],
                currency=details["currency"],
                locale=details["locale"],
                status=Tenant.Status.PROVISIONING,
                plan=chosen_plan,
                launched_at=timezone.now() if launched else None,
            )
            Subscription.objects.create(tenant=tenant)
            return tenant
    except IntegrityError:
        raise taken from None


def _set_password_url(tenant: Tenant, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return tenant.url(f"/account/set-password/{uid}/{token}/")


def _send_owner_welcome(tenant: Tenant, email: str, url: str) -> None:
    send_mail(
        subject=f"Your {tenant.name} portal is ready",
        message=(
            f"Hello,\n\nThe customer portal for {tenant.name} is ready at {tenant.url()}.\n\n"
            f"Choose your password to sign in to the staff admin:\n{url}\n\n"
            "The link works once and expires in a few days."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
        fail_silently=False,
    )


def tenant_provision(
    *,
    slug: str,
    name: str | None = None,
    owner_email: str | None = None,
    contact_email: str | None = None,
    timezone_name: str = "America/New_York",
    currency: str = "USD",
    locale: str = "en",
    plan: str | None = None,
    launched: bool = False,
    exist_ok: bool = False,
) -> ProvisionResult:
    """Create a routable tenant, or finish one a previous attempt left half-way.

    Steps, each safe to repeat: reserve the slug; create the schema from a pre-cloned spare or
    by cloning the template (one transaction, so a schema either exists whole or not at all);
    in the tenant's schema create the owner account and run the portal's provisioning hooks;
    add the primary domain and mark the tenant active (one transaction). Until that last step
    the tenant does not route.

    Called with ``name`` and ``owner_email`` for a new tenant (the CLI); with only ``slug`` to
    finish a registered one (the Celery task). ``exist_ok`` makes provisioning an already
    active tenant a no-op instead of a ``slug_taken`` error.
    """
    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is None:
        if name is None or owner_email is None:
            raise TenantNotFound(slug)
        tenant = tenant_register(
            name=name,
            slug=slug,
            owner_email=owner_email,
            contact_email=contact_email,
            timezone_name=timezone_name,
            currency=currency,
            locale=locale,
            plan=plan,
            launched=launched,
        )
    elif tenant.status != Tenant.Status.PROVISIONING:
        if exist_ok:
            return ProvisionResult(tenant, tenant.owner_email, None, created=False)
        raise ApplicationError(
            "slug_taken",
            f"The slug “{slug}” is already taken.",
            status=409,
            fields={"slug": [f"The slug “{slug}” is already taken."]},
        )

    try:
        if not schema_exists(tenant.schema_name):
            schema_create(schema_name=tenant.schema_name)
        with transaction.atomic():
            with tenant_context(tenant):
                owner, _ = user_get_or_create_staff_owner(email=tenant.owner_email)
                for hook_name, hook in provisioning_hooks():
                    logger.debug("provisioning %s: hook %s", tenant.schema_name, hook_name)
                    hook(tenant=tenant)
                needs_password = not owner.has_usable_password()
                url = _set_password_url(tenant, owner) if needs_password else None
            now = timezone.now()
            Domain.objects.get_or_create(
                domain=tenant.platform_host,
                defaults={"tenant": tenant, "is_primary": True, "verified_at": now},
            )
            Tenant.objects.filter(pk=tenant.pk).update(
                status=Tenant.Status.ACTIVE,
                provisioned_at=now,
                status_changed_at=now,
                provisioning_error="",
            )
            routing.invalidate_on_commit()
            if url:
                transaction.on_commit(lambda: _send_owner_welcome(tenant, tenant.owner_email, url))
    except ApplicationError as exc:
        _record_failure(tenant, exc.message)
        raise
    except Exception as exc:
        logger.exception("provisioning %s failed", tenant.schema_name)
        _record_failure(tenant, f"{type(exc).__name__}: {exc}")
        raise ProvisioningFailed(tenant.schema_name, type(exc).__name__) from exc
    tenant.refresh_from_db()
    logger.info("tenant %s provisioned", tenant.schema_name)
    return ProvisionResult(tenant, tenant.owner_email, url, created=True)


def _record_failure(tenant: Tenant, message: str) -> None:
    Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.PROVISIONING).update(
        provisioning_error=message[:2000]
    )


def tenant_owner_set_password_url(*, tenant: Tenant) -> str | None:
    """A fresh set-password link for the owner while they have not chosen a password."""
    with schema_context(tenant.schema_name):
        owner = User.objects.filter(email__iexact=tenant.owner_email).first()
        if owner is None or owner.has_usable_password():
            return None
        return _set_password_url(tenant, owner)


def _transition(*, slug: str, allowed_from: set[str], to: str, verb: str) -> Tenant:
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(schema_name=slug).first()
        if tenant is None:
            raise TenantNotFound(slug)
        if tenant.status == to:
            return tenant
        if tenant.status not in allowed_from:
            raise ApplicationError(
                "invalid_status_transition",
                f"A tenant that is {tenant.status} cannot be {verb}.",
                status=409,
            )
        tenant.status = to
        tenant.status_changed_at = timezone.now()
        tenant.save(update_fields=["status", "status_changed_at"])
        routing.invalidate_on_commit()
    logger.info("tenant %s is now %s", slug, to)
    return tenant


def tenant_suspend(*, slug: str) -> Tenant:
    """Take a portal offline: families and staff see an "unavailable" notice; data is kept."""
    return _transition(
        slug=slug, allowed_from={Tenant.Status.ACTIVE}, to=Tenant.Status.SUSPENDED, verb="suspended"
    )


def tenant_reactivate(*, slug: str) -> Tenant:
    return _transition(
        slug=slug,
        allowed_from={Tenant.Status.SUSPENDED},
        to=Tenant.Status.ACTIVE,
        verb="reactivated",
    )


def tenant_launch(*, slug: str) -> Tenant:
    """Make an active business public: its family portal opens and the directory may list it.
    Idempotent (launching twice keeps the first date). The launch checklist is the caller's
    to enforce (``portal.tenancy.services.tenant_launch_checked``): it reads the tenant's
    schema, which this layer knows nothing of."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(schema_name=slug).first()
        if tenant is None:
            raise TenantNotFound(slug)
        if tenant.launched_at is not None:
            return tenant
        if tenant.status != Tenant.Status.ACTIVE:
            raise ApplicationError(
                "invalid_status_transition",
                f"A tenant that is {tenant.status} cannot be launched.",
                status=409,
            )
        tenant.launched_at = timezone.now()
        tenant.save(update_fields=["launched_at"])
        routing.invalidate_on_commit()
    logger.info("tenant %s launched", slug)
    return tenant


def tenant_directory_set(*, slug: str, listed: bool) -> Tenant:
    """Opt a business in or out of the platform directory (it shows there only once
    launched)."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(schema_name=slug).first()
        if tenant is None:
            raise TenantNotFound(slug)
        if tenant.listed_in_directory != listed:
            tenant.listed_in_directory = listed
            tenant.save(update_fields=["listed_in_directory"])
            routing.invalidate_on_commit()
    return tenant


def platform_admin_authenticate(*, email: str, password: str, request=None) -> User:
    """Check a platform admin's credentials (a staff user of the public schema) through the
    sign-in lockout, as the platform API's token exchange does."""
    from django.contrib.auth import authenticate

    from kernel.login_guard import raise_if_locked

    user = authenticate(request, username=(email or "").strip(), password=password or "")
    if user is None:
        raise_if_locked(request)  # login_locked (429) after too many failures
        raise ApplicationError(
            "invalid_credentials", "The email or password is not correct.", status=401
        )
    if not user.is_staff:
        raise ApplicationError(
            "not_a_platform_admin", "This account is not a platform admin.", status=403
        )
    return user


def tenant_onboard(
    *,
    name: str,
    slug: str,
    owner_email: str,
    contact_email: str | None = None,
    timezone_name: str = "America/New_York",
    currency: str = "USD",
    locale: str = "en",
    plan: str | None = None,
) -> Tenant:
    """Onboard a business (the platform API and the platform console): validate it, reserve its
    slug and provision it in the background once the reservation commits. It starts unlaunched
    (see ``tenant_launch``)."""
    from .tasks import tenant_provision_task

    with transaction.atomic():
        tenant = tenant_register(
            name=name,
            slug=slug,
            owner_email=owner_email,
            contact_email=contact_email,
            timezone_name=timezone_name,
            currency=currency,
            locale=locale,
            plan=plan,
        )
        transaction.on_commit(lambda: tenant_provision_task.delay(tenant.schema_name))
    return tenant


def tenant_offboard_request(*, slug: str, confirm: str) -> Tenant:
    """Ask for a business to be offboarded (the platform console): ``confirm`` must repeat its
    slug. Suspends it now, so families and staff are off at once, and runs the export and
    removal (``tenants.backup.tenant_offboard``) in a task after the commit."""
    from .tasks import tenant_offboard_task

    if (confirm or "").strip() != slug:
        raise ApplicationError(
            "offboard_not_confirmed",
            f"Type the business's slug “{slug}” to confirm: its data is exported, then deleted.",
            fields={"confirm": [f"Type “{slug}” to confirm."]},
        )
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(schema_name=slug).first()
        if tenant is None:
            raise TenantNotFound(slug)
        if tenant.status not in (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED):
            raise ApplicationError(
                "invalid_status_transition",
                f"A tenant that is {tenant.status} cannot be offboarded.",
                status=409,
            )
    if tenant.status == Tenant.Status.ACTIVE:
        tenant = tenant_suspend(slug=slug)
    transaction.on_commit(lambda: tenant_offboard_task.delay(slug))
    return tenant
