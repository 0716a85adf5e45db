"""The Authors and Editors groups.

Authors write and publish their own posts and upload images; Editors may
change every post and manage categories and tags.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUTHOR_PERMISSIONS = [
    ("posts", "post", ["add", "change", "delete", "view"]),
    ("posts", "category", ["view"]),
    ("taggit", "tag", ["add", "view"]),
    ("media_store", "image", ["add", "change", "view"]),
]
AUTHOR_EXTRA = [("posts", "publish_post")]
EDITOR_PERMISSIONS = [
    ("posts", "post", ["add", "change", "delete", "view"]),
    ("posts", "category", ["add", "change", "delete", "view"]),
    ("posts", "slugredirect", ["add", "change", "delete", "view"]),
    ("taggit", "tag", ["add", "change", "delete", "view"]),
    ("media_store", "image", ["add", "change", "delete", "view"]),
]
EDITOR_EXTRA = [("posts", "publish_post"), ("posts", "edit_others_posts")]


def _codenames(spec, extra):
    wanted = [
        (app, f"{action}_{model}")
        for app, model, actions in spec
        for action in actions
    ]
    return wanted + list(extra)


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure the
    # ones assigned here exist already.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, spec, extra in (
        ("Authors", AUTHOR_PERMISSIONS, AUTHOR_EXTRA),
        ("Editors", EDITOR_PERMISSIONS, EDITOR_EXTRA),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in _codenames(spec, extra):
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Authors", "Editors"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0002_fulltext_index"),
        ("media_store", "0001_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
