from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import routing
from .models import Domain, Tenant


@receiver([post_save, post_delete], sender=Domain)
@receiver([post_save, post_delete], sender=Tenant)
def _invalidate_routes(sender, **kwargs) -> None:
    routing.invalidate_on_commit()
