from django.urls import path

from accounts.api.views import TokenApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="token"),
]
