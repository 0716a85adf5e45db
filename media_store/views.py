import time
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from blog_site import page_cache
from blog_site.errors import ServiceUnavailable
from media_store import selectors, services, storage
from media_store.models import Image
from media_store.processing import CONTENT_TYPES, EXTENSIONS
from media_store.renditions import WEBP, rendition_name

# Seconds a browser may keep a redirect; the presigned URL must outlive it.
REDIRECT_MAX_AGE = 60
# Seconds of signature left, beyond REDIRECT_MAX_AGE, when the page cache
# stops handing out a shared redirect.
REDIRECT_SHARE_MARGIN = 30


@require_safe
def image_redirect(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Send the browser to a short-lived URL for the original or a rendition.

    `?w=<width>` picks a rendition from MEDIA_RENDITION_WIDTHS (the original
    when the image is not wider than that), `&fm=webp` its WebP copy. An
    image no published post shows is a 404 for visitors (staff and its
    uploader still see it, e.g. in a draft's preview).
    """
    image = selectors.image_get_for_serving(pk=pk)
    if image is None or not selectors.image_visible_to(image=image, user=request.user):
        raise Http404("No such image")
    name, fmt = image.name, image.format
    width_param = request.GET.get("w")
    fm = request.GET.get("fm", "").lower()
    if fm not in {"", "webp"}:
        return HttpResponseBadRequest("fm must be webp or absent.")
    if width_param is not None:
        widths = settings.MEDIA_RENDITION_WIDTHS
        if not width_param.isdigit() or int(width_param) not in widths:
            return HttpResponseBadRequest(
                "w must be one of " + ", ".join(str(w) for w in widths) + "."
            )
        width = int(width_param)
        if width in image.renditions:
            fmt = WEBP if fm else image.format
            name = rendition_name(image, width, fmt)
    if storage.is_s3():
        url = storage.presigned_get_url(
            name,
            content_type=CONTENT_TYPES[fmt],
            filename=f"{image.pk}.{EXTENSIONS[fmt]}",
        )
    else:
        url = default_storage.url(name)
    response = HttpResponseRedirect(url)
    # Shorter than the presigned URL's lifetime, so a cached redirect never
    # points at an expired signature.
    patch_cache_control(response, private=True, max_age=REDIRECT_MAX_AGE)
    if image.public:
        # Any visitor gets this redirect, so the ASGI page cache may answer
        # the next ones on the event loop. A post write (publish, edit,
        # unpublish) bumps the content version, which drops it on every
        # replica; it is also dropped while the signature still has more
        # than a browser's max_age plus a margin to live.
        page_cache.share(request, response)
        page_cache.cache_until(
            response,
            time.time()
            + settings.S3_PRESIGN_SECONDS
            - REDIRECT_MAX_AGE
            - REDIRECT_SHARE_MARGIN,
        )
    return response


# --- Staff upload endpoints (JSON) ------------------------------------------
#
# Contract for media_store/static/media_store/markdown-upload.js and any other
# staff client. All take a POST with a session cookie and a CSRF token
# (X-CSRFToken header or csrfmiddlewaretoken field); all answer JSON.
#   upload          multipart `file` (+ `alt`)   -> 201 image JSON
#   direct          `content_type`               -> 200 {method: "post", url,
#                   fields, token, confirm_url} or, without S3,
#                   {method: "multipart", url} (use `upload` then)
#   direct_confirm  `token` (+ `alt`)            -> 201 image JSON
# Errors: 400 {"error": "<message for people>"}; 403 when not staff.
# Image JSON: {id, url, markdown, html, width, height}.


def image_json(image: Image) -> dict[str, object]:
    url = image.get_absolute_url()
    return {
        "id": str(image.pk),
        "url": url,
        "markdown": image.markdown,
        "html": format_html('<img alt="{}" src="{}"/>', image.alt, url),
        "width": image.width,
        "height": image.height,
    }


def _refuse(request: HttpRequest) -> JsonResponse | None:
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"error": _("Log in to upload images.")}, status=403)
    if not (
        user.is_active and user.is_staff and user.has_perm("media_store.add_image")
    ):
        return JsonResponse({"error": _("You may not upload images.")}, status=403)
    return None


def _error(exc: ValidationError) -> JsonResponse:
    if isinstance(exc, ServiceUnavailable):
        response = JsonResponse({"error": " ".join(exc.messages)}, status=503)
        response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return JsonResponse({"error": " ".join(exc.messages)}, status=400)


@require_POST
@never_cache
def image_upload(request: HttpRequest) -> JsonResponse:
    """Upload one image from a staff page (paste/drop in the post editor)."""
    if refused := _refuse(request):
        return refused
    file = request.FILES.get("file")
    if file is None:
        return JsonResponse({"error": _("Choose an image file to upload.")}, status=400)
    try:
        image = services.image_create(
            file=file, alt=request.POST.get("alt", ""), uploader=request.user
        )
    except ValidationError as exc:
        return _error(exc)
    return JsonResponse(image_json(image), status=201)


@require_POST
@never_cache
def image_direct_begin(request: HttpRequest) -> JsonResponse:
    """Start a browser-to-bucket upload, or point at `upload` without S3."""
    if refused := _refuse(request):
        return refused
    if not storage.is_s3():
        return JsonResponse(
            {"method": "multipart", "url": reverse("media_store:upload")}
        )
    try:
        upload = services.image_direct_upload_begin(
            uploader=request.user,  # type: ignore[arg-type]
            content_type=request.POST.get("content_type", ""),
        )
    except ValidationError as exc:
        return _error(exc)
    return JsonResponse(
        {**upload.as_json(), "confirm_url": reverse("media_store:direct_confirm")}
    )


@require_POST
@never_cache
def image_direct_confirm(request: HttpRequest) -> JsonResponse:
    """Finish a browser-to-bucket upload: verify the object, create the Image."""
    if refused := _refuse(request):
        return refused
    try:
        image = services.image_direct_upload_confirm(
            token=request.POST.get("token", ""),
            uploader=request.user,  # type: ignore[arg-type]
            alt=request.POST.get("alt", ""),
        )
    except ValidationError as exc:
        return _error(exc)
    return JsonResponse(image_json(image), status=201)
