"""The deployment conventions, checked over every built object."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.k8s.manifests import (
    K8S,
    Obj,
    all_objects,
    built,
    containers,
    ident,
    is_app_container,
    kustomizations,
    pod_labels,
    pod_spec,
    workloads,
)

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
SELECTOR_KEYS = {NAME, INSTANCE}
# The one annotation that lets a container run as root (kaniko), with its reason.
ROOT_EXEMPTION = "bdg.blog/runs-as-root"
# What Pod Security `baseline` still allows; kaniko may add only these.
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
APP_NAMESPACES = {"bdg-blog", "bdg-blog-dev"}
DATA_NAMESPACES = {"bdg-blog-mariadb", "bdg-blog-redis", "bdg-blog-minio"}

WORKLOADS = workloads()


# --- pods as they will run, wherever they are declared ---------------------


def _pod_like() -> list[tuple[str, Obj, list[Obj], dict[str, str]]]:
    """(where, pod-level securityContext, containers, annotations) for every
    pod this tree makes Kubernetes run: workloads, and the pods Argo's
    controllers create from WorkflowTemplates, EventSources, Sensors and the
    EventBus."""
    out = []
    for obj in WORKLOADS:
        spec = pod_spec(obj)
        out.append(
            (ident(obj), spec.get("securityContext", {}), list(containers(spec)), {})
        )
    for obj in all_objects():
        kind, spec = obj["kind"], obj.get("spec", {})
        if kind == "WorkflowTemplate":
            for template in spec["templates"]:
                if "container" in template:
                    out.append(
                        (
                            f"{ident(obj)} template {template['name']}",
                            spec.get("securityContext", {}),
                            [template["container"]],
                            template.get("metadata", {}).get("annotations", {}),
                        )
                    )
        elif kind in {"EventSource", "Sensor"}:
            tpl = spec["template"]
            out.append((ident(obj), tpl["securityContext"], [tpl["container"]], {}))
        elif kind == "EventBus":
            js = spec["jetstream"]
            templates = [
                js[k]
                for k in (
                    "containerTemplate",
                    "reloaderContainerTemplate",
                    "metricsContainerTemplate",
                )
            ]
            out.append((ident(obj), js["securityContext"], templates, {}))
    return out


POD_LIKE = _pod_like()


@pytest.mark.parametrize(
    "where,pod_sc,ctrs,annotations", POD_LIKE, ids=[p[0] for p in POD_LIKE]
)
def test_containers_are_locked_down(
    where: str, pod_sc: Obj, ctrs: list[Obj], annotations: dict[str, str]
) -> None:
    assert ctrs
    for c in ctrs:
        sc = c.get("securityContext", {})
        label = f"{where} container {c.get('name', c.get('image', '?'))}"
        seccomp = sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}
        assert seccomp.get("type") == "RuntimeDefault", label
        assert sc.get("allowPrivilegeEscalation") is False, label
        assert sc.get("privileged") is not True, label
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], label
        added = set(sc.get("capabilities", {}).get("add", []))
        if ROOT_EXEMPTION in annotations:
            assert len(annotations[ROOT_EXEMPTION]) > 40, "give the reason"
            assert "kaniko" in c["image"], f"{label}: only kaniko may run as root"
            assert added <= BASELINE_CAPABILITIES, label
            continue
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        assert non_root is True, f"{label}: runAsNonRoot"
        assert user != 0, label
        assert sc.get("readOnlyRootFilesystem") is True, f"{label}: read-only root"
        assert not added, f"{label} adds capabilities {added}"


@pytest.mark.parametrize(
    "where,pod_sc,ctrs,annotations", POD_LIKE, ids=[p[0] for p in POD_LIKE]
)
def test_containers_have_requests_and_limits(
    where: str, pod_sc: Obj, ctrs: list[Obj], annotations: dict[str, str]
) -> None:
    for c in ctrs:
        resources = c.get("resources", {})
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(kind, {})), (
                f"{where} {c.get('name', '')}: {kind}"
            )


def test_only_the_kaniko_step_is_exempt_from_non_root() -> None:
    exempt = [p for p in POD_LIKE if ROOT_EXEMPTION in p[3]]
    assert [p[0] for p in exempt] == [
        "WorkflowTemplate bdg-blog-argoci/build-and-deploy template kaniko"
    ]


# --- workloads ---------------------------------------------------------------


@pytest.mark.parametrize("obj", WORKLOADS, ids=ident)
def test_workload_labels_and_selectors(obj: Obj) -> None:
    labels = obj["metadata"].get("labels", {})
    for key in (
        NAME,
        INSTANCE,
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/managed-by",
    ):
        assert labels.get(key), f"{ident(obj)} lacks label {key}"
    assert SELECTOR_KEYS <= set(pod_labels(obj)), ident(obj)
    if obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet"}:
        selector = obj["spec"]["selector"]
        assert set(selector) == {"matchLabels"}, ident(obj)
        assert set(selector["matchLabels"]) == SELECTOR_KEYS, ident(obj)
        for key, value in selector["matchLabels"].items():
            assert pod_labels(obj)[key] == value


def test_every_object_carries_the_common_labels() -> None:
    for obj in all_objects():
        labels = obj["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/managed-by") == "kustomize", ident(obj)
        assert labels.get("app.kubernetes.io/part-of"), ident(obj)


def _selector_targets(namespace: str) -> list[dict[str, str]]:
    return [
        pod_labels(o)
        for o in WORKLOADS
        if o["metadata"].get("namespace") == namespace
        and o["kind"] in {"Deployment", "StatefulSet"}
    ]


@pytest.mark.parametrize(
    "obj",
    [o for o in all_objects() if o["kind"] in {"Service", "PodDisruptionBudget"}],
    ids=ident,
)
def test_service_and_pdb_selectors_use_name_and_instance_and_match_pods(
    obj: Obj,
) -> None:
    spec = obj["spec"]
    selector = spec.get("selector")
    if obj["kind"] == "PodDisruptionBudget":
        selector = selector["matchLabels"]
    if selector is None:
        # A selector-less Service gets its endpoints by hand (dev `forward`).
        assert obj["metadata"]["name"] == "bdg-blog-dev", ident(obj)
        return
    assert set(selector) == SELECTOR_KEYS, ident(obj)
    targets = _selector_targets(obj["metadata"]["namespace"])
    assert any(all(t.get(k) == v for k, v in selector.items()) for t in targets), (
        f"{ident(obj)} selects no pods"
    )


LONG_RUNNING = [o for o in WORKLOADS if o["kind"] in {"Deployment", "StatefulSet"}]


@pytest.mark.parametrize("obj", LONG_RUNNING, ids=ident)
def test_long_running_containers_have_probes(obj: Obj) -> None:
    for c in pod_spec(obj)["containers"]:
        assert c.get("livenessProbe") and c.get("readinessProbe"), (
            ident(obj),
            c["name"],
        )
        liveness_path = c["livenessProbe"].get("httpGet", {}).get("path", "")
        # Readiness checks dependencies; liveness never must.
        assert "readyz" not in liveness_path
        assert "ready" not in liveness_path
        if is_app_container(c):
            assert liveness_path == "/healthz"
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"


APP_PODS = [
    o for o in WORKLOADS if any(is_app_container(c) for c in containers(pod_spec(o)))
]


def test_app_workloads_are_found() -> None:
    kinds = {(o["metadata"]["namespace"], o["kind"]) for o in APP_PODS}
    assert {
        ("bdg-blog", "Deployment"),
        ("bdg-blog", "Job"),
        ("bdg-blog", "CronJob"),
        ("bdg-blog-dev", "Deployment"),
    } <= kinds


@pytest.mark.parametrize("obj", APP_PODS, ids=ident)
def test_app_pods_have_a_writable_tmp_and_no_api_token(obj: Obj) -> None:
    spec = pod_spec(obj)
    assert spec.get("automountServiceAccountToken") is False
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in containers(spec):
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        tmp = "/tmp"  # noqa: S108 - the container's own /tmp, an emptyDir
        assert tmp in mounts, (ident(obj), c["name"])
        assert "emptyDir" in volumes[mounts[tmp]]


def test_the_blog_runs_two_replicas_with_a_disruption_budget() -> None:
    production = built()["k8s/bdg-blog/overlays/production"]
    (deployment,) = [o for o in production if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 2
    (pdb,) = [o for o in production if o["kind"] == "PodDisruptionBudget"]
    assert pdb["spec"]["minAvailable"] == 1
    command = " ".join(
        deployment["spec"]["template"]["spec"]["containers"][0].get("command", [])
    )
    assert command == "", "the Deployment runs the image's own daphne command"
    autoscaled = built()["k8s/bdg-blog/overlays/autoscaling"]
    (deployment,) = [o for o in autoscaled if o["kind"] == "Deployment"]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    (hpa,) = [o for o in autoscaled if o["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["minReplicas"] == 2


def test_the_blog_drains_within_its_termination_grace_period() -> None:
    """preStop pause + the app's own drain limit fit in the pod's grace period.

    The image's CMD is blog_site.serve (tests/test_dockerfile.py), which drains
    for at most SHUTDOWN_GRACE_SECONDS after SIGTERM; the kubelet SIGKILLs at
    terminationGracePeriodSeconds, counted from the start of preStop.
    """
    production = built()["k8s/bdg-blog/overlays/production"]
    (deployment,) = [o for o in production if o["kind"] == "Deployment"]
    spec = pod_spec(deployment)
    (app,) = [c for c in containers(spec) if c["name"] == "app"]
    pause = app["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep", pause
    (config_name,) = [e["configMapRef"]["name"] for e in app["envFrom"]]
    (config,) = [
        o
        for o in production
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == config_name
    ]
    grace = float(config["data"]["SHUTDOWN_GRACE_SECONDS"])
    assert 0 < int(pause[1]) and 0 < grace
    assert int(pause[1]) + grace < spec["terminationGracePeriodSeconds"]


# --- images ---------------------------------------------------------------

IMAGE = re.compile(
    r"^(?P<repo>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$"
)


def _images() -> list[tuple[str, str]]:
    out = []
    for where, _sc, ctrs, _a in POD_LIKE:
        for c in ctrs:
            if "image" in c:
                out.append((where, c["image"]))
    return out


@pytest.mark.parametrize(
    "where,image", _images(), ids=[f"{w} {i}" for w, i in _images()]
)
def test_images_are_pinned(where: str, image: str) -> None:
    match = IMAGE.match(image)
    assert match, image
    tag = match.group("tag")
    assert tag or "@sha256:" in image, f"{where}: {image} has no tag"
    assert tag != "latest", f"{where}: {image}"
    if "/bdg-blog/" not in image:
        # Third-party images: a version, not a moving tag.
        assert tag and re.search(r"\d", tag), f"{where}: {image} is not a version"
    assert "gcr.io/kaniko-project" not in image, "the original kaniko is archived"


# --- namespaces and network policies -------------------------------------------

LAYER_NAMESPACES = {
    "k8s/bdg-blog/overlays/production": "bdg-blog",
    "k8s/bdg-blog-dev/overlays/in-cluster": "bdg-blog-dev",
    "k8s/bdg-blog-dev/overlays/forward": "bdg-blog-dev",
    "k8s/bdg-blog-mariadb": "bdg-blog-mariadb",
    "k8s/bdg-blog-redis": "bdg-blog-redis",
    "k8s/bdg-blog-minio": "bdg-blog-minio",
    "k8s/bdg-blog-harbor/extras": "bdg-blog-harbor",
    "k8s/bdg-blog-argoci": "bdg-blog-argoci",
}
CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterIssuer",
}


@pytest.mark.parametrize("layer,namespace", LAYER_NAMESPACES.items())
def test_each_layer_owns_one_namespace_and_nothing_cluster_wide(
    layer: str, namespace: str
) -> None:
    objs = built()[layer]
    assert [o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"] == [
        namespace
    ]
    for obj in objs:
        if obj["kind"] == "Namespace":
            continue
        # CRDs and ClusterRoles live in k8s/cluster only, so that several
        # projects' namespaced Argo installs never overwrite each other's.
        assert obj["kind"] not in CLUSTER_SCOPED, f"{layer}: {ident(obj)}"
        assert obj["metadata"].get("namespace") == namespace, f"{layer}: {ident(obj)}"


def test_cluster_layer_is_cluster_scoped() -> None:
    objs = built()["k8s/cluster"]
    kinds = {o["kind"] for o in objs}
    assert {"CustomResourceDefinition", "ClusterRole", "ClusterIssuer"} <= kinds
    for obj in objs:
        if obj["kind"] == "HelmChartConfig":
            assert obj["metadata"]["namespace"] == "kube-system"
        else:
            assert obj["kind"] in CLUSTER_SCOPED, ident(obj)


def test_argo_controllers_only_bind_cluster_roles_from_the_cluster_layer() -> None:
    cluster_roles = {
        o["metadata"]["name"]
        for o in built()["k8s/cluster"]
        if o["kind"] == "ClusterRole"
    }
    bindings = [o for o in built()["k8s/bdg-blog-argoci"] if o["kind"] == "RoleBinding"]
    bound = {
        b["roleRef"]["name"] for b in bindings if b["roleRef"]["kind"] == "ClusterRole"
    }
    assert bound and bound <= cluster_roles
    for c in (
        c
        for o in built()["k8s/bdg-blog-argoci"]
        if o["kind"] == "Deployment"
        for c in pod_spec(o)["containers"]
    ):
        assert "--namespaced" in c["args"], c["name"]


def _peers(policy: Obj) -> list[tuple[Any, Any]]:
    return [
        (peer.get("namespaceSelector"), peer.get("podSelector"))
        for rule in policy["spec"].get("ingress", [])
        for peer in rule.get("from", [None])
    ]


@pytest.mark.parametrize("namespace", sorted(DATA_NAMESPACES))
def test_only_the_app_namespaces_reach_the_data_services(namespace: str) -> None:
    objs = [o for o in all_objects() if o["metadata"].get("namespace") == namespace]
    (statefulset,) = [o for o in objs if o["kind"] == "StatefulSet"]
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    labels = pod_labels(statefulset)
    covering = [
        p
        for p in policies
        if all(
            labels.get(k) == v
            for k, v in p["spec"]["podSelector"].get("matchLabels", {}).items()
        )
    ]
    assert covering, f"no NetworkPolicy selects {ident(statefulset)}"
    for policy in covering:
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for namespace_selector, pod_selector in _peers(policy):
            assert namespace_selector or pod_selector, (
                f"{ident(policy)} allows everyone"
            )
            if namespace_selector is None:
                continue  # pods of the same namespace (the backup job)
            names = set(namespace_selector.get("matchLabels", {}).values())
            for expr in namespace_selector.get("matchExpressions", []):
                assert expr["key"] == "kubernetes.io/metadata.name"
                assert expr["operator"] == "In"
                names |= set(expr["values"])
            if names == {"kube-system"}:
                # Traefik, for the public S3 host and the console only.
                assert namespace == "bdg-blog-minio"
                assert pod_selector == {"matchLabels": {NAME: "traefik"}}
            else:
                assert names and names <= APP_NAMESPACES, names


def test_app_namespaces_deny_by_default_and_admit_only_traefik() -> None:
    for namespace in APP_NAMESPACES:
        policies = [
            o
            for o in all_objects()
            if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == namespace
        ]
        deny = [p for p in policies if p["spec"]["podSelector"] == {}]
        assert deny and all("ingress" not in p["spec"] for p in deny), namespace
        for policy in policies:
            for namespace_selector, pod_selector in _peers(policy):
                assert namespace_selector == {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                }
                assert pod_selector == {"matchLabels": {NAME: "traefik"}}


def test_default_deny_namespaces_still_pass_acme_challenges() -> None:
    """cert-manager's HTTP-01 solver pods run in the Certificate's namespace:
    a default-deny policy there must let Traefik reach them."""
    for namespace in {
        o["metadata"]["namespace"] for o in all_objects() if o["kind"] == "Certificate"
    }:
        policies = [
            o
            for o in all_objects()
            if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == namespace
        ]
        if not any(p["spec"]["podSelector"] == {} for p in policies):
            continue
        solver = {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
        assert any(
            p["spec"]["podSelector"] == solver
            and p["spec"]["ingress"][0]["ports"] == [{"port": 8089, "protocol": "TCP"}]
            for p in policies
        ), namespace


# --- secrets -------------------------------------------------------------------


def test_no_secret_holds_a_value() -> None:
    for obj in all_objects():
        if obj["kind"] == "Secret":
            for field in ("data", "stringData"):
                assert not any(obj.get(field, {}).values()), ident(obj)
    for example in K8S.rglob("*.example.env"):
        for line in example.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                assert value == "", f"{example}: {key} has a value"


def _secret_names(node: Any) -> set[str]:
    """Names of Secrets referenced anywhere in a (nested) object."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _secret_names(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in {"secretKeyRef", "secretRef", "webhookSecret"}:
                found.add(value["name"])
            elif key == "secretName" and isinstance(value, str):
                found.add(value)
            elif key == "basicAuth":
                found.add(value["secret"])
            found |= _secret_names(value)
    return found


