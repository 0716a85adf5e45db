from django.urls import path

from talk import views

app_name = "talk"

urlpatterns = [
    path("talk/", views.room, name="lobby"),
    path("talk/<slug:slug>/", views.room, name="room"),
]
