from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from blog_site import health
from posts.urls import sitemap_urlpatterns

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("blog_site.api.urls")),
    path("", include("media_store.urls")),
    path("", include("talk.urls")),
    path("", include("posts.urls")),
]
urlpatterns += sitemap_urlpatterns

if settings.DEBUG and not settings.S3_ENDPOINT_URL:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
