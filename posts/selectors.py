"""Reads of posts and categories, returned as prepared QuerySets (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache as cache_for_process
from typing import Any, cast
from weakref import WeakKeyDictionary

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import (
    Field,
    FloatField,
    Lookup,
    Model,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from posts import search
from posts.cache import content_version
from posts.models import Category, Post, SlugRedirect, sees_only_published


def _with_relations(queryset: QuerySet[Post]) -> QuerySet[Post]:
    return queryset.select_related("category", "author", "thumbnail")


def post_list_published(
    *,
    category: Category | None = None,
    author: Any = None,
    tag: str | None = None,
) -> QuerySet[Post]:
    """Public posts, newest first, without the heavy body columns."""
    queryset = Post.objects.published()
    if category is not None:
        queryset = queryset.filter(category=category)
    if author is not None:
        queryset = queryset.filter(author=author)
    if tag:
        queryset = queryset.filter(tags__slug=tag)
    return _with_relations(queryset.for_listing()).order_by("-published_at", "-id")


def post_list_for_feed(*, category: Category | None = None) -> QuerySet[Post]:
    """Public posts with their full HTML, newest first."""
    queryset = Post.objects.published()
    if category is not None:
        queryset = queryset.filter(category=category)
    return (
        _with_relations(queryset)
        .defer("search_title", "search_body", "body")
        .order_by("-published_at", "-id")
    )


def post_list_visible(*, user: Any) -> QuerySet[Post]:
    """Everything `user` may read: public posts plus their own or all drafts."""
    return _with_relations(Post.objects.visible_to(user))


def post_get_for_view(
    *, slug: str, user: Any = None, with_source: bool = True, with_tags: bool = True
) -> Post | None:
    """The post at `slug` if `user` (or a visitor) may read it, with its tags.

    `with_source=False` leaves out the Markdown `body`, which the public page
    never shows (it renders `body_html`): often the largest column.
    `with_tags=False` leaves the tags to the caller (the page reads them with
    its neighbours, `post_page_links`)."""
    deferred = ("search_title", "search_body") + (() if with_source else ("body",))
    queryset = _with_relations(Post.objects.visible_to(user)).defer(*deferred)
    if with_tags:
        queryset = queryset.prefetch_related("tags")
    # Slugs are unique: no ORDER BY to build (`first()` would add one).
    return next(iter(queryset.filter(slug=slug).order_by()[:1]), None)


def post_get_for_page(*, slug: str, user: Any = None) -> Post | None:
    """The post at `slug` for its public page, if `user` (or a visitor) may read
    it: with its category, author and thumbnail, without its Markdown source
    (the page renders `body_html`) or tags (`post_page_links` reads those)."""
    if not sees_only_published(user):
        return post_get_for_view(
            slug=slug, user=user, with_source=False, with_tags=False
        )
    sql, columns = _public_post_sql()
    # The thread's own connection object, which keys its converters.
    database = connections[DEFAULT_DB_ALIAS]
    now = database.ops.adapt_datetimefield_value(timezone.now())
    with database.cursor() as cursor:
        cursor.execute(sql, [slug, Post.Status.PUBLISHED, now])
        row = cursor.fetchone()
    return None if row is None else columns.build(row, database)


@dataclass(frozen=True)
class _Columns:
    """Where each model's fields sit in a row of `_public_post_sql`, and how to
    turn the row into a post with its related objects cached on it."""

    fields: tuple[tuple[type[Model], str, tuple[Field, ...]], ...]
    # Per database connection (each thread has its own): the ORM's converters
    # for each column that has any (aware datetimes, JSON, UUID, booleans).
    # Two threads may both compute theirs at once; each gets its own entry.
    _converters: WeakKeyDictionary[Any, list[tuple[int, Any, list[Any]]]] = (
        dataclass_field(default_factory=WeakKeyDictionary, compare=False)
    )

    def build(self, row: tuple[Any, ...], connection: Any) -> Post:
        values = list(row)
        for position, column, converters in self._converters_for(connection):
            for convert in converters:
                values[position] = convert(values[position], column, connection)
        objects: list[Model | None] = []
        start = 0
        for model, _alias, fields in self.fields:
            chunk = values[start : start + len(fields)]
            start += len(fields)
            # A LEFT JOIN without a match (no thumbnail) gives a NULL key.
            objects.append(
                None
                if chunk[0] is None
                else model.from_db(connection.alias, [f.attname for f in fields], chunk)
            )
        post = cast(Post, objects[0])
        for name, obj in zip(_RELATED, objects[1:], strict=True):
            Post._meta.get_field(name).set_cached_value(post, obj)
        return post

    def _converters_for(self, connection: Any) -> list[tuple[int, Any, list[Any]]]:
        found = self._converters.get(connection)
        if found is None:
            found = []
            position = 0
            for _model, alias, fields in self.fields:
                for field in fields:
                    column = field.get_col(alias)
                    converters = connection.ops.get_db_converters(
                        column
                    ) + column.get_db_converters(connection)
                    if converters:
                        found.append((position, column, converters))
                    position += 1
            self._converters[connection] = found
        return found


# The post's foreign keys that the page shows, joined in `_public_post_sql`.
_RELATED = ("category", "author", "thumbnail")


@cache_for_process
def _public_post_sql() -> tuple[str, _Columns]:
    """A public post by slug with the models `_RELATED` names, as SQL built once.

    Hand-written because the ORM spends several times longer building and
    compiling this queryset than the database spends running it, on every
    uncached page view (issue 8). Leaves out what the page never shows: the
    Markdown source, the search columns and the author's password hash."""
    quote = connection.ops.quote_name
    skip = {
        Post: {"body", "search_title", "search_body"},
        get_user_model(): {"password"},
    }
    post_alias = "p"
    models_ = [(Post, post_alias)] + [
        (Post._meta.get_field(name).related_model, f"r{i}")
        for i, name in enumerate(_RELATED)
    ]
    columns: list[tuple[type[Model], str, tuple[Field, ...]]] = []
    for model, alias in models_:
        omitted = skip.get(model, set())
        fields = (model._meta.pk,) + tuple(
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in omitted
        )
        columns.append((model, alias, fields))
    select = ", ".join(
        f"{alias}.{quote(f.column)}" for _m, alias, fields in columns for f in fields
    )
    joins = []
    for (model, alias, _f), name in zip(columns[1:], _RELATED, strict=True):
        key = Post._meta.get_field(name)
        kind = "LEFT OUTER JOIN" if key.null else "INNER JOIN"
        joins.append(
            f"{kind} {quote(model._meta.db_table)} {alias} "
            f"ON {alias}.{quote(model._meta.pk.column)} = "
            f"{post_alias}.{quote(key.column)}"
        )
    field = Post._meta.get_field
    # The rule of `PostQuerySet.published()`: published, and not in the future.
    # Table and column names are the models' own; values travel as parameters.
    sql = (
        f"SELECT {select} FROM {quote(Post._meta.db_table)} {post_alias} "  # noqa: S608
        + " ".join(joins)
        + f" WHERE {post_alias}.{quote(field('slug').column)} = %s"
        f" AND {post_alias}.{quote(field('status').column)} = %s"
        f" AND {post_alias}.{quote(field('published_at').column)} <= %s"
    )
    return sql, _Columns(tuple(columns))


