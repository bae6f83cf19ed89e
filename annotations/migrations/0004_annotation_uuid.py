"""A stable, database-independent id for each tag (exports and import_annotations keep it).

Added nullable, filled row by row (a callable default is evaluated once for the whole table),
then made unique and required.
"""

import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):
    Annotation = apps.get_model("annotations", "Annotation")
    pending = Annotation.objects.filter(uuid__isnull=True).only("pk")
    batch = []
    for annotation in pending.iterator(chunk_size=2000):
        annotation.uuid = uuid.uuid4()
        batch.append(annotation)
        if len(batch) == 2000:
            Annotation.objects.bulk_update(batch, ["uuid"])
            batch = []
    Annotation.objects.bulk_update(batch, ["uuid"])


class Migration(migrations.Migration):
    dependencies = [("annotations", "0003_opp115")]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="annotation",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
