"""Authoring in the Django admin.

Authors see and edit only their own posts; Editors (`edit_others_posts`)
see everything. Writes go through posts.services so the admin, imports and
the API render, validate and keep history the same way.
"""

from __future__ import annotations

import difflib
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from reversion.admin import VersionAdmin
from reversion.models import Version

from posts import services
from posts.models import Category, Post, SlugRedirect

DIFF_FIELDS = ("title", "slug", "category", "status", "published_at", "summary", "body")


def can_edit_others(request: HttpRequest) -> bool:
    return request.user.has_perm("posts.edit_others_posts")


class PostAdminForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = (
            "title",
            "slug",
            "category",
            "tags",
            "body",
            "summary",
            "thumbnail",
            "status",
            "published_at",
            "author",
        )
        widgets = {
            "body": forms.Textarea(
                attrs={"rows": 24, "class": "post-body-editor", "spellcheck": "true"}
            ),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.request = request
        if "body" in self.fields:
            # Live preview (posts/admin/post-editor.js) and paste/drop image
            # upload (media_store/markdown-upload.js) hook onto these.
            self.fields["body"].widget.attrs.update(
                {
                    "data-preview-url": reverse("admin:posts_post_preview"),
                    "data-image-upload-url": reverse("media_store:upload"),
                    "data-image-direct-url": reverse("media_store:direct"),
                }
            )
            self.fields["body"].help_text = _(
                "Markdown. Paste or drop pictures here to upload and insert them."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        becomes_public = data.get("status") == Post.Status.PUBLISHED and (
            self.instance.pk is None or self.instance.status != Post.Status.PUBLISHED
        )
        user = self.request.user if self.request else None
        if (
            becomes_public
            and user is not None
            and not user.has_perm("posts.publish_post")
        ):
            self.add_error("status", _("You may not publish posts."))
        return data


@admin.register(Post)
class PostAdmin(VersionAdmin):
    form = PostAdminForm
    list_display = (
        "title",
        "category",
        "author",
        "status_badge",
        "published_at",
        "updated_at",
    )
    list_filter = ("status", "category", "author", "published_at")
    list_select_related = ("category", "author")
    search_fields = ("title", "body", "slug")
    date_hierarchy = "published_at"
    ordering = ("-updated_at",)
    actions = ("publish_selected", "unpublish_selected")
    raw_id_fields = ("thumbnail",)
    readonly_fields = ("thumbnail_preview", "created_at", "updated_at")
    list_per_page = 50
    change_form_template = "admin/posts/post/change_form.html"
    object_history_template = "admin/posts/post/object_history.html"

    class Media:
        js = ("posts/admin/post-editor.js", "media_store/markdown-upload.js")
        css = {"all": ("posts/admin/post-editor.css",)}

    def get_fieldsets(self, request: HttpRequest, obj: Post | None = None) -> Any:
        main = ["title", "slug", "category", "tags", "body", "summary"]
        publishing = ["status", "published_at"]
        if can_edit_others(request):
            publishing.append("author")
        return (
            (None, {"fields": main}),
            (_("Thumbnail"), {"fields": ["thumbnail", "thumbnail_preview"]}),
            (_("Publishing"), {"fields": publishing}),
            (
                _("Dates"),
                {"fields": ["created_at", "updated_at"], "classes": ["collapse"]},
            ),
        )

    def get_form(
        self, request: HttpRequest, obj: Post | None = None, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, **kwargs)

        class RequestForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, request=request, **kw)

        return RequestForm

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("author", request.user.pk)
        return initial

    # --- who sees what ----------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        queryset = super().get_queryset(request).select_related("category", "author")
        if can_edit_others(request):
            return queryset
        return queryset.filter(author=request.user)

    def _owns(self, request: HttpRequest, obj: Post | None) -> bool:
        return (
            obj is None or can_edit_others(request) or obj.author_id == request.user.pk
        )

    def has_change_permission(
        self, request: HttpRequest, obj: Post | None = None
    ) -> bool:
        return super().has_change_permission(request, obj) and self._owns(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: Post | None = None
    ) -> bool:
        return super().has_delete_permission(request, obj) and self._owns(request, obj)

    def has_view_permission(
        self, request: HttpRequest, obj: Post | None = None
    ) -> bool:
        return super().has_view_permission(request, obj) and self._owns(request, obj)

    # --- saving through the services --------------------------------------

    def save_model(
        self, request: HttpRequest, obj: Post, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            if change:
                fields = [
                    name
                    for name in form.changed_data
                    if name in services.POST_EDITABLE_FIELDS
                ]
                services.post_update(
                    post=obj,
                    data={name: data[name] for name in fields},
                    by=request.user,
                    comment=_("Changed %s.")
                    % ", ".join(form.changed_data or ["nothing"]),
                )
            else:
                created = services.post_create(
                    author=data.get("author") or request.user,
                    title=data["title"],
                    slug=data.get("slug") or "",
                    body=data["body"],
                    category=data["category"],
                    summary=data.get("summary") or "",
                    thumbnail=data.get("thumbnail"),
                    status=data["status"],
                    published_at=data.get("published_at"),
                    by=request.user,
                )
                obj.pk = created.pk
                obj.__dict__.update(created.__dict__)
                obj._state.adding = False
        except ValidationError as exc:  # raced with another save: say why
            raise PermissionDenied("; ".join(exc.messages)) from exc

    # --- list ---------------------------------------------------------------

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Post) -> str:
        if obj.is_scheduled:
            label, css = _("Scheduled"), "scheduled"
        elif obj.is_public:
            label, css = _("Published"), "published"
        else:
            label, css = _("Draft"), "draft"
        return format_html(
            '<span class="post-status post-status--{}">{}</span>', css, label
        )

    @admin.display(description=_("preview"))
    def thumbnail_preview(self, obj: Post) -> str:
        if not obj.thumbnail_id:
            return "—"
        image = obj.thumbnail
        return format_html(
            '<img class="thumbnail-preview" src="{}" alt="{}" width="{}" height="{}">',
            image.get_absolute_url(),
            image.alt,
            image.width,
            image.height,
        )

    @admin.action(description=_("Publish selected posts"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done, failed = 0, []
        for post in queryset.select_related("category"):
            if post.status == Post.Status.PUBLISHED:
                continue
            try:
                services.post_publish(post=post, by=request.user)
                done += 1
            except ValidationError as exc:
                failed.append(f"{post.title}: {'; '.join(exc.messages)}")
        self.message_user(
            request,
            ngettext("%d post published.", "%d posts published.", done) % done,
            messages.SUCCESS,
        )
        for message in failed:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("Unpublish selected posts"), permissions=["publish"])
    def unpublish_selected(
        self, request: HttpRequest, queryset: QuerySet[Post]
    ) -> None:
        done = 0
        for post in queryset.select_related("category"):
            if post.status == Post.Status.PUBLISHED:
                services.post_unpublish(post=post, by=request.user)
                done += 1
        self.message_user(
            request,
            ngettext("%d post unpublished.", "%d posts unpublished.", done) % done,
            messages.SUCCESS,
        )

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("posts.publish_post")

    # --- live preview and diffs ---------------------------------------------

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="posts_post_preview",
            ),
            path(
                "<path:object_id>/history/<int:version_id>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="posts_post_diff",
            ),
        ]
        return extra + super().get_urls()

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The sanitised HTML of the posted Markdown, for the editor's preview."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the body"}, status=405)
        if not (
            self.has_add_permission(request) or self.has_change_permission(request)
        ):
            raise PermissionDenied
        body = request.POST.get("body", "")
        if len(body) > 500_000:
            return JsonResponse(
                {"error": "The body is too long to preview."}, status=400
            )
        return JsonResponse({"html": services.post_preview_html(body=body)})

    def history_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        post = self.get_object(request, object_id)
        if post is None or not self.has_view_or_change_permission(request, post):
            raise PermissionDenied
        versions = Version.objects.get_for_object(post).select_related("revision__user")
        action_list = [
            {
                "revision": version.revision,
                "url": reverse("admin:posts_post_revision", args=(post.pk, version.pk)),
                "diff_url": reverse(
                    "admin:posts_post_diff", args=(post.pk, version.pk)
                ),
            }
            for version in versions
        ]
        return super().history_view(
            request, object_id, {**(extra_context or {}), "action_list": action_list}
        )

    def diff_view(
        self, request: HttpRequest, object_id: str, version_id: int
    ) -> HttpResponse:
        """What one saved version changed, field by field, against the one before."""
        post = self.get_object(request, object_id)
        if post is None or not self.has_view_or_change_permission(request, post):
            raise PermissionDenied
        versions = list(
            Version.objects.get_for_object(post).select_related("revision__user")
        )
        version = get_object_or_404(Version, pk=version_id, object_id=str(post.pk))
        older = [
            v
            for v in versions
            if v.revision.date_created < version.revision.date_created
        ]
        previous = older[0] if older else None
        before = previous.field_dict if previous else {}
        after = version.field_dict
        changes = []
        for name in DIFF_FIELDS:
            old, new = (
                _field_text(before.get(f"{name}_id", before.get(name))),
                _field_text(after.get(f"{name}_id", after.get(name))),
            )
            if name == "category":
                old, new = (
                    _category_name(before.get("category_id")),
                    _category_name(after.get("category_id")),
                )
            if old == new:
                continue
            lines = list(
                difflib.unified_diff(
                    old.splitlines(),
                    new.splitlines(),
                    "before",
                    "after",
                    lineterm="",
                    n=2,
                )
            )[2:]
            changes.append(
                {
                    "field": Post._meta.get_field(name).verbose_name,
                    "lines": [
                        {"text": line, "kind": _line_kind(line)} for line in lines
                    ],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": post,
            "title": _("Changes in %(post)s") % {"post": post.title},
            "version": version,
            "previous": previous,
            "changes": changes,
            "revert_url": reverse(
                "admin:posts_post_revision", args=(post.pk, version.pk)
            ),
        }
        return TemplateResponse(request, "admin/posts/post/diff.html", context)


def _field_text(value: Any) -> str:
    return "" if value is None else str(value)


def _category_name(pk: Any) -> str:
    if pk is None:
        return ""
    category = Category.objects.filter(pk=pk).first()
    return category.name if category else f"#{pk}"


def _line_kind(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return "context"


@admin.register(Category)
class CategoryAdmin(VersionAdmin):
    list_display = ("name", "slug", "position", "post_total")
    list_editable = ("position",)
    search_fields = ("name", "slug")
    fields = ("name", "slug", "description", "position")

    @admin.display(description=_("posts"))
    def post_total(self, obj: Category) -> int:
        return obj.post_total  # type: ignore[attr-defined]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        from django.db.models import Count

        return super().get_queryset(request).annotate(post_total=Count("posts"))

    def save_model(
        self, request: HttpRequest, obj: Category, form: Any, change: bool
    ) -> None:
        data = {name: form.cleaned_data[name] for name in self.fields}
        if change:
            services.category_update(category=obj, **data)
        else:
            created = services.category_create(**data)
            obj.pk = created.pk
            obj.__dict__.update(created.__dict__)
            obj._state.adding = False


@admin.register(SlugRedirect)
class SlugRedirectAdmin(admin.ModelAdmin):
    list_display = ("kind", "old_slug", "post", "category", "created_at")
    list_filter = ("kind",)
    search_fields = ("old_slug",)
    raw_id_fields = ("post", "category")
