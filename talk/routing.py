from django.urls import URLPattern, path

from talk.consumers import ChatConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/talk/<slug:room>/", ChatConsumer.as_asgi()),
]
