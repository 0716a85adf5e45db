"""The Authors and Editors groups (see posts/permissions.py)."""

from django.db import migrations


def create_groups(apps, schema_editor):
    from posts.permissions import groups_ensure

    groups_ensure(apps)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Authors", "Editors"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0002_fulltext_index"),
        ("media_store", "0001_initial"),
        (
            "taggit",
            "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx",
        ),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
