"""FULLTEXT indexes over the bigram token columns (MariaDB/MySQL only).

SQLite has no FULLTEXT; the search selector falls back to substring matching
there, so the migration does nothing on other databases.
"""

from django.db import migrations

INDEXES = {
    "post_search_title_ft": "search_title",
    "post_search_body_ft": "search_body",
    "post_search_all_ft": "search_title, search_body",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE FULLTEXT INDEX {name} ON posts_post ({columns})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {name} ON posts_post")


class Migration(migrations.Migration):
    # MariaDB commits DDL implicitly; a wrapping transaction would be a lie.
    atomic = False
    dependencies = [("posts", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
