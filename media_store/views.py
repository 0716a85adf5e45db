from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import patch_cache_control

from media_store import selectors, storage


def image_redirect(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Send the browser to a short-lived URL for the stored object."""
    image = selectors.image_get(pk=pk)
    if image is None:
        raise Http404("No such image")
    url = (
        storage.presigned_get_url(image.file.name)
        if storage.is_s3()
        else image.file.url
    )
    response = HttpResponseRedirect(url)
    # Shorter than the presigned URL's lifetime, so a cached redirect never
    # points at an expired signature.
    patch_cache_control(response, private=True, max_age=60)
    return response
