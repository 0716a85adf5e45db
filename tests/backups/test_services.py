"""The parts of backups.services that need no drill: safe object paths,
private credentials, and refusing a damaged or incomplete backup."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from django.db import connection

from backups import mariadb, services
from backups.mariadb import BackupError


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs/key", "images//x", "images/./x", "", "a/../../b"]
)
def test_an_object_key_that_would_escape_the_backup_is_refused(
    key: str, tmp_path: Path
) -> None:
    with pytest.raises(BackupError, match="unsafe key"):
        services._object_path(tmp_path, key)


def test_an_object_key_maps_to_a_path_inside_the_backup(tmp_path: Path) -> None:
    path = services._object_path(tmp_path, "images/1f2e/w480.webp")
    assert path == tmp_path / "images" / "1f2e" / "w480.webp"


def test_credentials_go_to_a_private_option_file_that_is_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret-pw")
    with mariadb.option_file() as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text()
        assert "[client]" in text
        assert "password=s3cret-pw" in text
        assert "default-character-set=utf8mb4" in text
    assert not path.exists()


def _backup(tmp_path: Path) -> Path:
    (tmp_path / "database.sql").write_text("-- a dump\n")
    manifest = {
        "format": services.FORMAT,
        "database": {
            "file": "database.sql",
            "sha256": services._sha256(tmp_path / "database.sql"),
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_a_backup_whose_dump_was_altered_is_refused(tmp_path: Path) -> None:
    src = _backup(tmp_path)
    assert services.manifest_read(src)["format"] == services.FORMAT
    (src / "database.sql").write_text("-- a different dump\n")
    with pytest.raises(BackupError, match="does not match the manifest"):
        services.manifest_read(src)


def test_a_backup_without_its_manifest_is_refused(tmp_path: Path) -> None:
    src = _backup(tmp_path)
    (src / "manifest.json").unlink()
    with pytest.raises(BackupError, match="not a complete backup"):
        services.manifest_read(src)
