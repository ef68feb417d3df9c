"""Custom domains: a business adds its own host name, proves it controls it with a DNS TXT
record, and may then make it the primary host of its portal.

A domain routes only once verified (``Domain.verified_at``); until then it is a claim with a
token. Verification looks up ``_portal-verify.<domain>`` TXT ``portal-verify=<token>`` through a
resolver (``TENANT_DOMAIN_RESOLVER``: dnspython by default, an in-memory double in tests). Every
change clears routing caches on commit (the Redis generation counter reaches other processes).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from kernel.errors import ApplicationError

from . import routing
from .models import Domain, Tenant

logger = logging.getLogger(__name__)

RECORD_PREFIX = "_portal-verify"
VALUE_PREFIX = "portal-verify="
# A business may add this many custom domains (the platform host does not count).
MAX_CUSTOM_DOMAINS = 10
# Another tenant's unverified claim on a domain is released after this long, so nobody can
# squat on a business's domain by adding it first.
CLAIM_EXPIRES_AFTER = timedelta(days=3)
# Pending domains are re-checked by beat for this long after they were added.
RECHECK_FOR = timedelta(days=7)
# Verified custom domains are checked again this often: a business that lets its domain go, or
# removes the proof, must not keep a routable host (and reset-email links) on it.
VERIFIED_RECHECK_EVERY = timedelta(hours=24)
# Checks of verified domains one beat run makes at most (the rest wait for the next run).
VERIFIED_RECHECK_BATCH = 500
# Failures that prove the record is gone or wrong (a DNS outage proves nothing).
_PROOF_GONE = {"domain_verification_record_missing", "domain_verification_mismatch"}

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


# --- resolvers --------------------------------------------------------------------------------


class DnsUnavailable(Exception):
    """The lookup itself failed (timeout, SERVFAIL): we do not know whether the record exists."""


class TxtResolver(Protocol):
    def txt(self, name: str) -> list[str]:
        """The TXT strings at ``name``; [] when the name or the record does not exist. Raises
        ``DnsUnavailable`` when DNS could not answer."""


class DnsPythonResolver:
    """Production resolver (dnspython, the system's name servers)."""

    lifetime = 5.0

    def txt(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        resolver = dns.resolver.Resolver()
        resolver.lifetime = self.lifetime
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(f"{type(exc).__name__}: {exc}") from exc
        values = []
        for record in answer:
            # A TXT record is a list of up-to-255-byte strings; the value is their concatenation.
            values.append(b"".join(record.strings).decode("utf-8", "replace"))
        return values


def resolver() -> TxtResolver:
    path = getattr(settings, "TENANT_DOMAIN_RESOLVER", "") or "tenants.domains.DnsPythonResolver"
    return import_string(path)()


# --- validation -------------------------------------------------------------------------------


def _bad(code: str, message: str, status: int = 400) -> ApplicationError:
    return ApplicationError(code, message, status=status, fields={"domain": [message]})


def domain_normalize(raw: str) -> str:
    """A host name in lower case ASCII (IDNA), or ``domain_invalid``."""
    value = (raw or "").strip().lower().rstrip(".")
    invalid = _bad(
        "domain_invalid",
        f"“{(raw or '').strip()[:100]}” is not a valid domain name (e.g. portal.example.com).",
    )
    if not value or "://" in value or "/" in value or ":" in value or " " in value:
        raise invalid
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise invalid
    if labels[-1].isdigit():  # an IP address, or a numeric TLD that does not exist
        raise invalid
    return value


def record_name(domain: str) -> str:
    return f"{RECORD_PREFIX}.{domain}"


def record_value(token: str) -> str:
    return f"{VALUE_PREFIX}{token}"


@dataclass(frozen=True)
class DnsRecord:
    type: str  # "CNAME", "A" or "TXT"
    name: str
    value: str  # empty: the operator has not configured it (PLATFORM_INGRESS_IPV4)
    purpose: str  # "route" or "proof"


def is_apex(host: str) -> bool:
    """A registrable domain itself (example.com), which cannot carry a CNAME next to its other
    records, as opposed to a subdomain (portal.example.com). Counted by labels: a domain under a
    two-label public suffix (example.co.uk) reads as a subdomain; its business uses the A
    record instead if its DNS provider refuses the CNAME."""
    return len(host.split(".")) == 2


def dns_records(domain: Domain) -> list[DnsRecord]:
    """What the business creates at its DNS provider for a custom domain: the record that sends
    visitors to the platform (a CNAME to its platform host for a subdomain, an A record to the
    ingress address for an apex domain) and the TXT record that proves control. Only the TXT
    record is checked (``domain_verify``); verification is the only way a domain routes."""
    tenant = domain.tenant
    if is_apex(domain.domain):
        route = DnsRecord("A", domain.domain, settings.PLATFORM_INGRESS_IPV4, "route")
    else:
        route = DnsRecord("CNAME", domain.domain, f"{tenant.platform_host}.", "route")
    proof = DnsRecord(
        "TXT", record_name(domain.domain), record_value(domain.verification_token), "proof"
    )
    return [route, proof]


# --- selectors --------------------------------------------------------------------------------


def domain_list(*, tenant: Tenant) -> QuerySet[Domain]:
    return Domain.objects.filter(tenant=tenant).order_by("-is_primary", "is_custom", "domain")


def domain_get(*, tenant: Tenant, domain_id: int) -> Domain:
    domain = Domain.objects.filter(tenant=tenant, pk=domain_id).first()
    if domain is None:
        raise ApplicationError("domain_not_found", "No such domain for this business.", status=404)
    return domain


# --- services ---------------------------------------------------------------------------------


def _claim_is_stale(existing: Domain) -> bool:
    return (
        existing.verified_at is None and existing.created_at < timezone.now() - CLAIM_EXPIRES_AFTER
    )


def domain_validate_new(*, tenant: Tenant, domain: str) -> str:
    """The normalised host if ``tenant`` may add it (no write), else the error."""
    host = domain_normalize(domain)
    platform = settings.PLATFORM_DOMAIN
    if host == platform or host.endswith(f".{platform}"):
        raise _bad(
            "domain_platform_reserved",
            f"Addresses under {platform} are assigned by the platform; add a domain you own.",
        )
    existing = Domain.objects.filter(domain=host).first()
    if existing is not None:
        if existing.tenant_id == tenant.pk:
            raise _bad(
                "domain_already_added", f"{host} is already one of your domains.", status=409
            )
        if not _claim_is_stale(existing):
            raise _bad("domain_taken", f"{host} is already used by another portal.", status=409)
    return host


def domain_add(*, tenant: Tenant, domain: str) -> Domain:
    """Claim a custom domain for ``tenant``: an unverified Domain with a fresh token. It does
    not route until ``domain_verify`` sees the TXT record."""
    host = domain_validate_new(tenant=tenant, domain=domain)
    with transaction.atomic():
        # Serialise adds per tenant so the limit holds under concurrent requests.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        existing = Domain.objects.select_for_update().filter(domain=host).first()
        if existing is not None:
            if existing.tenant_id == tenant.pk:
                raise _bad(
                    "domain_already_added", f"{host} is already one of your domains.", status=409
                )
            if not _claim_is_stale(existing):
                raise _bad("domain_taken", f"{host} is already used by another portal.", status=409)
            logger.info("releasing stale unverified claim on %s", host)
            existing.delete()
        if Domain.objects.filter(tenant=tenant, is_custom=True).count() >= MAX_CUSTOM_DOMAINS:
            raise _bad(
                "domain_limit_reached",
                f"A portal may have at most {MAX_CUSTOM_DOMAINS} custom domains.",
                status=409,
            )
        try:
            with transaction.atomic():
                created = Domain.objects.create(
                    domain=host,
                    tenant=tenant,
                    is_primary=False,
                    is_custom=True,
                    verification_token=secrets.token_urlsafe(24),
                )
        except IntegrityError:
            raise _bad(
                "domain_taken", f"{host} is already used by another portal.", status=409
            ) from None
        routing.invalidate_on_commit()
    return created


def _check(domain: Domain) -> str | None:
    """None when the TXT record proves control, else the failure code."""
    try:
        values = resolver().txt(record_name(domain.domain))
    except DnsUnavailable as exc:
        logger.warning("DNS lookup for %s failed: %s", domain.domain, exc)
        return "domain_verification_unavailable"
    if not values:
        return "domain_verification_record_missing"
    expected = record_value(domain.verification_token)
    if any(secrets.compare_digest(value.strip(), expected) for value in values):
        return None
    return "domain_verification_mismatch"


_FAILURES = {
    "domain_verification_record_missing": (
        "No TXT record was found at {name}. Add it at your DNS provider (it can take a few "
        "minutes to appear), then verify again.",
        400,
    ),
    "domain_verification_mismatch": (
        "The TXT record at {name} does not contain {value}. Check the value and verify again.",
        400,
    ),
    "domain_verification_unavailable": (
        "DNS did not answer for {name}; try again in a few minutes.",
        503,
    ),
}


def domain_verify(*, domain: Domain, raise_on_failure: bool = True) -> Domain:
    """Look up the domain's TXT record; on success the domain routes from now on. A failure
    is recorded on the domain (``last_check_error``) and raised with its code."""
    if domain.verified_at is not None:
        return domain
    failure = _check(domain)
    now = timezone.now()
    with transaction.atomic():
        fresh = Domain.objects.select_for_update().filter(pk=domain.pk).first()
        if fresh is None:
            raise ApplicationError("domain_not_found", "No such domain.", status=404)
        fresh.last_checked_at = now
        fresh.last_check_error = failure or ""
        if failure is None and fresh.verified_at is None:
            fresh.verified_at = now
        fresh.save(update_fields=["last_checked_at", "last_check_error", "verified_at"])
        routing.invalidate_on_commit()
    if failure is not None and raise_on_failure:
        message, status = _FAILURES[failure]
        raise ApplicationError(
            failure,
            message.format(
                name=record_name(fresh.domain), value=record_value(fresh.verification_token)
            ),
            status=status,
        )
    return fresh


def domain_make_primary(*, domain: Domain) -> Domain:
    """Make a verified domain the portal's primary host: links in emails, the API's URLs and
    the theme use it from now on."""
    if domain.verified_at is None:
        raise ApplicationError(
            "domain_not_verified",
            f"Verify {domain.domain} before making it the primary domain.",
            status=409,
        )
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=domain.tenant_id)
        Domain.objects.filter(tenant=tenant).exclude(pk=domain.pk).update(is_primary=False)
        Domain.objects.filter(pk=domain.pk).update(is_primary=True)
        tenant.primary_domain = domain.domain if domain.is_custom else ""
        tenant.save(update_fields=["primary_domain"])
        routing.invalidate_on_commit()
    domain.refresh_from_db()
    return domain


def domain_remove(*, domain: Domain) -> None:
    """Remove a custom domain. Removing the primary one makes the platform host primary."""
    if not domain.is_custom:
        raise ApplicationError(
            "domain_protected",
            "The portal's platform address cannot be removed.",
            status=409,
        )
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=domain.tenant_id)
        if domain.is_primary or tenant.primary_domain == domain.domain:
            Domain.objects.filter(tenant=tenant, domain=tenant.platform_host).update(
                is_primary=True
            )
            tenant.primary_domain = ""
            tenant.save(update_fields=["primary_domain"])
        Domain.objects.filter(pk=domain.pk).delete()
        routing.invalidate_on_commit()


