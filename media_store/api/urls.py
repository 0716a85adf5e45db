from django.urls import path

from media_store.api import views

urlpatterns = [
    path("images/", views.ImageListApi.as_view(), name="image_list"),
    path(
        "images/direct/",
        views.ImageDirectUploadApi.as_view(),
        name="image_direct_upload",
    ),
    path(
        "images/direct/confirm/",
        views.ImageDirectConfirmApi.as_view(),
        name="image_direct_confirm",
    ),
    path("images/<uuid:pk>/", views.ImageDetailApi.as_view(), name="image_detail"),
]