def post_get_redirect(*, old_slug: str) -> Post | None:
    redirect = (
        SlugRedirect.objects.filter(kind="post", old_slug=old_slug)
        .select_related("post__category")
        .first()
    )
    return redirect.post if redirect else None


@dataclass(frozen=True)
class Neighbour:
    title: str
    slug: str
    category_slug: str
    direction: str

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse(
            "posts:detail", kwargs={"category": self.category_slug, "slug": self.slug}
        )


@dataclass(frozen=True)
class PostLinks:
    """What a post page links to besides the post: its tags and neighbours."""

    tags: list[Tag]
    previous: Neighbour | None
    next: Neighbour | None


@cache_for_process
def _links_sql() -> tuple[str, str]:
    """The tags query, and the previous/next queries to append with UNION ALL."""
    post, tag, item = (
        Post._meta.db_table,
        Tag._meta.db_table,
        TaggedItem._meta.db_table,
    )
    neighbour = (
        "SELECT * FROM (SELECT %s AS kind, p.title, p.slug, p.id FROM {post} p "
        "WHERE p.status = %s AND p.published_at <= %s AND p.category_id = %s "
        "AND (p.published_at {cmp} %s OR (p.published_at = %s AND p.id {cmp} %s)) "
        "ORDER BY p.published_at {order}, p.id {order} LIMIT 1) {name}"
    )
    # The table names are the models' own; every value travels as a parameter.
    tags = (
        f"SELECT %s AS kind, t.name, t.slug, t.id FROM {tag} t "  # noqa: S608
        f"INNER JOIN {item} i ON i.tag_id = t.id "
        "WHERE i.content_type_id = %s AND i.object_id = %s"
    )
    neighbours = " UNION ALL ".join(
        (
            "",
            neighbour.format(post=post, cmp="<", order="DESC", name="older"),
            neighbour.format(post=post, cmp=">", order="ASC", name="newer"),
        )
    )
    return tags, neighbours


