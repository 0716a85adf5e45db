"""The client's IP address, decided in one place for HTTP and WebSockets.

Every per-client limit (admin and token login lockout, chat and API rate
limits) keys on `client_ip()`, so a client that could choose its own address
could reset any of them at will. The rule:

* The peer address of the TCP connection is the only fact. If the peer is
  not one of `settings.TRUSTED_PROXIES`, it *is* the client, and any
  `X-Forwarded-For` it sent is ignored.
* If the peer is a trusted proxy, `X-Forwarded-For` is read from the right:
  each trusted proxy appends the address it received the request from, so
  the rightmost address that is not itself a trusted proxy is the client.
  Anything to its left was written by the client and is never believed.

This is why daphne must run *without* `--proxy-headers`: daphne would
replace the peer address with the leftmost `X-Forwarded-For` entry, which
the client controls, before the application could see the real peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The attribute that caches the answer on a request, so that the header is
# parsed once however many limits look at it.
_CACHE_ATTR = "_bdg_client_ip"


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def trusted_proxy_networks() -> tuple[IPNetwork, ...]:
    """The networks of `settings.TRUSTED_PROXIES`, parsed once per value."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def parse_ip(value: str | None) -> IPAddress | None:
    """An address from a header or socket value; None when it is not one.

    Accepts `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`
    and unwraps IPv4-mapped IPv6 (`::ffff:1.2.3.4`) so that one client has
    one key whichever socket family the proxy used.
    """
    if not value:
        return None
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: IPAddress) -> bool:
    return any(address in network for network in trusted_proxy_networks())


def resolve_client_ip(peer: str | None, forwarded_for: Iterable[str]) -> str | None:
    """The client address given the socket peer and the X-Forwarded-For values.

    Pure logic, shared by the HTTP and WebSocket entry points below.
    """
    peer_ip = parse_ip(peer)
    if peer_ip is None:
        return None
    if not is_trusted_proxy(peer_ip):
        return str(peer_ip)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer_ip
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            # A trusted proxy never writes garbage, so this entry came from
            # the client: stop at the last address a proxy vouched for.
            break
        client = address
        if not is_trusted_proxy(address):
            break
    return str(client)


def _from_scope(scope: Mapping[str, Any]) -> str | None:
    client = scope.get("client")
    peer = str(client[0]) if client else None
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name.lower() == b"x-forwarded-for"
    ]
    return resolve_client_ip(peer, forwarded)


def client_ip(request_or_scope: HttpRequest | Mapping[str, Any]) -> str | None:
    """The client's IP address for an HTTP request or an ASGI scope.

    Use it for every per-client decision (rate limits, lockouts, logs).
    None only when the server gave no peer address at all (a Unix socket).
    Also the `AXES_CLIENT_IP_CALLABLE`.
    """
    if isinstance(request_or_scope, Mapping):
        return _from_scope(request_or_scope)
    request = getattr(request_or_scope, "_request", request_or_scope)  # DRF
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    address = resolve_client_ip(
        request.META.get("REMOTE_ADDR"), [forwarded] if forwarded else []
    )
    if address is not None:
        setattr(request, _CACHE_ATTR, address)
    return address
