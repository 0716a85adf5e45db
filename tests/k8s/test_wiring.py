"""The pieces point at each other: host names, in-cluster service addresses
and ports agree between the app's configuration, the Services, the routes,
the NetworkPolicies and the README."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO_ROOT
from tests.k8s.manifests import (
    K8S,
    WORKLOAD_KINDS,
    all_objects,
    configmap_data,
    containers,
    find,
    pod_spec,
)

HOST = re.compile(r"Host\(`([^`]+)`\)")


def _routed_hosts(namespace: str) -> set[str]:
    return {
        host
        for o in all_objects()
        if o["kind"] == "IngressRoute" and o["metadata"]["namespace"] == namespace
        for rule in o["spec"]["routes"]
        for host in HOST.findall(rule["match"])
    }


def _config(namespace: str) -> dict[str, str]:
    """The ConfigMap the namespace's app Deployment reads (overlays share it)."""
    deployment = next(
        o
        for o in all_objects()
        if o["kind"] == "Deployment" and o["metadata"]["namespace"] == namespace
    )
    (ref,) = pod_spec(deployment)["containers"][0]["envFrom"]
    return configmap_data(namespace, ref["configMapRef"]["name"])


def _service_port(url: str) -> tuple[str, str, int]:
    """(namespace, service, port) of an in-cluster URL; the Service must exist."""
    parts = urlsplit(url)
    match = re.fullmatch(
        r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local", parts.hostname or ""
    )
    assert match, f"{url} is not an in-cluster Service address"
    service, namespace = match.groups()
    obj = find("Service", service, namespace)
    ports = {p["port"] for p in obj["spec"]["ports"]}
    assert parts.port in ports, (
        f"{url}: Service {namespace}/{service} has ports {ports}"
    )
    return namespace, service, parts.port


@pytest.mark.parametrize("namespace", ["bdg-blog", "bdg-blog-dev"])
def test_app_host_settings_match_its_routes(namespace: str) -> None:
    config = _config(namespace)
    hosts = _routed_hosts(namespace)
    assert set(config["ALLOWED_HOSTS"].split(",")) == hosts
    assert urlsplit(config["SITE_URL"]).hostname in hosts
    assert config["SITE_URL"].startswith("https://")
    for origin in config["CSRF_TRUSTED_ORIGINS"].split(","):
        assert origin.startswith("https://") and urlsplit(origin).hostname in hosts


@pytest.mark.parametrize("namespace", ["bdg-blog", "bdg-blog-dev"])
def test_s3_endpoints_reach_minio_inside_and_outside(namespace: str) -> None:
    config = _config(namespace)
    minio_ns, service, port = _service_port(config["S3_ENDPOINT_URL"])
    assert minio_ns == "bdg-blog-minio"
    public = urlsplit(config["S3_PUBLIC_ENDPOINT_URL"])
    assert public.scheme == "https"
    route = find("IngressRoute", "minio", minio_ns)
    (rule,) = [
        r
        for r in route["spec"]["routes"]
        if HOST.findall(r["match"]) == [public.hostname]
    ]
    (target,) = rule["services"]
    port_names = {
        p["name"]: p["port"]
        for p in find("Service", service, minio_ns)["spec"]["ports"]
    }
    assert target["name"] == service
    assert port_names.get(target["port"], target["port"]) == port, (
        "the public S3 host must reach the same API port the app uses"
    )
    statefulset = find("StatefulSet", "minio", minio_ns)
    env = {
        e["name"]: e.get("value") for e in pod_spec(statefulset)["containers"][0]["env"]
    }
    assert env["MINIO_SERVER_URL"] == config["S3_PUBLIC_ENDPOINT_URL"]


@pytest.mark.parametrize(
    "example",
    [
        K8S / "bdg-blog" / "base" / "secret.example.env",
        K8S / "bdg-blog-dev" / "overlays" / "in-cluster" / "secret.example.env",
    ],
    ids=lambda p: p.parent.name,
)
def test_documented_service_urls_exist_and_are_allowed(example: Path) -> None:
    urls = re.findall(r"(?:mysql|redis)://\S+", example.read_text())
    assert len(urls) == 2
    for url in urls:
        namespace, service, port = _service_port(url.replace("<", "").replace(">", ""))
        policies = [
            o
            for o in all_objects()
            if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == namespace
        ]
        allowed_ports = {
            p["port"]
            for pol in policies
            for rule in pol["spec"]["ingress"]
            for p in rule["ports"]
        }
        assert port in allowed_ports, url


def test_readme_lists_every_routed_host() -> None:
    readme = (K8S / "README.md").read_text()
    hosts = {
        host
        for o in all_objects()
        if o["kind"] == "IngressRoute"
        for rule in o["spec"]["routes"]
        for host in HOST.findall(rule["match"])
    }
    for host in hosts:
        assert f"| `{host}` |" in readme, host


@pytest.mark.parametrize(
    "namespace,stage", [("bdg-blog", "runtime"), ("bdg-blog-dev", "build")]
)
def test_container_port_is_the_port_the_image_listens_on(
    namespace: str, stage: str
) -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    body = re.split(rf"^FROM\s+\S+\s+AS\s+{stage}\s*$", dockerfile, flags=re.M | re.I)[
        1
    ]
    body = re.split(r"^FROM\s", body, flags=re.M)[0]
    (port,) = re.findall(r"\bPORT=(\d+)", body)
    deployment = next(
        o
        for o in all_objects()
        if o["kind"] == "Deployment" and o["metadata"]["namespace"] == namespace
    )
    container = pod_spec(deployment)["containers"][0]
    assert [p["containerPort"] for p in container["ports"]] == [int(port)]
    assert "PORT" not in _config(namespace), "the image's PORT is the one probed"


def test_every_management_command_k8s_runs_exists() -> None:
    from django.core.management import get_commands

    available = set(get_commands())
    commands = {
        c["command"][2]
        for o in all_objects()
        if o["kind"] in WORKLOAD_KINDS
        for c in containers(pod_spec(o))
        if c.get("command", [])[:2] == ["python", "manage.py"]
    }
    assert {
        "migrate",
        "ensure_bucket",
        "media_cleanup_uploads",
        "media_reconcile",
    } <= commands
    assert commands <= available, commands - available
