"""A saved announcement may be pushed now: ask ``push.announcements`` after the save commits
(it pushes each announcement once, when it is in effect; beat covers later start times)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from portal.config.models import Announcement


@receiver(post_save, sender=Announcement, dispatch_uid="push_announcement_saved")
def announcement_saved(sender, instance, **kwargs) -> None:
    from .tasks import push_announcements_task

    transaction.on_commit(push_announcements_task.delay)
