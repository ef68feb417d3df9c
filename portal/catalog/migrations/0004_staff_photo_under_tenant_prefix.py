# Staff photos move under the business's storage prefix (<schema>/staff/...), the only place
# /media/ on its host serves them from; photos uploaded before are copied there.

import kernel.storage
from django.db import migrations, models


def move_photos(apps, schema_editor):
    from django.core.files.storage import default_storage

    schema = schema_editor.connection.schema_name
    StaffProfile = apps.get_model("portal_catalog", "StaffProfile")
    for profile in StaffProfile.objects.exclude(photo="").exclude(photo__startswith=f"{schema}/"):
        old = profile.photo.name
        try:
            with default_storage.open(old, "rb") as handle:
                new = default_storage.save(f"{schema}/staff/{old.rsplit('/', 1)[-1]}", handle)
        except OSError:
            continue  # the file is gone: nothing to move, the row keeps its name
        StaffProfile.objects.filter(pk=profile.pk).update(photo=new)


class Migration(migrations.Migration):

    dependencies = [
        ('portal_catalog', '0003_registration_opening'),
    ]

    operations = [
        migrations.AlterField(
            model_name='staffprofile',
            name='photo',
            field=models.ImageField(blank=True, upload_to=kernel.storage.staff_photo_upload_to),
        ),
        migrations.RunPython(move_photos, migrations.RunPython.noop),
    ]
