"""The Authors and Editors groups and what they may do.

Authors write and publish their own posts and upload images; Editors may
change every post and manage categories and tags. Used by the data migration
(with historical models) and by `groups_ensure()` after a database flush.
"""

from __future__ import annotations

from typing import Any

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
GROUPS = {
    "Authors": (AUTHOR_PERMISSIONS, AUTHOR_EXTRA),
    "Editors": (EDITOR_PERMISSIONS, EDITOR_EXTRA),
}


def _codenames(spec: list[Any], extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    wanted = [
        (app, f"{action}_{model}") for app, model, actions in spec for action in actions
    ]
    return wanted + list(extra)


def groups_ensure(apps: Any = None) -> None:
    """Create both groups with their permissions; safe to run again."""
    from django.contrib.auth.management import create_permissions

    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)
    else:
        # Permissions are normally created after all migrations have run.
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, (spec, extra) in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        for app_label, codename in _codenames(spec, extra):
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)
