from django.urls import path

from media_store import views

app_name = "media_store"

urlpatterns = [
    path("images/<uuid:pk>", views.image_redirect, name="image"),
    path("media-admin/images/upload", views.image_upload, name="upload"),
    path("media-admin/images/direct", views.image_direct_begin, name="direct"),
    path(
        "media-admin/images/direct/confirm",
        views.image_direct_confirm,
        name="direct_confirm",
    ),
]
