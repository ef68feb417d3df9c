from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from kernel.users.models import User

from .availability import offerings_changed
from .models import Level, Location, Offering, Program, RegistrationOpening, StaffProfile, Term
from .search_cache import catalog_changed


@receiver(pre_delete, sender=User, dispatch_uid="catalog_detach_staff_profile")
def detach_staff_profile(sender, instance, **kwargs) -> None:
    """A deleted staff login leaves the public profile (bio, classes taught) in place."""
    if connection.schema_name != "public":
        StaffProfile.objects.filter(user=instance).update(user=None)


@receiver(post_save, sender=Offering, dispatch_uid="catalog_offering_saved")
@receiver(post_delete, sender=Offering, dispatch_uid="catalog_offering_deleted")
def offering_saved(sender, instance, **kwargs) -> None:
    """A capacity edit (or any edit) refreshes search's cached availability after commit."""
    offerings_changed([instance.pk])


def _catalog_changed(sender, **kwargs) -> None:
    """Search pages show offerings with their program, location, term, levels and
    instructors: any change to those retires the tenant's cached pages."""
    if connection.schema_name != "public":
        catalog_changed()


for _model in (Offering, Program, Location, Level, Term, StaffProfile):
    post_save.connect(
        _catalog_changed, sender=_model, dispatch_uid=f"search_pages_{_model.__name__}"
    )
    post_delete.connect(
        _catalog_changed, sender=_model, dispatch_uid=f"search_pages_del_{_model.__name__}"
    )
for _through in (Offering.levels.through, Offering.instructors.through):
    m2m_changed.connect(
        _catalog_changed, sender=_through, dispatch_uid=f"search_pages_m2m_{_through.__name__}"
    )


@receiver(post_save, sender=RegistrationOpening, dispatch_uid="catalog_opening_saved")
@receiver(post_delete, sender=RegistrationOpening, dispatch_uid="catalog_opening_deleted")
@receiver(
    m2m_changed, sender=RegistrationOpening.offerings.through, dispatch_uid="catalog_opening_m2m"
)
def opening_changed(sender, **kwargs) -> None:
    """Which offerings need a waiting-room pass: this process sees a change at once."""
    from .waiting_room import configs_clear

    configs_clear()
