from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from media_store import selectors, storage
from media_store.renditions import WEBP, rendition_name


@require_safe
def image_redirect(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Send the browser to a short-lived URL for the original or a rendition.

    `?w=<width>` picks a rendition from MEDIA_RENDITION_WIDTHS (the original
    when the image is not wider than that), `&fm=webp` its WebP copy.
    """
    image = selectors.image_get(pk=pk)
    if image is None:
        raise Http404("No such image")
    name = image.file.name
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
            name = rendition_name(image, width, WEBP if fm else image.format)
    url = (
        storage.presigned_get_url(name)
        if storage.is_s3()
        else default_storage.url(name)
    )
    response = HttpResponseRedirect(url)
    # Shorter than the presigned URL's lifetime, so a cached redirect never
    # points at an expired signature.
    patch_cache_control(response, private=True, max_age=60)
    return response
