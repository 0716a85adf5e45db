"""import_posts / export_posts in the source blog's front-matter format."""

from __future__ import annotations

import datetime as dt
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from media_store.models import Image
from posts.models import Category, Post
from tests.posts.conftest import UUID_RE, png_bytes
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

SEED_TITLE = "온프레미스 블로그 서비스 bdg.blog"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_seed_import_keeps_title_category_timestamps_and_image_uuids(
    superuser, seed_path: Path, seed_images: Path
) -> None:
    out, _ = run("import_posts", str(seed_path), "--images", str(seed_images))
    assert "1 new" in out
    post = Post.objects.get()
    assert post.title == SEED_TITLE
    assert post.slug == "on-premise-blog-bdg-blog"
    assert post.category.name == "쿠버네티스"
    assert post.created_at == dt.datetime(
        2023, 7, 31, 15, 13, 10, 641000, tzinfo=dt.UTC
    )
    assert post.updated_at == post.created_at
    assert post.is_public and post.published_at == post.created_at
    referenced = set(UUID_RE.findall(seed_path.read_text(encoding="utf-8")))
    assert {str(pk) for pk in Image.objects.values_list("pk", flat=True)} == referenced
    assert str(post.thumbnail_id) == "8b20162b-dc8f-4532-99d4-068298c76931"
    assert {str(i.pk) for i in post.images.all()} == referenced
    # Known images get their intrinsic size, so the page does not jump.
    assert 'width="320" height="180"' in post.body_html


def test_importing_twice_updates_instead_of_duplicating(
    superuser, seed_path: Path, seed_images: Path
) -> None:
    run("import_posts", str(seed_path), "--images", str(seed_images))
    out, _ = run("import_posts", str(seed_path.parent), "--images", str(seed_images))
    assert "0 new, 1 updated" in out
    assert Post.objects.count() == 1
    assert Category.objects.count() == 1
    assert Image.objects.count() == len(set(UUID_RE.findall(seed_path.read_text())))


def test_missing_images_are_warned_about_and_the_post_still_imports(
    superuser, seed_path: Path
) -> None:
    out, err = run("import_posts", str(seed_path))
    assert "1 new" in out
    assert "8b20162b-dc8f-4532-99d4-068298c76931 not found" in err
    assert Post.objects.get().thumbnail is None


def test_bad_files_are_named_with_their_reason_and_the_rest_is_imported(
    superuser, seed_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / seed_path.name).write_bytes(seed_path.read_bytes())
    (folder / "2024-01-01-broken-yaml.md").write_text(
        '---\ntitle: "unclosed\ncategory: [x\n---\nbody\n', encoding="utf-8"
    )
    (folder / "2024-01-02-no-title.md").write_text(
        "---\ncategory: 리눅스\n---\n본문\n", encoding="utf-8"
    )
    (folder / "2024-01-03-latin1.md").write_bytes(
        "---\ntitle: café\n---\nbody é\n".encode("latin-1")
    )
    (folder / "2024-01-04-good.md").write_text(
        "---\nlayout: post\n"
        'title: "두 번째 글"\n'
        "createdAt: 2024-01-04 10:00:00.000000\n"
        "updatedAt: 2024-01-05 10:00:00.000000\n"
        'category: "운영체제/컴퓨터구조"\n'
        "---\n본문\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 posts .* 3 failed"):
        call_command("import_posts", str(folder), stdout=StringIO(), stderr=err)
    errors = err.getvalue()
    assert "2024-01-01-broken-yaml.md: broken YAML" in errors
    assert "2024-01-02-no-title.md: no title" in errors
    assert "2024-01-03-latin1.md: not UTF-8" in errors
    assert set(Post.objects.values_list("title", flat=True)) == {
        SEED_TITLE,
        "두 번째 글",
    }
    second = Post.objects.get(title="두 번째 글")
    assert second.slug == "good"
    assert second.category.slug == "운영체제-컴퓨터구조"


