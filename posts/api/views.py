"""Posts and categories over REST. Thin: parse, call a service or selector, answer.

Visibility is the site's own (`Post.objects.visible_to`): visitors and token
users who are not staff see published posts only, authors also their own
drafts, editors everything. A post the caller may not read is a 404, never a
403, so drafts do not leak their existence.
"""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from blog_site import page_cache
from blog_site.api.conditional import set_last_modified
from blog_site.api.pagination import PageNumberPagination
from blog_site.api.schema import ERRORS
from posts import cache as post_cache
from posts import permissions, selectors, services
from posts.api.serializers import (
    CategoryInputSerializer,
    CategoryOutputSerializer,
    PostFilterSerializer,
    PostInputSerializer,
    PostOutputSerializer,
)
from posts.models import Category, Post

SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The post's slug"
)
CATEGORY_SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The category's slug"
)


class ApiView(APIView):
    """Shared behaviour: answers differ by caller, so caches must key on it.

    A view listed in `public_reads` lets the ASGI page cache give its
    anonymous 200 answers to every visitor (keyed on the content version, so
    any post or category write drops them on every replica). Those answers
    then skip throttling: it guards the server's work, and a cached answer
    costs next to none; an uncached one still counts.
    """

    public_reads: tuple[str, ...] = ()

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Accept too: `application/json; indent=4` asks for another body.
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])
        if (
            request.method in self.public_reads
            and response.status_code == 200
            and not request.user.is_authenticated
        ):
            page_cache.share(request, response)
            # A scheduled post going public changes lists without a write.
            page_cache.cache_until(response, post_cache.next_publish_at(request))
        return response


def _post_output(post: Post) -> dict[str, Any]:
    return PostOutputSerializer(post).data


def _reload(post: Post, user: Any) -> Post:
    """The post as the API shows it (tags prefetched), after a write."""
    fresh = selectors.post_get_for_view(slug=post.slug, user=user)
    return fresh if fresh is not None else post


def _visible_post(request: Request, slug: str) -> Post:
    post = selectors.post_get_for_view(slug=slug, user=request.user)
    if post is None:
        raise NotFound("No such post.")
    return post


def _editable_post(request: Request, slug: str) -> Post:
    post = _visible_post(request, slug)
    if not permissions.can_edit_post(request.user, post):
        raise PermissionDenied("You may not change this post.")
    return post


def _post_stamps(posts: list[Post]) -> list[Any]:
    # published_at counts too: a scheduled post going public changes the
    # list without touching its updated_at.
    return [stamp for post in posts for stamp in (post.updated_at, post.published_at)]


