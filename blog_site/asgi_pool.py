"""Django's HTTP handler for ASGI, on a fixed pool of long-lived threads.

Django's own ASGIHandler runs each request's synchronous code in a thread
made for that request (asgiref's ThreadSensitiveContext gives every request
a fresh single-thread executor) and hops between the event loop and that
thread for every middleware (each MiddlewareMixin is adapted with its own
sync_to_async). For an uncached page that hand-over cost more than Django's
own work, and since database connections belong to threads, none was ever
reused: every request opened a new MariaDB connection (issue 8).

Here the whole synchronous part of a request (request_started, the
middleware chain and view, closing the response) runs in ONE hop to a
thread of a bounded pool (`DJANGO_SYNC_THREADS`). Pool threads live as long
as the process, so `CONN_MAX_AGE` reuse works as it does under WSGI (with
`CONN_HEALTH_CHECKS`, a connection broken by a database restart is replaced
before its first use in a request), and a process holds at most one
database connection per pool thread.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import set_script_prefix


class PooledASGIHandler(ASGIHandler):
    """ASGIHandler whose synchronous work runs in one hop to a thread pool."""

    def __init__(self) -> None:
        # Not ASGIHandler.__init__: that loads the middleware in async mode,
        # where every synchronous middleware costs a thread hop of its own.
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(
            max_workers=settings.DJANGO_SYNC_THREADS,
            thread_name_prefix="django-sync",
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(
                f"Django can only handle ASGI/HTTP connections, not {scope['type']}."
            )
        # No ThreadSensitiveContext: thread-sensitive code called from a
        # request (async_to_sync then sync_to_async) comes back to the pool
        # thread that serves it, which is waiting for it.
        await self.handle(scope, receive, send)

    async def in_pool(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return await sync_to_async(
            func, thread_sensitive=False, executor=self.executor
        )(*args, **kwargs)

    def respond(self, request: HttpRequest, scope: Any) -> HttpResponseBase:
        """The response to `request`, computed in a pool thread.

        A response whose body is already in memory is closed here, before it
        is sent: closing sends request_finished, whose receivers (Django's
        close_old_connections) must run in the thread that owns the
        connections, and that costs no second hop.
        """
        signals.request_started.send(sender=self.__class__, scope=scope)
        response = self.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        # ASGI servers chunk on their own; read files in bigger blocks.
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's ASGIHandler.handle, with one hop to the pool per request."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await self.in_pool(error_response.close)
            return

        async def process_request() -> HttpResponseBase:
            response = await self.in_pool(self.respond, request, scope)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away during the send
            return response

        # As in Django: stop work on the response when the client disconnects.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            # Cancelled before a pool thread took the request up: nothing ran.
            await self.in_pool(signals.request_finished.send, sender=self.__class__)
        else:
            if response.streaming:
                await self.in_pool(response.close)
        body_file.close()
