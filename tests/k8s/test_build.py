"""Every kustomization under k8s/ builds offline, or is checked for pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.k8s.manifests import (
    K8S,
    Kustomization,
    build,
    built,
    crds_dir,
    kustomizations,
)

OFFLINE = [k for k in kustomizations() if k.buildable_offline]
REMOTE = [k for k in kustomizations() if k.is_remote]
HELM = [k for k in kustomizations() if k.uses_helm]
SEMVER = re.compile(r"^v?\d+\.\d+\.\d+$")

# Every layer the issue asks for, so that deleting one fails a test.
EXPECTED_LAYERS = {
    "k8s/cluster",
    "k8s/bdg-blog/base",
    "k8s/bdg-blog/overlays/production",
    "k8s/bdg-blog-dev/overlays/in-cluster",
    "k8s/bdg-blog-dev/overlays/forward",
    "k8s/bdg-blog-mariadb",
    "k8s/bdg-blog-redis",
    "k8s/bdg-blog-minio",
    "k8s/bdg-blog-harbor/extras",
    "k8s/bdg-blog-argocd",
    "k8s/bdg-blog-argoci",
}


def test_every_expected_layer_builds_offline() -> None:
    assert EXPECTED_LAYERS <= {k.rel for k in OFFLINE}
    assert EXPECTED_LAYERS <= set(built())


@pytest.mark.parametrize("k", OFFLINE, ids=lambda k: k.rel)
def test_kustomization_builds(k: Kustomization) -> None:
    objs = build(k.path)
    assert objs, f"{k.rel} builds nothing"
    for obj in objs:
        assert {"apiVersion", "kind", "metadata"} <= set(obj)


def test_every_component_is_used() -> None:
    used: set[Path] = set()
    for k in kustomizations():
        for ref in k.spec.get("components", []):
            used.add((k.path / ref).resolve())
    for k in kustomizations():
        if k.is_component:
            assert k.path.resolve() in used, f"component {k.rel} is used nowhere"


def _upstream_tags() -> dict[str, str]:
    """`Repo owner/name, tag vX` pairs recorded in shared/k8s-crds/SOURCES.md."""
    text = (crds_dir() / "SOURCES.md").read_text()
    return dict(re.findall(r"Repo `([^`]+)`, tag `(v[^`]+)`", text))


def test_remote_kustomizations_exist() -> None:
    rels = {k.rel for k in REMOTE}
    assert {
        "k8s/cluster/upstream/argo-workflows-crds",
        "k8s/cluster/upstream/cert-manager",
        "k8s/bdg-blog-argocd/install",
    } <= rels


@pytest.mark.parametrize("k", REMOTE, ids=lambda k: k.rel)
def test_remote_resources_are_pinned_to_the_validated_release(k: Kustomization) -> None:
    """Upstream manifests are pinned to a release tag, and to the same tag
    whose CRDs tests/k8s validates this project's custom resources against."""
    tags = _upstream_tags()
    for url in k.spec["resources"]:
        assert url.startswith("https://"), url
        assert not re.search(r"\b(master|main|HEAD|latest|stable)\b", url), url
        found = re.findall(r"(?:/|ref=)(v\d+\.\d+\.\d+)(?:/|$)", url)
        assert found, f"{url} is not pinned to a release tag"
        repo = next((r for r in tags if r in url), None)
        assert repo, f"{url}: no matching upstream in SOURCES.md"
        assert found[0] == tags[repo], f"{url} pins {found[0]}, CRDs are {tags[repo]}"


@pytest.mark.parametrize("k", HELM, ids=lambda k: k.rel)
def test_helm_chart_entry_is_complete_and_pinned(k: Kustomization) -> None:
    (chart,) = k.spec["helmCharts"]
    assert chart["name"] == "harbor"
    assert chart["repo"].startswith("https://")
    assert SEMVER.match(str(chart["version"])), chart["version"]
    assert chart["releaseName"]
    # kustomize does not put the top-level namespace on rendered objects.
    assert chart["namespace"] == k.spec["namespace"] == "bdg-blog-harbor"
    values_file = k.path / chart["valuesFile"]
    assert values_file.is_file()
    values = yaml.safe_load(values_file.read_text())
    assert isinstance(values, dict) and values["expose"]["type"] == "clusterIP"
    assert values["externalURL"].startswith("https://")
    # The extras build offline on their own and are part of the layer.
    assert "extras" in k.spec["resources"]
    namespaces = [o for o in build(k.path / "extras") if o["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == [chart["namespace"]]


def test_harbor_values_keep_credentials_in_existing_secrets() -> None:
    values = yaml.safe_load((K8S / "bdg-blog-harbor" / "values.yaml").read_text())
    assert "harborAdminPassword" not in values
    assert values["existingSecretAdminPassword"]
    assert values["existingSecretSecretKey"]


def test_vendored_argo_events_crds_are_the_upstream_files() -> None:
    vendored = sorted((K8S / "cluster" / "argo-events-crds").glob("*.yaml"))
    assert [p.name for p in vendored] == [
        "argoproj.io_eventbus.yaml",
        "argoproj.io_eventsources.yaml",
        "argoproj.io_sensors.yaml",
    ]
    for path in vendored:
        upstream = crds_dir() / "argo-events" / path.name
        assert path.read_bytes() == upstream.read_bytes(), path.name


def test_k8s_readme_covers_the_operations() -> None:
    text = (K8S / "README.md").read_text()
    for heading in (
        "Prerequisites",
        "Order",
        "Secrets",
        "DNS",
        "Upgrad",
        "Restor",
    ):
        assert re.search(rf"^#+ .*{heading}", text, flags=re.MULTILINE), heading
    assert "k8s/README.md" in (REPO_ROOT / "README.md").read_text()