class PostListApi(ApiView):
    """List the posts the caller may read, or create one."""

    public_reads = ("GET",)

    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="posts_list",
        parameters=[PostFilterSerializer],
        responses={200: PostOutputSerializer(many=True), **ERRORS.pick(400, 404, 429)},
    )
    def get(self, request: Request) -> Response:
        filters = PostFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = dict(filters.validated_data)
        queryset = selectors.post_list_for_api(
            user=request.user, query=params.pop("q", ""), **params
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        # One serializer for the page: building its fields (a deep copy of
        # every declared field, the author's model introspection) per post
        # was most of the list's time.
        response = paginator.get_paginated_response(
            PostOutputSerializer(page, many=True).data
        )
        return set_last_modified(response, _post_stamps(page))

    @extend_schema(
        operation_id="posts_create",
        request=PostInputSerializer,
        responses={201: PostOutputSerializer, **ERRORS.pick(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        if not request.user.has_perm("posts.add_post"):
            raise PermissionDenied("You may not write posts.")
        data = PostInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.post_create(
            author=request.user, by=request.user, **data.validated_data
        )
        return Response(
            _post_output(_reload(post, request.user)), status=status.HTTP_201_CREATED
        )


class PostDetailApi(ApiView):
    """Read, change or delete one post, by slug."""

    public_reads = ("GET",)

    @extend_schema(
        operation_id="posts_retrieve",
        parameters=[SLUG_PARAMETER],
        responses={200: PostOutputSerializer, **ERRORS.pick(404, 429)},
    )
    def get(self, request: Request, slug: str) -> Response:
        post = _visible_post(request, slug)
        response = Response(_post_output(post))
        return set_last_modified(response, [post.updated_at])

    @extend_schema(
        operation_id="posts_update",
        parameters=[SLUG_PARAMETER],
        request=PostInputSerializer,
        responses={200: PostOutputSerializer, **ERRORS.pick(400, 401, 403, 404, 429)},
    )
    def put(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=False)

    @extend_schema(
        operation_id="posts_partial_update",
        parameters=[SLUG_PARAMETER],
        request=PostInputSerializer(partial=True),
        responses={200: PostOutputSerializer, **ERRORS.pick(400, 401, 403, 404, 429)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=True)

    def _update(self, request: Request, slug: str, *, partial: bool) -> Response:
        post = _editable_post(request, slug)
        data = PostInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        post = services.post_update(
            post=post, data=dict(data.validated_data), by=request.user
        )
        return Response(_post_output(_reload(post, request.user)))

    @extend_schema(
        operation_id="posts_destroy",
        parameters=[SLUG_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted"),
            **ERRORS.pick(401, 403, 404, 429),
        },
    )
    def delete(self, request: Request, slug: str) -> Response:
        post = _visible_post(request, slug)
        if not permissions.can_delete_post(request.user, post):
            raise PermissionDenied("You may not delete this post.")
        services.post_delete(post=post)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostPublishApi(ApiView):
    """Make a post public now, or at its scheduled `published_at`."""

    @extend_schema(
        operation_id="posts_publish",
        parameters=[SLUG_PARAMETER],
        request=None,
        responses={200: PostOutputSerializer, **ERRORS.pick(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request, slug: str) -> Response:
        post = _editable_post(request, slug)
        if not request.user.has_perm("posts.publish_post"):
            raise PermissionDenied("You may not publish posts.")
        post = services.post_publish(post=post, by=request.user)
        return Response(_post_output(_reload(post, request.user)))


class PostUnpublishApi(ApiView):
    """Turn a post back into a draft."""

    @extend_schema(
        operation_id="posts_unpublish",
        parameters=[SLUG_PARAMETER],
        request=None,
        responses={200: PostOutputSerializer, **ERRORS.pick(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request, slug: str) -> Response:
        post = _editable_post(request, slug)
        post = services.post_unpublish(post=post, by=request.user)
        return Response(_post_output(_reload(post, request.user)))


# --- Categories ----------------------------------------------------------------


def _category(slug: str) -> Category:
    category = selectors.category_get_with_count(slug=slug)
    if category is None:
        raise NotFound("No such category.")
    return category


def _require(request: Request, perm: str, message: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(message)


class CategoryListApi(ApiView):
    """Every category with its number of published posts; editors add one."""

    public_reads = ("GET",)

    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="categories_list",
        responses={
            200: CategoryOutputSerializer(many=True),
            **ERRORS.pick(400, 404, 429),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.category_list_with_counts(include_empty=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        response = paginator.get_paginated_response(
            CategoryOutputSerializer(page, many=True).data
        )
        return set_last_modified(response, [c.updated_at for c in page])

    @extend_schema(
        operation_id="categories_create",
        request=CategoryInputSerializer,
        responses={201: CategoryOutputSerializer, **ERRORS.pick(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        _require(request, "posts.add_category", "Only editors may add categories.")
        data = CategoryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(**data.validated_data)
        return Response(
            CategoryOutputSerializer(_category(category.slug)).data,
            status=status.HTTP_201_CREATED,
        )


class CategoryDetailApi(ApiView):
    """One category; editors change or delete it (only while it has no posts)."""

    public_reads = ("GET",)

    @extend_schema(
        operation_id="categories_retrieve",
        parameters=[CATEGORY_SLUG_PARAMETER],
        responses={200: CategoryOutputSerializer, **ERRORS.pick(404, 429)},
    )
    def get(self, request: Request, slug: str) -> Response:
        category = _category(slug)
        response = Response(CategoryOutputSerializer(category).data)
        return set_last_modified(response, [category.updated_at])

    @extend_schema(
        operation_id="categories_update",
        parameters=[CATEGORY_SLUG_PARAMETER],
        request=CategoryInputSerializer,
        responses={
            200: CategoryOutputSerializer,
            **ERRORS.pick(400, 401, 403, 404, 429),
        },
    )
    def put(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=False)

    @extend_schema(
        operation_id="categories_partial_update",
        parameters=[CATEGORY_SLUG_PARAMETER],
        request=CategoryInputSerializer(partial=True),
        responses={
            200: CategoryOutputSerializer,
            **ERRORS.pick(400, 401, 403, 404, 429),
        },
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self._update(request, slug, partial=True)

    def _update(self, request: Request, slug: str, *, partial: bool) -> Response:
        _require(
            request, "posts.change_category", "Only editors may change categories."
        )
        category = _category(slug)
        data = CategoryInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        category = services.category_update(category=category, **data.validated_data)
        return Response(CategoryOutputSerializer(_category(category.slug)).data)

    @extend_schema(
        operation_id="categories_destroy",
        parameters=[CATEGORY_SLUG_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted"),
            **ERRORS.pick(400, 401, 403, 404, 429),
        },
    )
    def delete(self, request: Request, slug: str) -> Response:
        _require(
            request, "posts.delete_category", "Only editors may delete categories."
        )
        services.category_delete(category=_category(slug))
        return Response(status=status.HTTP_204_NO_CONTENT)
