"""daphne with a graceful shutdown: `python -m blog_site.serve <daphne args>`.

Takes exactly daphne's command line (it is daphne's own CLI with another
Server class). Plain daphne answers SIGTERM with `reactor.stop()`: it cancels
every running request (the client gets no response) and drops every socket
without a close frame (WebSocket clients see 1006). Here SIGTERM (or SIGINT)
starts a drain instead:

1. the process is marked draining, so `/readyz` answers 503;
2. the listening sockets close, so no new connection arrives;
3. every open WebSocket gets close code 1012 ("service restart"), which tells
   the talk client to reconnect at once, to another replica
   (docs/talk-protocol.md); its consumer runs its disconnect handler as usual;
4. requests in flight (and those still arriving on open keep-alive
   connections) finish, each connection closing after its response;
5. the reactor stops when nothing is left, or after SHUTDOWN_GRACE_SECONDS,
   when what is left is cancelled as plain daphne would. Exit status 0 in
   both cases (plain daphne can hang at exit, see main()).

A second signal during the drain stops at once.

Per request it also does less than plain daphne (see GracefulServer): a
finished HTTP request is forgotten when its response is complete rather than
at daphne's next once-a-second sweep, and there is no access log unless
`--access-log` asks for one (the ingress logs every request already). The
heap is frozen out of the cyclic collector's sight at start, after the first
WARM_REQUESTS requests and as WebSocket connections reach new highs
(SocketFreezer).
"""

from __future__ import annotations

# daphne.server installs Twisted's asyncio reactor on import: it must come
# before anything else imports twisted.internet.reactor.
from daphne.cli import CommandLineInterface  # isort: skip
from daphne.server import Server  # isort: skip

import asyncio
import logging
import os
import signal
import threading
import time
from functools import partial
from typing import Any

from autobahn.websocket.protocol import WebSocketProtocol
from daphne.http_protocol import WebRequest
from twisted.internet import defer, reactor
from twisted.internet.error import ReactorNotRunning

from blog_site.draining import draining_start
from blog_site.heap import SocketFreezer, freeze_heap

logger = logging.getLogger("blog_site.serve")

# RFC 6455 / IANA: "Service Restart", the client may reconnect. Autobahn's
# sendClose() only lets applications send 1000 and 3000-4999; this close is
# the server's own, so it goes through sendCloseFrame(), which takes any code.
CLOSE_SERVICE_RESTART = 1012
POLL_SECONDS = 0.1
DEFAULT_GRACE_SECONDS = 20.0
EXIT_TIMEOUT_SECONDS = 2.0
CANCEL_WAIT_SECONDS = 1.0
# Finished requests after which the heap is frozen a second time (see
# blog_site.heap): by then Django has built what it builds on first use.
WARM_REQUESTS = 1000


def grace_seconds() -> float:
    try:
        from django.conf import settings

        return float(settings.SHUTDOWN_GRACE_SECONDS)
    except Exception:  # noqa: BLE001 - not a Django app, or no such setting
        return DEFAULT_GRACE_SECONDS


