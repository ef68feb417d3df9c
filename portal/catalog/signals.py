from django.db import connection
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from saas_platform.users.models import User

from .models import StaffProfile


@receiver(pre_delete, sender=User, dispatch_uid="catalog_detach_staff_profile")
def detach_staff_profile(sender, instance, **kwargs) -> None:
    """A deleted staff login leaves the public profile (bio, classes taught) in place."""
    if connection.schema_name != "public":
        StaffProfile.objects.filter(user=instance).update(user=None)
