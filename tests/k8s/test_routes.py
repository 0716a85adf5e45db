"""Traefik routing: every IngressRoute points only at its own namespace."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.k8s.manifests import K8S, Obj, all_objects, ident

ROUTES = [o for o in all_objects() if o["kind"] == "IngressRoute"]
HOST = re.compile(r"Host\(`([^`]+)`\)")


def _services(namespace: str) -> dict[str, set[str | int]]:
    """Service name -> the ports (names and numbers) it serves, including the
    Services other software creates at run time from this tree's objects."""
    out: dict[str, set[str | int]] = {}
    for obj in all_objects():
        if obj["metadata"].get("namespace") != namespace:
            continue
        if obj["kind"] == "Service":
            ports = out.setdefault(obj["metadata"]["name"], set())
            for port in obj["spec"]["ports"]:
                ports |= {port["port"], port.get("name", port["port"])}
        elif obj["kind"] == "EventSource" and "service" in obj["spec"]:
            # The Argo Events controller names it <eventsource>-eventsource-svc.
            name = f"{obj['metadata']['name']}-eventsource-svc"
            out[name] = {p["port"] for p in obj["spec"]["service"]["ports"]}
    if namespace == "bdg-blog-harbor":
        # Rendered by the Harbor chart from values.yaml.
        values = yaml.safe_load((K8S / "bdg-blog-harbor" / "values.yaml").read_text())
        cluster_ip = values["expose"]["clusterIP"]
        out[cluster_ip["name"]] = {cluster_ip["ports"]["httpPort"]}
    return out


def _named(kind: str, namespace: str) -> set[str]:
    return {
        o["metadata"]["name"]
        for o in all_objects()
        if o["kind"] == kind and o["metadata"].get("namespace") == namespace
    }


def test_routes_exist_for_every_public_host() -> None:
    hosts = {
        h
        for r in ROUTES
        for route in r["spec"]["routes"]
        for h in HOST.findall(route["match"])
    }
    assert {
        "blog.example.org",
        "dev.example.org",
        "s3.example.org",
        "minio.example.org",
        "harbor.example.org",
        "ci.example.org",
    } <= hosts


@pytest.mark.parametrize("route", ROUTES, ids=ident)
def test_ingressroute_refers_only_to_its_own_namespace(route: Obj) -> None:
    namespace = route["metadata"]["namespace"]
    services = _services(namespace)
    middlewares = _named("Middleware", namespace)
    for rule in route["spec"]["routes"]:
        assert rule["kind"] == "Rule"
        for service in rule["services"]:
            assert service.get("namespace", namespace) == namespace
            assert service.get("kind", "Service") == "Service"
            assert service["name"] in services, f"{ident(route)}: {service['name']}"
            assert service["port"] in services[service["name"]], (
                f"{ident(route)}: {service['name']} has no port {service['port']}"
            )
        for middleware in rule.get("middlewares", []):
            assert middleware.get("namespace", namespace) == namespace
            assert middleware["name"] in middlewares, f"{ident(route)}: {middleware}"


@pytest.mark.parametrize("route", ROUTES, ids=ident)
def test_https_routes_have_tls_and_http_routes_redirect(route: Obj) -> None:
    namespace = route["metadata"]["namespace"]
    entry_points = route["spec"]["entryPoints"]
    assert entry_points in (["websecure"], ["web"]), entry_points
    if entry_points == ["web"]:
        for rule in route["spec"]["routes"]:
            assert [m["name"] for m in rule["middlewares"]] == ["https-redirect"]
        return
    tls = route["spec"]["tls"]
    assert tls["options"]["name"] in _named("TLSOption", namespace)
    assert tls["options"].get("namespace", namespace) == namespace
    (certificate,) = [
        o
        for o in all_objects()
        if o["kind"] == "Certificate"
        and o["metadata"]["namespace"] == namespace
        and o["spec"]["secretName"] == tls["secretName"]
    ]
    hosts = {h for rule in route["spec"]["routes"] for h in HOST.findall(rule["match"])}
    assert hosts <= set(certificate["spec"]["dnsNames"]), ident(route)
    assert certificate["spec"]["issuerRef"]["kind"] == "ClusterIssuer"
    issuers = {
        o["metadata"]["name"] for o in all_objects() if o["kind"] == "ClusterIssuer"
    }
    assert certificate["spec"]["issuerRef"]["name"] in issuers


def test_every_https_host_also_redirects_from_http() -> None:
    secure, plain = set(), set()
    for route in ROUTES:
        hosts = {
            h for rule in route["spec"]["routes"] for h in HOST.findall(rule["match"])
        }
        (secure if route["spec"]["entryPoints"] == ["websecure"] else plain).update(
            hosts
        )
    # The CI webhook is called by GitHub over HTTPS only.
    assert secure - plain == {"ci.example.org"}


def test_blog_routes_limit_the_api_and_keep_websockets_unbuffered() -> None:
    route = next(r for r in ROUTES if r["metadata"]["name"] == "bdg-blog")
    by_match = {
        rule["match"]: [m["name"] for m in rule.get("middlewares", [])]
        for rule in route["spec"]["routes"]
    }
    api = next(m for match, m in by_match.items() if "/api/" in match)
    assert "api-rate-limit" in api and "body-limit" in api
    ws = next(m for match, m in by_match.items() if "/ws/" in match)
    assert "body-limit" not in ws
    assert all("security-headers" in m for m in by_match.values())
    # Pages and API answers are compressed; the WebSocket route is left alone.
    assert [m for m in by_match.values() if "compress" in m] == [
        m for match, m in by_match.items() if "/ws/" not in match
    ]
    compress = next(
        o
        for o in all_objects()
        if o["kind"] == "Middleware"
        and o["metadata"]["name"] == "compress"
        and o["metadata"]["namespace"] == route["metadata"]["namespace"]
    )["spec"]["compress"]
    excluded = set(compress["excludedContentTypes"])
    assert not {"text/html", "application/json", "application/rss+xml"} & excluded
    assert {"text/event-stream", "image/webp"} <= excluded
    limit = next(
        o
        for o in all_objects()
        if o["kind"] == "Middleware" and o["metadata"]["name"] == "api-rate-limit"
    )
    assert limit["spec"]["rateLimit"]["average"] > 0


def test_media_host_adds_the_headers_s3_cannot() -> None:
    """Uploads are served from the S3 host: nosniff and a sandboxing CSP there."""
    route = next(r for r in ROUTES if r["metadata"]["name"] == "minio")
    (s3,) = [
        rule for rule in route["spec"]["routes"] if "s3.example.org" in rule["match"]
    ]
    assert [m["name"] for m in s3["middlewares"]] == ["media-headers"]
    headers = next(
        o
        for o in all_objects()
        if o["kind"] == "Middleware"
        and o["metadata"]["name"] == "media-headers"
        and o["metadata"]["namespace"] == "bdg-blog-minio"
    )["spec"]["headers"]
    assert headers["contentTypeNosniff"] is True
    csp = headers["contentSecurityPolicy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert "script-src" not in csp
