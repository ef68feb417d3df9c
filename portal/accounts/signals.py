from django.db import connection
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from kernel.users.models import User

from .models import Guardian


@receiver(pre_delete, sender=User, dispatch_uid="accounts_detach_guardian")
def detach_guardian(sender, instance, **kwargs) -> None:
    """A deleted login leaves its guardian record (the family keeps its history)."""
    if connection.schema_name != "public":
        Guardian.objects.filter(user=instance).update(user=None)
        from portal.requests.models import Request

        Request.objects.filter(decided_by=instance).update(decided_by=None)
