from django.urls import path

from media_store import views

app_name = "media_store"

urlpatterns = [
    path("images/<uuid:pk>", views.image_redirect, name="image"),
]