def post_page_links(*, post: Post) -> PostLinks:
    """The post's tags (in tag order) and the previous and next public post in
    its category, in one query.

    Hand-written SQL: the three ORM querysets it replaces (tag prefetch and a
    UNION of two annotated querysets) cost several times more to build than
    to run, on every uncached page view (issue 8)."""
    sql, neighbours_sql = _links_sql()
    params: list[Any] = ["tag", ContentType.objects.get_for_model(Post).pk, post.pk]
    # A draft that was never published has no place in the order.
    if post.published_at is not None:
        sql += neighbours_sql
        at = connection.ops.adapt_datetimefield_value(post.published_at)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        for kind in ("prev", "next"):
            params += [kind, Post.Status.PUBLISHED, now, post.category_id]
            params += [at, at, post.pk]
    tags: list[Tag] = []
    found: dict[str, Neighbour] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, name, slug, pk in cursor.fetchall():
            if kind == "tag":
                tags.append(Tag(id=pk, name=name, slug=slug))
            else:
                found[kind] = Neighbour(name, slug, post.category.slug, kind)
    tags.sort(key=lambda tag: tag.pk)
    return PostLinks(tags=tags, previous=found.get("prev"), next=found.get("next"))


# Orderings a client may ask for; `-id` breaks ties so pages never overlap.
POST_ORDERINGS = (
    "published_at",
    "-published_at",
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
    "title",
    "-title",
)


# Where `post_list_for_api` puts each post's tags (a list).
PREFETCHED_TAGS = "prefetched_tags"


def post_list_for_api(
    *,
    user: Any,
    category: str = "",
    tag: str = "",
    author: str = "",
    query: str = "",
    ordering: str = "",
) -> QuerySet[Post]:
    """Posts `user` may read, filtered by slugs/usernames and an optional search
    term (best match first unless `ordering` says otherwise), with everything an
    API page shows loaded in a constant number of queries.
    """
    if query:
        queryset = post_search(query=query, user=user)
    else:
        queryset = post_list_visible(user=user).order_by("-published_at", "-id")
    if category:
        queryset = queryset.filter(category__slug=category)
    if author:
        queryset = queryset.filter(author__username=author)
    if tag:
        tagged = Post.objects.filter(Q(tags__slug=tag) | Q(tags__name=tag))
        queryset = queryset.filter(pk__in=tagged.values("pk"))
    if ordering:
        if ordering not in POST_ORDERINGS:
            raise ValueError(f"Unknown ordering: {ordering}")
        queryset = queryset.order_by(ordering, "-id")
    # defer(None) undoes the search's deferral of the body: the API shows it;
    # the table of contents (JSON decoded per row) it does not.
    # The tags go to a list attribute: a plain prefetch of a taggit manager
    # builds a filtered queryset per post just to hold its cached result
    # (a seventh of a page's time).
    return (
        queryset.defer(None)
        .defer("search_title", "search_body", "toc")
        .prefetch_related(Prefetch("tags", to_attr=PREFETCHED_TAGS))
    )


def category_list_with_counts(*, include_empty: bool = False) -> QuerySet[Category]:
    """Categories with their number of public posts."""
    queryset = Category.objects.with_published_counts()
    if not include_empty:
        queryset = queryset.filter(post_count__gt=0)
    return queryset.order_by("position", "name")