def domain_recheck_pending() -> dict[str, int]:
    """Beat: verify domains added in the last week whose record has appeared since."""
    since = timezone.now() - RECHECK_FOR
    counts = {"checked": 0, "verified": 0}
    for domain in Domain.objects.filter(verified_at__isnull=True, created_at__gte=since):
        counts["checked"] += 1
        if domain_verify(domain=domain, raise_on_failure=False).verified_at is not None:
            counts["verified"] += 1
    return counts


def _unverify(domain: Domain) -> None:
    """Caller holds the tenant's and the domain's row locks."""
    tenant = Tenant.objects.select_for_update().get(pk=domain.tenant_id)
    if domain.is_primary or tenant.primary_domain == domain.domain:
        Domain.objects.filter(tenant=tenant, domain=tenant.platform_host).update(is_primary=True)
        tenant.primary_domain = ""
        tenant.save(update_fields=["primary_domain"])
    domain.verified_at = None
    domain.is_primary = False


def domain_recheck_verified(*, now=None) -> dict[str, int]:
    """Beat: look up the proof of verified custom domains again, each at most once per
    ``VERIFIED_RECHECK_EVERY``. A proof found missing or wrong on two checks in a row (one
    failure may be a business editing its DNS) unverifies the domain: it stops routing and, if
    it was primary, the platform host becomes primary again. DNS outages change nothing. Safe to
    run twice: a domain checked within the interval is skipped. The lookup happens before any
    row is locked."""
    now = now or timezone.now()
    due = Domain.objects.filter(is_custom=True, verified_at__isnull=False).filter(
        models.Q(last_checked_at__isnull=True)
        | models.Q(last_checked_at__lte=now - VERIFIED_RECHECK_EVERY)
    )
    counts = {"checked": 0, "ok": 0, "unverified": 0}
    for domain_id in due.order_by("last_checked_at", "pk").values_list("pk", flat=True)[
        :VERIFIED_RECHECK_BATCH
    ]:
        domain = Domain.objects.filter(pk=domain_id).first()
        if domain is None:
            continue
        failure = _check(domain)  # network: no lock held
        counts["checked"] += 1
        with transaction.atomic():
            fresh = Domain.objects.select_for_update().filter(pk=domain_id).first()
            if fresh is None or fresh.verified_at is None:
                continue
            if fresh.last_checked_at is not None and fresh.last_checked_at > now - (
                VERIFIED_RECHECK_EVERY
            ):
                continue  # another run checked it meanwhile
            previous = fresh.last_check_error
            fresh.last_checked_at = now
            fresh.last_check_error = failure or ""
            fields = ["last_checked_at", "last_check_error"]
            if failure in _PROOF_GONE and previous in _PROOF_GONE:
                _unverify(fresh)
                fields += ["verified_at", "is_primary"]
                counts["unverified"] += 1
                logger.warning(
                    "custom domain %s lost its DNS proof (%s): unverified", fresh.domain, failure
                )
                routing.invalidate_on_commit()
            elif failure is None:
                counts["ok"] += 1
            fresh.save(update_fields=fields)
    return counts


def tls_host_allowed(host: str) -> bool:
    """May the reverse proxy obtain a certificate for ``host``? Yes for the platform's own
    hosts and any verified domain of a routable tenant (active, or suspended: its notice page
    is served over HTTPS too); never for unverified, unknown or offboarded hosts."""
    try:
        host = domain_normalize(host)
    except ApplicationError:
        return False
    if host in routing.root_hosts():
        return True
    return routing.router.resolve(host) is not None
