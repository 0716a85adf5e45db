"""Admin for images: upload with preview, where each image is used, snippets.

Uploads go through `services.image_create` like every other path; deletion
through `services.image_delete`, and an image in use is shown as protected
(the admin's own "cannot delete" page lists where it is used).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from media_store import processing, services
from media_store.models import Image
from media_store.usage import find_usages

ACCEPT = ",".join(processing.CONTENT_TYPES.values())


def _preview_width() -> int:
    widths = sorted(settings.MEDIA_RENDITION_WIDTHS)
    return widths[len(widths) // 2]


class ImageUploadForm(forms.ModelForm):
    """The add form: a file and its alt text; everything else is derived."""

    upload = forms.FileField(
        label=_("Image file"),
        help_text=_("JPEG, PNG, GIF or WebP. Location and camera data are removed."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ACCEPT, "data-image-preview": "true"}
        ),
    )

    class Meta:
        model = Image
        fields = ["alt"]

    def clean_upload(self) -> Any:
        upload = self.cleaned_data["upload"]
        # Validate here so a bad file is a field error on the form; the
        # service validates again when it stores (it is the only writer).
        self.prepared = processing.prepare(upload)
        upload.seek(0)
        return upload


class ImageChangeForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ["alt"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "__str__", "dimensions", "format", "size_display"]
    list_display_links = ["thumbnail", "__str__"]
    list_filter = ["format", "created_at"]
    # search_fields also enables autocomplete_fields on models pointing here
    # (the post form's thumbnail).
    search_fields = ["alt", "=id", "=sha256"]
    date_hierarchy = "created_at"
    list_per_page = 50
    readonly_fields = [
        "preview",
        "markdown_snippet",
        "usages",
        "dimensions",
        "format",
        "size_display",
        "uploader",
        "created_at",
        "sha256",
    ]

    class Media:
        js = ["media_store/image-admin.js"]
        css = {"all": ["media_store/image-admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Image]:
        return super().get_queryset(request).select_related("uploader")

    def get_form(
        self, request: HttpRequest, obj: Image | None = None, **kwargs: Any
    ) -> type[forms.ModelForm]:
        kwargs["form"] = ImageChangeForm if obj else ImageUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Image | None = None) -> list[str]:
        if obj is None:
            return ["upload", "alt"]
        return [
            "preview",
            "alt",
            "markdown_snippet",
            "usages",
            *self.readonly_fields[3:],
        ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Image | None = None
    ) -> list[str]:
        return self.readonly_fields if obj else []

    def save_model(
        self, request: HttpRequest, obj: Image, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            services.image_update(image=obj, alt=obj.alt)
            return
        existed = Image.objects.filter(sha256=form.prepared.sha256).exists()
        # A ValidationError here is a storage outage (the form validated the
        # file); changeform_view turns it into a message.
        image = services.image_create(
            file=form.cleaned_data["upload"],
            alt=form.cleaned_data.get("alt", ""),
            uploader=request.user,  # type: ignore[arg-type]
        )
        # The admin keeps using `obj` (for the log and the redirect).
        obj.__dict__.update(
            {k: v for k, v in image.__dict__.items() if not k.startswith("_")}
        )
        obj._state.adding = False
        obj._state.db = image._state.db
        if existed:
            messages.info(
                request, _("This file was uploaded before; showing the existing image.")
            )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # Only storage outages get here (bad files are form errors).
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        protected = list(protected)
        for image in objs:
            for usage in find_usages(image):
                protected.append(
                    format_html(
                        '{}: <a href="{}">{}</a>', image, usage.url, usage.label
                    )
                    if usage.url
                    else f"{image}: {usage.label}"
                )
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Image) -> None:
        services.image_delete(image=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        for image in queryset:
            services.image_delete(image=image)

    @admin.display(description=_("preview"))
    def thumbnail(self, obj: Image) -> str:
        return format_html(
            '<img src="{}?w={}" alt="" class="media-thumb" loading="lazy">',
            obj.get_absolute_url(),
            min(settings.MEDIA_RENDITION_WIDTHS),
        )

    @admin.display(description=_("preview"))
    def preview(self, obj: Image) -> str:
        return format_html(
            '<a href="{url}" target="_blank" rel="noopener">'
            '<img src="{url}?w={w}" width="{width}" height="{height}" alt="{alt}" '
            'class="media-preview"></a>',
            url=obj.get_absolute_url(),
            w=_preview_width(),
            width=obj.width,
            height=obj.height,
            alt=obj.alt,
        )

    @admin.display(description=_("Markdown"))
    def markdown_snippet(self, obj: Image) -> str:
        field_id = f"markdown-{obj.pk}"
        return format_html(
            '<input type="text" readonly id="{}" value="{}" class="vTextField '
            'media-snippet"> <button type="button" class="button" '
            'data-copy-from="{}" data-copied-label="{}">{}</button>',
            field_id,
            obj.markdown,
            field_id,
            _("Copied"),
            _("Copy"),
        )

    @admin.display(description=_("used in"))
    def usages(self, obj: Image) -> str:
        found = find_usages(obj)
        if not found:
            return _("Not used anywhere yet.")
        return format_html(
            '<ul class="media-usages">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                ((usage.url or "#", usage.label) for usage in found),
            ),
        )

    @admin.display(description=_("dimensions"))
    def dimensions(self, obj: Image) -> str:
        return f"{obj.width} × {obj.height}"

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: Image) -> str:
        return filesizeformat(obj.size)
