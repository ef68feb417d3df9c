from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from kernel.process_cache import tenant_config
from kernel.users.models import User

from .models import Guardian, Policy


@receiver(pre_delete, sender=User, dispatch_uid="accounts_detach_guardian")
def detach_guardian(sender, instance, **kwargs) -> None:
    """A deleted login leaves its guardian record (the family keeps its history)."""
    if connection.schema_name != "public":
        Guardian.objects.filter(user=instance).update(user=None)
        from portal.requests.models import Request

        Request.objects.filter(decided_by=instance).update(decided_by=None)


@receiver(post_save, sender=Policy, dispatch_uid="accounts_policy_saved")
@receiver(post_delete, sender=Policy, dispatch_uid="accounts_policy_deleted")
def policy_changed(sender, **kwargs) -> None:
    """Every process's copy of the active policies (``selectors.active_policies``) is dropped:
    this one's now, the others' once the change commits."""
    tenant_config.invalidate()