def test_export_then_import_on_an_empty_database_reproduces_the_posts(
    superuser, editor, seed_path: Path, seed_images: Path, tmp_path: Path
) -> None:
    run("import_posts", str(seed_path), "--images", str(seed_images))
    draft = make_post(
        author=editor,
        title="초안: 'quotes' and \"double\" : colon",
        body="# 제목\n\n```python\nprint(1)\n```\n",
        category=make_category("운영체제/컴퓨터구조"),
        published=False,
        tags=["쿠버네티스", "k3s"],
        summary="직접 쓴 요약",
    )
    out_dir, image_dir = tmp_path / "export", tmp_path / "export-images"
    out, _ = run("export_posts", str(out_dir), "--images", str(image_dir))
    assert "Exported 2 posts" in out
    exported = (out_dir / "2023-07-31-on-premise-blog-bdg-blog.md").read_text()
    assert exported.startswith("---\nlayout: post\nthumbnail: 8b20162b-")
    assert 'category: "쿠버네티스"' in exported

    def snapshot() -> list[tuple]:
        return sorted(
            (
                p.title, p.slug, p.body, p.body_html, p.summary, p.status,
                p.published_at, p.created_at, p.updated_at, p.category.name,
                p.category.slug, p.author.username, str(p.thumbnail_id),
                sorted(t.name for t in p.tags.all()),
            )
            for p in Post.objects.select_related("category", "author")
        )  # fmt: skip

    before = snapshot()
    Post.objects.all().delete()
    Category.objects.all().delete()
    for image in Image.objects.all():
        image.file.delete(save=False)
    Image.objects.all().delete()
    run("import_posts", str(out_dir), "--images", str(image_dir))
    after = snapshot()
    for old, new in zip(before, after, strict=True):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            assert a == b, (i, a, b)
    assert Post.objects.get(pk=Post.objects.get(title=draft.title).pk).status == "draft"


def test_an_image_known_under_another_uuid_is_relinked(
    superuser, seed_path: Path, seed_images: Path, tmp_path: Path
) -> None:
    first = sorted(seed_images.iterdir())[0]
    from media_store.services import image_create

    existing = image_create(file=first.read_bytes())
    assert str(existing.pk) != first.name
    run("import_posts", str(seed_path), "--images", str(seed_images))
    post = Post.objects.get()
    assert f"/images/{existing.pk}" in post.body or post.thumbnail_id == existing.pk
    assert f"/images/{first.name}" not in post.body_html
    assert Image.objects.filter(pk=uuid.UUID(first.name)).count() == 0


def write_posts(folder: Path, images: list[list[str]]) -> None:
    """One post per entry, showing the listed image UUIDs in its body."""
    folder.mkdir()
    for n, ids in enumerate(images):
        body = "\n\n".join(f"![{n}](/images/{image_id})" for image_id in ids)
        (folder / f"2024-02-{n + 1:02d}-post-{n}.md").write_text(
            f'---\ntitle: "post {n}"\ncategory: "notes"\n---\n{body}\n',
            encoding="utf-8",
        )


def image_keys(s3_client: Any, image_id: str) -> set[str]:
    from tests.media_store.conftest import bucket_keys

    return bucket_keys(s3_client, f"images/{image_id}/")


def test_a_damaged_image_is_warned_about_and_leaves_no_row_and_no_object(
    superuser, tmp_path: Path, s3_client: Any
) -> None:
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    images = tmp_path / "images"
    images.mkdir()
    (images / good).write_bytes(png_bytes("good", size=(1000, 400)))
    (images / bad).write_bytes(png_bytes("bad", size=(1000, 400))[:300])
    write_posts(tmp_path / "posts", [[bad], [good, bad]])

    out, err = run("import_posts", str(tmp_path / "posts"), "--images", str(images))

    assert "2 new" in out
    assert f"image {bad}: " in err and "damaged" in err
    assert [str(pk) for pk in Image.objects.values_list("pk", flat=True)] == [good]
    assert image_keys(s3_client, bad) == set()
    assert len(image_keys(s3_client, good)) == 5


