from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from talk.identity import session_name
from talk.selectors import room_get_by_slug, room_list


def room(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    slug = slug or settings.TALK_DEFAULT_ROOM
    current = room_get_by_slug(slug=slug)
    if current is None:
        raise Http404("No such room")
    # The WebSocket handshake reads the nickname from the session, so the
    # page makes sure the session exists (and is saved) before the script
    # connects.
    name, _ = session_name(request.session)
    return render(
        request,
        "talk/room.html",
        {
            "room": current,
            "rooms": room_list(),
            "name": name,
            "ws_path": f"/ws/talk/{current.slug}/",
            "max_length": settings.TALK_MAX_MESSAGE_LENGTH,
            "name_max_length": settings.TALK_NAME_MAX_LENGTH,
            "time_zone": settings.TIME_ZONE,
        },
    )
