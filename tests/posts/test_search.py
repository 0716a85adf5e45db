"""Korean full-text search on MariaDB's FULLTEXT index over bigram tokens."""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from posts import search, selectors
from posts.models import Post
from tests.posts.factories import make_post

# InnoDB adds rows to a FULLTEXT index only when they commit, so these tests
# commit for real instead of running inside a rolled-back transaction.
pytestmark = pytest.mark.django_db(transaction=True)

SEED_TITLE = "온프레미스 블로그 서비스 bdg.blog"


def settled_titles(query: str, expected: list[str]) -> list[str]:
    """The titles found, once the index agrees with `expected` or after 10 s.

    On this busy shared MariaDB, a just-committed post sometimes reached
    the FULLTEXT cache a moment (up to seconds) after its commit, right after
    the previous test's flush; waiting for that is not what is under test.
    """
    found: list[str] = []
    for _ in range(200):
        found = titles(query)
        if found == expected:
            return found
        time.sleep(0.05)
    return found


def wait_until_indexed(*posts: Post) -> None:
    """Block until MATCH sees each post's title (a positive control)."""
    for post in posts:
        query = search.parse_query(f'"{post.title}"').boolean
        for _ in range(200):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*) FROM posts_post WHERE id = %s AND "
                    "MATCH (search_title, search_body) AGAINST (%s IN BOOLEAN MODE)",
                    [post.pk, query],
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError(f"{post.title!r} never reached the FULLTEXT index")


@pytest.fixture
def seed_post(superuser, seed_path: Path, clear_cache: None) -> Post:
    # The content version is bumped on commit, which a test's transaction
    # never reaches: without a clean cache, a search page another test
    # cached under the same version would be served here.
    call_command("import_posts", str(seed_path), stdout=StringIO(), stderr=StringIO())
    post = Post.objects.get()
    wait_until_indexed(post)
    return post


def titles(query: str) -> list[str]:
    return [post.title for post in selectors.post_search(query=query)]


def test_the_database_is_mariadb_with_fulltext_indexes() -> None:
    assert connection.vendor == "mysql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT index_name FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND table_name = 'posts_post' "
            "AND index_type = 'FULLTEXT'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "post_search_title_ft",
        "post_search_body_ft",
        "post_search_all_ft",
    } <= names


def test_every_token_is_longer_than_the_servers_minimum_token_size() -> None:
    """Two-syllable bigrams would be dropped by innodb_ft_min_token_size (3);
    the hex encoding keeps every token above it and below the maximum."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW VARIABLES LIKE 'innodb_ft_m%_token_size'")
        limits = dict(cursor.fetchall())
    smallest = int(limits["innodb_ft_min_token_size"])
    largest = int(limits["innodb_ft_max_token_size"])
    tokens = search.tokens("집 네임스페이스를 k3s a 가" + "x" * 200)
    assert tokens
    assert all(smallest <= len(t) <= largest for t in tokens)
    assert all(t.isascii() and t.isalnum() for t in tokens)


@pytest.mark.parametrize(
    "query",
    [
        "네임스페이스",  # written 네임스페이스를 / 네임스페이스는 in the post
        "쿠버네티스",  # written 쿠버네티스라는 / 쿠버네티스를
        "kustomize",  # written kustomize를
        "KUSTOMIZE",
        "kustom",  # a prefix of an English word
        '"컨테이너 레지스트리"',  # a quoted two-word phrase
        "컨테이너 레지스트리",  # two words anywhere
        "Container Registry",
        "프로젝트를 시작했다",
        "집",  # a single syllable
    ],
)
def test_search_finds_the_seed_post(seed_post: Post, query: str) -> None:
    assert settled_titles(query, [SEED_TITLE]) == [SEED_TITLE]


@pytest.mark.parametrize(
    "query",
    ["쿠버네티스다", "없는단어", '"레지스트리 컨테이너"', "kustomizer", "네임 xyzzy"],
)
def test_search_does_not_match_what_the_post_does_not_say(
    seed_post: Post, query: str
) -> None:
    # A positive control first, so an empty answer means "no match", not "not
    # indexed yet".
    assert settled_titles("kustomize 네임스페이스", [SEED_TITLE]) == [SEED_TITLE]
    assert titles(query) == []


def test_title_matches_rank_above_body_matches(author) -> None:
    body_only = make_post(
        author=author, title="클러스터 이야기", body="쿠버네티스 " * 30 + "운영 경험"
    )
    in_title = make_post(
        author=author, title="쿠버네티스 입문", body="처음 시작하는 글"
    )
    other = make_post(author=author, title="무관한 글", body="파이썬 이야기")
    wait_until_indexed(body_only, in_title, other)
    expected = [in_title.title, body_only.title]
    assert settled_titles("쿠버네티스", expected) == expected


def test_drafts_and_scheduled_posts_are_not_found(author) -> None:
    import datetime as dt

    from django.utils import timezone

    draft = make_post(
        author=author, title="초안 글", body="비밀스러운 초안", published=False
    )
    scheduled = make_post(
        author=author,
        title="예약 글",
        body="비밀스러운 예약",
        published_at=timezone.now() + dt.timedelta(days=1),
    )
    public = make_post(author=author, title="공개 글", body="비밀스러운 공개")
    wait_until_indexed(draft, scheduled, public)
    assert settled_titles("비밀스러운", ["공개 글"]) == ["공개 글"]


def test_snippet_highlights_the_matched_word(seed_post: Post) -> None:
    snippet = selectors.post_search_snippet(post=seed_post, query="네임스페이스")
    assert "<mark>네임스페이스</mark>를" in snippet
    assert len(snippet) < 400


def test_snippet_escapes_the_text(author) -> None:
    post = make_post(author=author, body="`<b>굵게</b>` 라는 태그")
    snippet = selectors.post_search_snippet(post=post, query="굵게")
    assert "&lt;b&gt;<mark>굵게</mark>&lt;/b&gt;" in snippet


def test_search_page_shows_ranked_highlighted_results(client, seed_post: Post) -> None:
    response = client.get("/search/", {"q": "쿠버네티스"})
    assert response.status_code == 200
    html = response.content.decode()
    assert SEED_TITLE in html
    assert "<mark>쿠버네티스</mark>" in html


@pytest.mark.parametrize(
    "query", ["", "   ", '+-*"()<>~@', "'; DROP TABLE posts_post; --", "a" * 5000]
)
def test_odd_queries_answer_200(client, seed_post: Post, query: str) -> None:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert Post.objects.count() == 1
