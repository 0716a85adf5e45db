"""The site's URLs plus a request that stays in flight until the test says so.

`/test/slow?key=K` counts itself in Redis (`K:arrived`), then waits until
`K:release` exists and answers 200. The drill knows exactly when every request
is in flight, and when to let them finish, without timing anything.
"""

import asyncio

import redis.asyncio as aioredis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path

from blog_site.urls import urlpatterns as site_urlpatterns

MAX_WAIT_SECONDS = 60


async def slow(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("key", "")
    if not key.startswith("bdg:shutdown-drill:"):
        return HttpResponseBadRequest("key")
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        await client.incr(f"{key}:arrived")
        for _ in range(MAX_WAIT_SECONDS * 20):
            if await client.exists(f"{key}:release"):
                return HttpResponse("finished")
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    return HttpResponse("never released", status=504)


urlpatterns = [path("test/slow", slow), *site_urlpatterns]