class GracefulServer(Server):
    """daphne's Server, draining on SIGTERM instead of stopping."""

    def __init__(self, *args: Any, access_log: bool = True, **kwargs: Any) -> None:
        # Twisted's own handlers would stop the reactor on SIGTERM.
        kwargs["signal_handlers"] = False
        if not access_log:
            kwargs["action_logger"] = None
        super().__init__(*args, **kwargs)
        self.ports: list[Any] = []
        self.draining = False
        self.deadline = 0.0
        self.started = 0.0
        self.http_channels: set[Any] = set()
        self.sockets_closed = 0
        self.requests_seen: set[Any] = set()
        self.requests_done = 0
        self.sockets = SocketFreezer()

    def run(self) -> None:
        loop = reactor._asyncioEventloop  # noqa: SLF001 - the reactor's own loop
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.drain, signum)
        freeze_heap()
        super().run()

    # --- per request ----------------------------------------------------------

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        queue = super().create_application(protocol, scope)
        details = self.connections.get(protocol)
        if isinstance(protocol, WebRequest) and details is not None:
            instance = details["application_instance"]
            instance.add_done_callback(partial(self._forget, protocol))
        elif isinstance(protocol, WebSocketProtocol):
            self.sockets.opened()
        return queue

    def protocol_disconnected(self, protocol: Any) -> None:
        details = self.connections.get(protocol)
        if (
            isinstance(protocol, WebSocketProtocol)
            and details is not None
            and "application_instance" in details
            and "disconnected" not in details  # daphne may report it twice
        ):
            self.sockets.closed()
        super().protocol_disconnected(protocol)

    def _forget(self, protocol: Any, instance: Any) -> None:
        """Drop a finished HTTP request from the connection table now.

        daphne sweeps the table once a second (application_checker), so under
        load it holds a second's worth of finished requests (thousands) and
        each sweep walks all of them in one go on the event loop: a pause of
        several ms every second for whatever arrives meanwhile, and every one
        of those request objects kept alive into the collector's older
        generations. A request that failed is left to the sweep, which logs
        its exception and answers 500; so is every request during a drain,
        whose table `_tick` reads to close each keep-alive connection.
        """
        details = self.connections.get(protocol)
        if (
            self.draining
            or details is None
            or details.get("application_instance") is not instance
            or "disconnected" not in details
            or (not instance.cancelled() and instance.exception() is not None)
        ):
            return
        del self.connections[protocol]
        self.requests_done += 1
        if self.requests_done == WARM_REQUESTS:
            freeze_heap()

    def listen_success(self, port: Any) -> None:
        self.ports.append(port)
        if self.verbosity <= 1:
            # Twisted's HTTPFactory formats a Common Log Format line for every
            # request and hands it to Twisted's log, which daphne sends
            # nowhere at this verbosity: several % of a cached page's cost.
            self.http_factory.log = _discard_request_log
        super().listen_success(port)

    # --- the drain ------------------------------------------------------------

    def drain(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.draining:
            logger.warning("graceful shutdown: second %s, stopping now", name)
            try:
                self.stop()
            except ReactorNotRunning:
                os._exit(0)  # already stopping, and stuck: leave now
            return
        self.draining = True
        self.started = time.monotonic()
        grace = grace_seconds()
        self.deadline = self.started + grace
        draining_start()
        for port in self.ports:
            port.stopListening()
        logger.info(
            "graceful shutdown: %s, draining for up to %.0f s (%d in flight)",
            name,
            grace,
            len(self._pending()),
        )
        self._tick()

    def _pending(self) -> list[Any]:
        """Connections whose application instance is still running."""
        return [
            protocol
            for protocol, details in self.connections.items()
            if details.get("application_instance") is not None
            and not details["application_instance"].done()
        ]

    def _tick(self) -> None:
        for protocol in list(self.connections):
            if isinstance(protocol, WebSocketProtocol):
                # Also catches sockets whose handshake finished mid-drain.
                if protocol.state == WebSocketProtocol.STATE_OPEN:
                    protocol.sendCloseFrame(
                        code=CLOSE_SERVICE_RESTART,
                        reasonUtf8=b"service restart",
                        isReply=False,
                    )
                    self.sockets_closed += 1
            elif isinstance(protocol, WebRequest):
                self.requests_seen.add(protocol)
                # Twisted drops the attribute once the request is done.
                channel = getattr(protocol, "channel", None)
                if channel is not None:
                    # Close the keep-alive connection after this response,
                    # with its bytes flushed (reactor.stop would cut it
                    # mid-write).
                    channel.persistent = False
                    self.http_channels.add(channel)
        pending = self._pending()
        open_channels = [
            c
            for c in self.http_channels
            if c.transport and not c.transport.disconnected
        ]
        over = time.monotonic() >= self.deadline
        if (pending or open_channels) and not over:
            reactor.callLater(POLL_SECONDS, self._tick)
            return
        elapsed = time.monotonic() - self.started
        if pending:
            logger.warning(
                "graceful shutdown: grace period over after %.1f s, "
                "cancelling %d still running",
                elapsed,
                len(pending),
            )
        else:
            logger.info(
                "graceful shutdown: drained in %.1f s: %d requests finished, "
                "%d WebSockets closed with %d, 0 cancelled",
                elapsed,
                len(self.requests_seen),
                self.sockets_closed,
                CLOSE_SERVICE_RESTART,
            )
        self.stop()

    def kill_all_applications(self) -> Any:
        """Cancel what is still running; wait for it at most a moment.

        Replaces daphne's version, which waits for every cancelled instance
        and assumes every connection has one. A request whose view runs in a
        worker thread is only done when the thread is, so a stuck view would
        keep the reactor from stopping (plain daphne then lingers until
        SIGKILL).
        """
        running = [
            details["application_instance"]
            for details in self.connections.values()
            if "application_instance" in details
            and not details["application_instance"].done()
        ]
        for instance in running:
            instance.cancel()
        logger.info("Killed %i pending application instances", len(running))
        if not running:
            return None
        waiting = asyncio.ensure_future(
            asyncio.wait(running, timeout=CANCEL_WAIT_SECONDS)
        )
        return defer.Deferred.fromFuture(waiting).addErrback(lambda _: None)


def _discard_request_log(request: Any) -> None:
    return None


class GracefulCommandLineInterface(CommandLineInterface):
    description = "daphne with a graceful shutdown on SIGTERM (blog_site.serve)"
    server_class = GracefulServer

    def run(self, args: list[str]) -> None:
        # daphne writes an access line per request to stdout at its default
        # verbosity (a formatted line and a write per request, about 5% of a
        # cached page's cost); Traefik's access log already has every request.
        asked = any(a == "--access-log" or a.startswith("--access-log=") for a in args)
        if not asked:
            self.server_class = partial(GracefulServer, access_log=False)  # type: ignore[assignment]
        super().run(args)


def main() -> None:
    GracefulCommandLineInterface.entrypoint()
    # The reactor has stopped. A request abandoned at the deadline can leave a
    # worker thread waiting for the stopped event loop forever, and the
    # interpreter joins worker threads before it exits (plain daphne hangs
    # there until SIGKILL). Give a clean exit a moment, then leave anyway.
    watchdog = threading.Timer(EXIT_TIMEOUT_SECONDS, os._exit, args=(0,))
    watchdog.daemon = True
    watchdog.start()


if __name__ == "__main__":
    main()
