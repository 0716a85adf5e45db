"""Argo CI builds what the blog runs; Argo CD syncs what this tree holds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.k8s.manifests import K8S, Obj, all_objects, build, built, find, pod_spec
from tests.k8s.test_build import _upstream_tags

TEMPLATE = find("WorkflowTemplate", "build-and-deploy", "bdg-blog-argoci")
TEMPLATES = {t["name"]: t for t in TEMPLATE["spec"]["templates"]}
ROOT = "bdg-blog-root"
APPLICATIONS = [
    o
    for o in all_objects()
    if o["kind"] == "Application" and o["metadata"]["name"] != ROOT
]


def _kaniko_pushes() -> dict[str, list[str]]:
    """Dockerfile target -> the image references the Workflow pushes for it."""
    kaniko = TEMPLATES["kaniko"]["container"]
    pushes: dict[str, list[str]] = {}
    for group in TEMPLATES["main"]["steps"]:
        for step in group:
            if step["template"] != "kaniko":
                continue
            params = {p["name"]: p["value"] for p in step["arguments"]["parameters"]}
            destinations = [
                a.removeprefix("--destination=").replace(
                    "{{inputs.parameters.image}}", params["image"]
                )
                for a in kaniko["args"]
                if a.startswith("--destination=")
            ]
            pushes[params["target"]] = destinations
    return pushes


def _deployment_image(layer: str, name: str) -> str:
    (deployment,) = [
        o
        for o in built()[layer]
        if o["kind"] == "Deployment" and o["metadata"]["name"] == name
    ]
    (container,) = pod_spec(deployment)["containers"]
    return container["image"]


def test_the_workflow_pushes_the_images_the_deployments_run() -> None:
    pushes = _kaniko_pushes()
    assert (
        _deployment_image("k8s/bdg-blog/overlays/production", "bdg-blog")
        in pushes["runtime"]
    )
    assert (
        _deployment_image("k8s/bdg-blog-dev/overlays/in-cluster", "bdg-blog-dev")
        in pushes["build"]
    )
    # Next to the channel tag, an immutable tag per commit to roll back to.
    for destinations in pushes.values():
        assert any("{{workflow.parameters.revision}}" in d for d in destinations)


def test_kaniko_targets_are_dockerfile_stages() -> None:
    stages = set(
        re.findall(
            r"^FROM\s+\S+\s+AS\s+(\S+)",
            (REPO_ROOT / "Dockerfile").read_text(),
            flags=re.M | re.I,
        )
    )
    assert set(_kaniko_pushes()) <= stages
    assert set(_kaniko_pushes()) == {"runtime", "build"}


def test_images_are_pushed_to_the_harbor_this_tree_deploys() -> None:
    values = yaml.safe_load((K8S / "bdg-blog-harbor" / "values.yaml").read_text())
    harbor_host = urlsplit(values["externalURL"]).hostname
    for destinations in _kaniko_pushes().values():
        for destination in destinations:
            assert destination.split("/")[0] == harbor_host
    route = find("IngressRoute", "harbor", "bdg-blog-harbor")
    assert f"Host(`{harbor_host}`)" in route["spec"]["routes"][0]["match"]


def _repo(url: str) -> str:
    return re.sub(r"^(git|https)://", "", url).split("#")[0].removesuffix(".git")


def test_ci_builds_the_repository_argo_cd_syncs_and_github_notifies() -> None:
    context = next(
        a
        for a in TEMPLATES["kaniko"]["container"]["args"]
        if a.startswith("--context=")
    )
    built_repo = _repo(context.removeprefix("--context="))
    synced = {_repo(app["spec"]["source"]["repoURL"]) for app in APPLICATIONS}
    assert synced == {built_repo}
    source = find("EventSource", "git-push", "bdg-blog-argoci")
    (github,) = source["spec"]["github"].values()
    (repo,) = github["repositories"]
    assert {f"github.com/{repo['owner']}/{name}" for name in repo["names"]} == {
        built_repo
    }
    assert "{{workflow.parameters.revision}}" in context


def test_the_sensor_submits_the_template_for_pushes_to_the_synced_branch() -> None:
    sensor = find("Sensor", "git-push", "bdg-blog-argoci")
    source = find("EventSource", "git-push", "bdg-blog-argoci")
    (dependency,) = sensor["spec"]["dependencies"]
    assert dependency["eventSourceName"] == source["metadata"]["name"]
    assert dependency["eventName"] in source["spec"]["github"]
    branch_filter = next(
        f for f in dependency["filters"]["data"] if f["path"] == "body.ref"
    )
    branches = {app["spec"]["source"]["targetRevision"] for app in APPLICATIONS}
    assert branch_filter["value"] == [f"refs/heads/{b}" for b in branches]
    (trigger,) = sensor["spec"]["triggers"]
    workflow = trigger["template"]["argoWorkflow"]["source"]["resource"]
    assert (
        workflow["spec"]["workflowTemplateRef"]["name"] == TEMPLATE["metadata"]["name"]
    )
    declared = [p["name"] for p in TEMPLATE["spec"]["arguments"]["parameters"]]
    passed = [p["name"] for p in workflow["spec"]["arguments"]["parameters"]]
    assert passed == declared == ["revision"]
    (parameter,) = trigger["template"]["argoWorkflow"]["parameters"]
    assert parameter["src"]["dataKey"] == "body.after"
    assert parameter["dest"] == "spec.arguments.parameters.0.value"


def test_the_workflow_migrates_then_restarts_the_blog() -> None:
    order = [step["template"] for group in TEMPLATES["main"]["steps"] for step in group]
    assert order == [
        "kaniko",
        "kaniko",
        "start-migration",
        "wait-migration",
        "restart",
        "wait-rollout",
    ]
    args = {name: TEMPLATES[name]["container"]["args"] for name in order[2:]}
    assert args["restart"] == [
        "--namespace=bdg-blog",
        "rollout",
        "restart",
        "deployment/bdg-blog",
    ]
    assert "--from=cronjob/bdg-blog-migrate" in args["start-migration"]
    find("Deployment", "bdg-blog", "bdg-blog")
    find("CronJob", "bdg-blog-migrate", "bdg-blog")


def test_the_ci_service_account_may_only_migrate_and_restart() -> None:
    account = TEMPLATE["spec"]["serviceAccountName"]
    find("ServiceAccount", account, "bdg-blog-argoci")
    bindings = [
        o
        for o in all_objects()
        if o["kind"] == "RoleBinding"
        and any(
            s["name"] == account and s.get("namespace") == "bdg-blog-argoci"
            for s in o["subjects"]
        )
    ]
    roles = {}
    for binding in bindings:
        ref = binding["roleRef"]
        if ref["kind"] == "ClusterRole":
            assert ref["name"] == "argo-workflows-executor"
            continue
        roles[binding["metadata"]["namespace"]] = find(
            "Role", ref["name"], binding["metadata"]["namespace"]
        )
    assert set(roles) == {"bdg-blog"}
    rules = {
        (tuple(r["apiGroups"]), tuple(r["resources"])): r
        for r in roles["bdg-blog"]["rules"]
    }
    assert set(rules) == {
        (("apps",), ("deployments",)),
        (("batch",), ("cronjobs",)),
        (("batch",), ("jobs",)),
    }
    deployments = rules[(("apps",), ("deployments",))]
    assert deployments["resourceNames"] == ["bdg-blog"]
    assert set(deployments["verbs"]) == {"get", "patch", "watch"}
    cronjobs = rules[(("batch",), ("cronjobs",))]
    assert cronjobs["resourceNames"] == ["bdg-blog-migrate"]
    assert cronjobs["verbs"] == ["get"]
    assert set(rules[(("batch",), ("jobs",))]["verbs"]) <= {
        "create",
        "get",
        "list",
        "watch",
    }
    for rule in roles["bdg-blog"]["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]


def test_migrations_run_before_the_rollout_on_both_paths() -> None:
    production = built()["k8s/bdg-blog/overlays/production"]
    by_kind = {
        o["kind"]: o
        for o in production
        if o["metadata"]["name"] in {"bdg-blog", "bdg-blog-migrate"}
    }
    job, cronjob, deployment = by_kind["Job"], by_kind["CronJob"], by_kind["Deployment"]
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    wave = int(annotations["argocd.argoproj.io/sync-wave"])
    assert wave < int(
        deployment["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
    )
    assert cronjob["spec"]["suspend"] is True
    assert pod_spec(job) == pod_spec(cronjob), "the two migration pod specs drifted"
    spec = pod_spec(job)
    assert spec["initContainers"][0]["command"] == [
        "python",
        "manage.py",
        "ensure_bucket",
    ]
    assert spec["containers"][0]["command"] == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]
    assert (
        spec["containers"][0]["image"] == pod_spec(deployment)["containers"][0]["image"]
    )


def test_controllers_run_the_release_of_their_crds() -> None:
    tags = _upstream_tags()
    images = {
        c["image"].rsplit(":", 1)[0].rsplit("/", 1)[1]: c
        for o in built()["k8s/bdg-blog-argoci"]
        if o["kind"] == "Deployment"
        for c in pod_spec(o)["containers"]
    }
    assert images["argo-events"]["image"].endswith(":" + tags["argoproj/argo-events"])
    workflows = tags["argoproj/argo-workflows"]
    assert images["workflow-controller"]["image"].endswith(":" + workflows)
    assert (
        f"--executor-image=quay.io/argoproj/argoexec:{workflows}"
        in images["workflow-controller"]["args"]
    )
    env = {e["name"]: e.get("value") for e in images["argo-events"]["env"]}
    assert env["ARGO_EVENTS_IMAGE"] == images["argo-events"]["image"]


# --- Argo CD -------------------------------------------------------------------


def _layer_namespace(path: str) -> str:
    objs = built().get(path) or built()[path + " (without helmCharts)"]
    (namespace,) = [o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"]
    return namespace


@pytest.mark.parametrize("app", APPLICATIONS, ids=lambda a: a["metadata"]["name"])
def test_application_syncs_a_layer_of_this_tree(app: Obj) -> None:
    spec = app["spec"]
    assert spec["project"] == "bdg-blog"
    path = spec["source"]["path"]
    assert (REPO_ROOT / path / "kustomization.yaml").is_file(), path
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert spec["destination"]["namespace"] == _layer_namespace(path)
    project = find("AppProject", "bdg-blog", "bdg-blog-argocd")
    assert spec["source"]["repoURL"] in project["spec"]["sourceRepos"]
    assert {
        "server": spec["destination"]["server"],
        "namespace": spec["destination"]["namespace"],
    } in project["spec"]["destinations"]


def test_every_namespaced_layer_has_an_application() -> None:
    synced = {app["spec"]["destination"]["namespace"] for app in APPLICATIONS}
    assert synced == {
        "bdg-blog",
        "bdg-blog-dev",
        "bdg-blog-mariadb",
        "bdg-blog-redis",
        "bdg-blog-minio",
        "bdg-blog-harbor",
        "bdg-blog-argoci",
    }
    # Data services and Harbor first, then CI (which builds the images),
    # then what runs those images.
    wave = {
        a["spec"]["destination"]["namespace"]: int(
            a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        )
        for a in APPLICATIONS
    }
    assert wave["bdg-blog-mariadb"] == wave["bdg-blog-harbor"] < wave["bdg-blog-argoci"]
    assert wave["bdg-blog-argoci"] < wave["bdg-blog"] == wave["bdg-blog-dev"]


def test_argo_cd_is_installed_in_its_namespace_and_renders_helm() -> None:
    install = K8S / "bdg-blog-argocd" / "install"
    spec = yaml.safe_load((install / "kustomization.yaml").read_text())
    patch = yaml.safe_load(spec["patches"][0]["patch"])
    assert patch["metadata"]["name"] == "argocd-cm"
    assert "--enable-helm" in patch["data"]["kustomize.buildOptions"]
    assert (
        "obj.status.health"
        in patch["data"]["resource.customizations.health.argoproj.io_Application"]
    )
    (transformer,) = spec["transformers"]
    namespace = yaml.safe_load((install / transformer).read_text())
    assert namespace["kind"] == "NamespaceTransformer"
    assert namespace["metadata"]["namespace"] == "bdg-blog-argocd"
    # The ClusterRoleBindings' subjects must follow the ServiceAccounts.
    assert namespace["setRoleBindingSubjects"] == "allServiceAccounts"
    applications = {a["metadata"]["namespace"] for a in APPLICATIONS}
    assert applications == {"bdg-blog-argocd"}


def test_argo_cd_install_overlay_applies_to_upstream_objects(tmp_path: Path) -> None:
    """The install overlay, built over a stand-in for upstream's install.yaml
    (the real one needs the network): Argo CD's objects land in
    bdg-blog-argocd, ClusterRoleBinding subjects included, and argocd-cm
    gets --enable-helm."""
    install = K8S / "bdg-blog-argocd" / "install"
    shutil.copy(install / "namespace.yaml", tmp_path)
    spec = yaml.safe_load((install / "kustomization.yaml").read_text())
    spec["resources"] = ["upstream.yaml"]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "upstream.yaml").write_text(
        """
