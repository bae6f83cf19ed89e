"""Install the default taxonomy, OPP-115 (annotations/taxonomies/opp115.json)."""

from django.db import migrations


def install(apps, schema_editor):
    from annotations.taxonomy import OPP115, install_taxonomy, read_taxonomy

    install_taxonomy(
        read_taxonomy(OPP115),
        apps.get_model("annotations", "Category"),
        apps.get_model("annotations", "Attribute"),
        apps.get_model("annotations", "AttributeValue"),
    )


class Migration(migrations.Migration):
    dependencies = [("annotations", "0002_tags")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
