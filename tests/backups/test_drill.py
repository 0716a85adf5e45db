"""Backup and restore drill (issue 10, item 15): a backup taken while posts
and chat messages keep being written restores into a fresh database and a
fresh bucket exactly as the dump's snapshot was.

Everything runs on servers the test starts itself: its own mariadbd and its
own S3 server; the site runs in subprocesses (tests/drills.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from tests.drills import REPO_ROOT, drill_env, manage, run_module
from tests.services import (
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    MariaDBServer,
    RedisServer,
    S3Server,
    new_s3_server,
)

SEEDED_POSTS = 6


@pytest.fixture
def servers() -> Iterator[tuple[MariaDBServer, S3Server, RedisServer]]:
    """Its own mariadbd, S3 server and Redis, started side by side."""
    mariadb, s3, redis = MariaDBServer(), new_s3_server(), RedisServer()
    with ThreadPoolExecutor(3) as pool:
        started = [pool.submit(x.start) for x in (mariadb, s3, redis)]
    try:
        for future in started:
            future.result()
        yield mariadb, s3, redis
    finally:
        mariadb.destroy()
        redis.stop()
        shutil.rmtree(redis.data_dir, ignore_errors=True)
        s3.stop(timeout=3)  # throwaway data: no need to wait for a clean exit
        shutil.rmtree(s3.data_dir, ignore_errors=True)


def count(server: MariaDBServer, database: str, table: str) -> int:
    conn = server.connect(database)
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM `{table}`")  # noqa: S608
        return cursor.fetchone()[0]
    finally:
        conn.close()


def test_a_backup_taken_during_writes_restores_exactly_its_snapshot(
    servers: tuple[MariaDBServer, S3Server, RedisServer], tmp_path: Path
) -> None:
    own_mariadb, own_s3, own_redis = servers
    s3 = {**own_s3.env(), "REDIS_URL": own_redis.url}
    source = drill_env(
        own_mariadb.create_database("bdg_source"), **{**s3, "S3_BUCKET": "source"}
    )
    restored = drill_env(
        own_mariadb.create_database("bdg_restored"),
        **{**s3, "S3_BUCKET": "restored"},
    )
    manage(source, "migrate", "--no-input", "-v0")
    run_module(source, "seed", str(SEEDED_POSTS))

    stop = tmp_path / "stop-writing"
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.drills", "write", str(stop)],
        cwd=REPO_ROOT,
        env=source,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while count(own_mariadb, "bdg_source", "talk_message") < 3:
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.1)
        before = count(own_mariadb, "bdg_source", "posts_post")
        backup_dir = tmp_path / "backup"
        print(manage(source, "backup", str(backup_dir)).strip())
        after = count(own_mariadb, "bdg_source", "posts_post")
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err
    assert after > before, "no write happened while the backup ran"

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert not list(backup_dir.rglob("*.cnf")), "credentials left in the backup"
    assert manifest["media"]["missing"] == []

    started = time.monotonic()
    restore_out = manage(restored, "restore", str(backup_dir))
    restore_seconds = time.monotonic() - started
    print(restore_out.strip())

    # Checked here again, independently of the command's own verification.
    differences = []
    conn = own_mariadb.connect("bdg_restored")
    cursor = conn.cursor()
    for table, expected in manifest["database"]["tables"].items():
        cursor.execute(f"SELECT COUNT(*) FROM `{table}`")  # noqa: S608
        rows = cursor.fetchone()[0]
        cursor.execute(f"CHECKSUM TABLE `{table}`")
        checksum = cursor.fetchone()[1]
        if {"rows": rows, "checksum": checksum} != expected:
            differences.append(table)
    cursor.execute(
        "SELECT i.file FROM media_store_image i WHERE i.id IN "
        "(SELECT thumbnail_id FROM posts_post UNION SELECT image_id FROM "
        "posts_post_images)"
    )
    referenced = [row[0] for row in cursor.fetchall()]
    conn.close()
    client = boto3.client(
        "s3",
        endpoint_url=own_s3.endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1",
    )
    listed = client.list_objects_v2(Bucket="restored").get("Contents", [])
    present = {obj["Key"] for obj in listed}
    missing = [key for key in referenced if key not in present]
    manage(restored, "migrate", "--check")

    tables = manifest["database"]["tables"]
    print(
        f"\nbackup/restore drill: {len(tables)} tables, "
        f"{sum(t['rows'] for t in tables.values())} rows, "
        f"{len(manifest['media']['objects'])} objects; posts written during the "
        f"backup {after - before}, writer total {out.strip()}; commits held "
        f"{manifest['database']['commits_held_ms']} ms; restore time "
        f"{restore_seconds:.2f} s; differences {len(differences)}; "
        f"post images missing {len(missing)}"
    )
    assert "differences: 0" in restore_out
    assert differences == []
    assert len(referenced) >= SEEDED_POSTS
    assert missing == []
    # Writes during the backup are not in it: the snapshot is the manifest's.
    assert tables["posts_post"]["rows"] < count(own_mariadb, "bdg_source", "posts_post")

    # A second restore onto the now non-empty target is refused.
    with pytest.raises(AssertionError, match="is not empty"):
        manage(restored, "restore", str(backup_dir))
