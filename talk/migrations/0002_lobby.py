from django.db import migrations


def create_lobby(apps, schema_editor):
    Room = apps.get_model("talk", "Room")
    Room.objects.get_or_create(
        slug="lobby", defaults={"name": "로비", "description": "누구나 들어오는 방"}
    )


def remove_lobby(apps, schema_editor):
    apps.get_model("talk", "Room").objects.filter(slug="lobby").delete()


class Migration(migrations.Migration):
    dependencies = [("talk", "0001_initial")]

    operations = [migrations.RunPython(create_lobby, remove_lobby)]