apiVersion: v1
kind: ServiceAccount
metadata: {name: argocd-application-controller}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cm}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: argocd-application-controller}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: argocd-application-controller
subjects:
  - {kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}
"""
    )
    objs = {o["kind"]: o for o in build(tmp_path)}
    assert objs["ServiceAccount"]["metadata"]["namespace"] == "bdg-blog-argocd"
    assert objs["ConfigMap"]["metadata"]["namespace"] == "bdg-blog-argocd"
    assert objs["ConfigMap"]["data"]["kustomize.buildOptions"] == "--enable-helm"
    (subject,) = objs["ClusterRoleBinding"]["subjects"]
    assert subject["namespace"] == "bdg-blog-argocd"


def test_the_root_application_syncs_the_applications_from_git() -> None:
    root = find("Application", ROOT, "bdg-blog-argocd")
    source = root["spec"]["source"]
    assert source["path"] == "k8s/bdg-blog-argocd"
    assert {source["repoURL"]} == {a["spec"]["source"]["repoURL"] for a in APPLICATIONS}
    assert {source["targetRevision"]} == {
        a["spec"]["source"]["targetRevision"] for a in APPLICATIONS
    }
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # It is not among what it syncs, or pruning could delete it.
    synced = built()["k8s/bdg-blog-argocd"]
    assert ROOT not in {o["metadata"]["name"] for o in synced}