def test_the_same_bytes_under_two_uuids_in_one_import_are_stored_once(
    superuser, tmp_path: Path, s3_client: Any
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    images = tmp_path / "images"
    images.mkdir()
    data = png_bytes("twin", size=(900, 400))
    (images / first).write_bytes(data)
    (images / second).write_bytes(data)
    write_posts(tmp_path / "posts", [[first], [second]])

    run("import_posts", str(tmp_path / "posts"), "--images", str(images))

    assert [str(pk) for pk in Image.objects.values_list("pk", flat=True)] == [first]
    later = Post.objects.get(title="post 1")
    assert f"/images/{first}" in later.body and second not in later.body
    assert image_keys(s3_client, second) == set()


def test_an_import_that_stops_removes_the_images_it_stored_ahead(
    superuser, tmp_path: Path, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(6)]
    images = tmp_path / "images"
    images.mkdir()
    for n, image_id in enumerate(ids):
        (images / image_id).write_bytes(png_bytes(str(n), size=(800, 300), hue=n))
    write_posts(tmp_path / "posts", [[image_id] for image_id in ids])

    def stop(**kwargs: Any) -> Post:
        raise KeyboardInterrupt

    monkeypatch.setattr("posts.services.post_create", stop)
    with pytest.raises(KeyboardInterrupt):
        run("import_posts", str(tmp_path / "posts"), "--images", str(images))

    assert not Image.objects.exists()
    # The first post's image was saved in its (rolled back) transaction and
    # is left to media_reconcile, as with any rolled-back upload; the images
    # stored ahead for the later posts are removed.
    assert all(image_keys(s3_client, image_id) == set() for image_id in ids[1:])


@pytest.mark.django_db(transaction=True)
def test_a_post_that_fails_does_not_lend_its_rolled_back_image_or_category(
    superuser, tmp_path: Path
) -> None:
    image_id = str(uuid.uuid4())
    images = tmp_path / "images"
    images.mkdir()
    (images / image_id).write_bytes(png_bytes("shared", size=(700, 300)))
    folder = tmp_path / "posts"
    folder.mkdir()
    for n, title in enumerate(["x" * 300, "second", "third"]):
        (folder / f"2024-03-0{n + 1}-post-{n}.md").write_text(
            f'---\ntitle: "{title}"\ncategory: "새 분류"\n'
            f"thumbnail: {image_id}\n---\n![a](/images/{image_id})\n",
            encoding="utf-8",
        )

    with pytest.raises(CommandError, match="2 posts .* 1 failed"):
        run("import_posts", str(folder), "--images", str(images))

    # The first post made the category and the image, then failed validation
    # and rolled them back; the next posts made them again.
    assert set(Post.objects.values_list("title", flat=True)) == {"second", "third"}
    assert Category.objects.get().name == "새 분류"
    image = Image.objects.get()
    assert str(image.pk) == image_id
    assert all(post.thumbnail_id == image.pk for post in Post.objects.all())


def test_rerender_posts_rebuilds_stored_html_and_search_tokens(author) -> None:
    post = make_post(
        author=author, title="다시 그리기", body="## 제목\n\n네임스페이스를 쓴다"
    )
    Post.objects.filter(pk=post.pk).update(body_html="", search_body="", toc=[])
    out, _ = run("rerender_posts")
    assert "Re-rendered 1 posts" in out
    post.refresh_from_db()
    assert '<h2 id="제목">' in post.body_html
    assert post.toc[0]["id"] == "제목"
    assert post.search_body


def test_an_import_bumps_the_content_version_once(
    superuser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Not after every post write (the bench's 1,000-post import paid for each)."""
    from posts import cache

    bumps: list[str] = []
    monkeypatch.setattr(cache, "_bump_now", lambda: bumps.append("bump"))
    for n in range(3):
        (tmp_path / f"2024-01-0{n + 1}-post-{n}.md").write_text(
            f'---\ntitle: "글 {n}"\ncategory: 리눅스\ntags: [a, b]\n---\n본문 {n}\n',
            encoding="utf-8",
        )

    with django_capture_on_commit_callbacks(execute=True):
        run("import_posts", str(tmp_path))

    assert Post.objects.count() == 3
    assert bumps == ["bump"]

    # Outside an import, writes bump as before.
    with django_capture_on_commit_callbacks(execute=True):
        make_post()
    assert len(bumps) > 1