def category_nav(*, version: str | None = None) -> list[dict[str, Any]]:
    """The header's category links, cached until content changes (`version`:
    the content version if the caller has already read it)."""
    key = f"posts:nav:{version or content_version()}"
    nav = cache.get(key)
    if nav is None:
        nav = [
            {"name": c.name, "url": c.get_absolute_url(), "count": c.post_count}
            for c in category_list_with_counts()
        ]
        cache.set(key, nav, 3600)
    return nav


def category_get_with_count(*, slug: str) -> Category | None:
    """The category at `slug` with its number of public posts."""
    return Category.objects.with_published_counts().filter(slug=slug).first()


def category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def category_get_redirect(*, old_slug: str) -> Category | None:
    redirect = (
        SlugRedirect.objects.filter(kind="category", old_slug=old_slug)
        .select_related("category")
        .first()
    )
    return redirect.category if redirect else None


def author_get(*, username: str) -> Any:
    return get_user_model().objects.filter(username=username, is_active=True).first()


class FullTextMatch(Lookup):
    """`MATCH (search_title, search_body) AGAINST (%s IN BOOLEAN MODE)`, bare.

    It must stand alone in WHERE: compared with a value (`= 1`, `> 0`) it
    would drop matching posts whose relevance is 0 (a word every post has),
    and inside an IN subquery MariaDB's optimizer now and then lost fresh
    rows. Django leaves a Lookup uncompared, hence this small class.
    """

    lookup_name = "fulltext_match"

    def __init__(self, table: str, boolean_query: str) -> None:
        super().__init__(Value(table), Value(boolean_query))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        table = self.lhs.value
        return (
            f"MATCH ({table}.search_title, {table}.search_body) "
            "AGAINST (%s IN BOOLEAN MODE)",
            [self.rhs.value],
        )


def post_search(*, query: str, user: Any = None) -> QuerySet[Post]:
    """Posts matching `query`, best first: title matches rank above body matches.

    MariaDB/MySQL use the bigram FULLTEXT index (see posts/search.py); other
    databases fall back to substring matching with the same ranking rule.
    """
    parsed = search.parse_query(query)
    queryset = _with_relations(Post.objects.visible_to(user)).defer(
        "search_title", "search_body", "body", "toc"
    )
    if not parsed:
        return queryset.none()
    if connection.vendor == "mysql":
        table = Post._meta.db_table
        against = "AGAINST (%s IN BOOLEAN MODE)"
        # The table name is ours and the query travels as a parameter.
        rank = RawSQL(  # noqa: S611
            f"(MATCH ({table}.search_title) {against} > 0) * 1000 "
            f"+ MATCH ({table}.search_body) {against}",
            [parsed.boolean, parsed.boolean],
            output_field=FloatField(),
        )
        return (
            queryset.filter(FullTextMatch(table, parsed.boolean))
            .annotate(search_rank=rank)
            .order_by("-search_rank", "-published_at")
        )
    condition = Q()
    title_hit = Q()
    for word in parsed.words:
        condition &= Q(title__icontains=word) | Q(body__icontains=word)
        title_hit |= Q(title__icontains=word)
    from django.db.models import Case, When

    return (
        queryset.filter(condition)
        .annotate(
            search_rank=Case(
                When(title_hit, then=Value(100.0)),
                default=Value(1.0),
                output_field=FloatField(),
            )
        )
        .order_by("-search_rank", "-published_at")
    )


def post_search_snippet(*, post: Post, query: str) -> str:
    """The highlighted passage of a search hit (from its stored HTML)."""
    from posts.rendering import html_to_text

    parsed = search.parse_query(query)
    text = html_to_text(post.body_html)
    return search.highlight(text, parsed.words)


def post_image_usages(image: Any) -> Iterator[Any]:
    """Where an image is shown: posts using it as thumbnail or in the body."""
    from media_store.usage import Usage

    posts = (
        Post.objects.filter(Q(thumbnail=image) | Q(images=image))
        .select_related("category")
        .only("title", "slug", "status", "published_at", "category__slug")
        .distinct()
    )
    for post in posts:
        yield Usage(
            label=f"Post “{post.title}”",
            url=post.get_absolute_url(),
            public=post.is_public,
        )