def _referenced_secrets() -> set[tuple[str, str]]:
    """(namespace, name) of every Secret the tree expects to exist."""
    found = {
        (obj["metadata"].get("namespace", ""), name)
        for obj in all_objects()
        for name in _secret_names(obj.get("spec", {}))
    }
    # Harbor's chart reads its credentials from Secrets named in values.yaml.
    values = yaml.safe_load((K8S / "bdg-blog-harbor" / "values.yaml").read_text())
    for key in ("existingSecretAdminPassword", "existingSecretSecretKey"):
        found.add(("bdg-blog-harbor", values[key]))
    return found


def test_every_secret_is_made_by_cert_manager_or_documented() -> None:
    made_by_cert_manager = {
        (o["metadata"]["namespace"], o["spec"]["secretName"])
        for o in all_objects()
        if o["kind"] == "Certificate"
    }
    readme = (K8S / "README.md").read_text()
    needed = _referenced_secrets() - made_by_cert_manager
    assert {
        ("bdg-blog", "bdg-blog"),
        ("bdg-blog-mariadb", "mariadb"),
        ("bdg-blog-argoci", "harbor-push"),
        ("bdg-blog-argoci", "github-webhook"),
        ("bdg-blog-dev", "dev-basic-auth"),
    } <= needed
    for namespace, name in sorted(needed):
        assert re.search(
            rf"kubectl -n {re.escape(namespace)} create secret \S+ {re.escape(name)}\b",
            readme,
        ), f"k8s/README.md does not say how to create Secret {namespace}/{name}"


def test_every_secret_reference_in_a_pod_is_documented_in_an_example_file() -> None:
    """The keys of the app Secrets are exactly those of their example files."""
    for layer_dir, namespace, secret in (
        ("bdg-blog/base", "bdg-blog", "bdg-blog"),
        ("bdg-blog-dev/overlays/in-cluster", "bdg-blog-dev", "bdg-blog-dev"),
    ):
        example = K8S / layer_dir / "secret.example.env"
        keys = {
            line.partition("=")[0]
            for line in example.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
        used = {
            env["valueFrom"]["secretKeyRef"]["key"]
            for o in WORKLOADS
            if o["metadata"]["namespace"] == namespace
            for c in containers(pod_spec(o))
            for env in c.get("env", [])
            if env.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == secret
        }
        assert used == keys, (layer_dir, used ^ keys)


def test_kustomizations_never_generate_secrets() -> None:
    for k in kustomizations():
        assert "secretGenerator" not in k.spec, k.rel
