from django.db import migrations


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.RunSQL(
            "CREATE TABLE deploy_probe (id integer PRIMARY KEY, note text)",
            "DROP TABLE deploy_probe",
        )
    ]
