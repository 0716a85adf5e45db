"""Every built object validates: built-in kinds with kubernetes-validate
--strict against Kubernetes 1.25 (the source's k3s) and the newest bundled
version; custom resources against their upstream CRD schemas."""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import pytest
import yaml

from tests.k8s.manifests import all_objects, find, ident
from tests.k8s.schemas import (
    all_crd_schemas,
    close_schema,
    crd_schemas,
    validate_custom_resource,
)

# kubernetes-validate re-reads its schema files on every call; they never
# change during a run.
kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)

SOURCE_K3S = "1.25.0"
NEWEST = kv_utils.latest_version()
CUSTOM_GROUPS = {
    "traefik.io",
    "cert-manager.io",
    "argoproj.io",
    "helm.cattle.io",
}
EXPECTED_CUSTOM_KINDS = {
    "IngressRoute",
    "Middleware",
    "TLSOption",
    "Certificate",
    "ClusterIssuer",
    "Application",
    "AppProject",
    "EventSource",
    "Sensor",
    "EventBus",
    "WorkflowTemplate",
}


def _group(obj: dict) -> str:
    api_version = obj["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


BUILTIN = [o for o in all_objects() if _group(o) not in CUSTOM_GROUPS]
CUSTOM = [
    o
    for o in all_objects()
    if _group(o) in CUSTOM_GROUPS and o["kind"] != "HelmChartConfig"
]


def test_every_custom_kind_the_issue_names_is_built() -> None:
    assert EXPECTED_CUSTOM_KINDS <= {o["kind"] for o in CUSTOM}


@pytest.mark.parametrize("version", [SOURCE_K3S, NEWEST])
@pytest.mark.parametrize("obj", BUILTIN, ids=ident)
def test_builtin_object_is_valid_kubernetes(obj: dict, version: str) -> None:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(exc.message)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(map(str, exc.path))
        pytest.fail(f"{ident(obj)} invalid for {version}: {path}: {exc.message}")


@pytest.mark.parametrize("obj", CUSTOM, ids=ident)
def test_custom_resource_matches_its_crd(obj: dict) -> None:
    errors = validate_custom_resource(obj)
    assert not errors, "\n".join(errors)


def test_workflow_the_sensor_submits_matches_the_workflow_crd() -> None:
    sensor = find("Sensor", "git-push")
    for trigger in sensor["spec"]["triggers"]:
        workflow = trigger["template"]["argoWorkflow"]["source"]["resource"]
        assert workflow["kind"] == "Workflow"
        workflow = copy.deepcopy(workflow)
        workflow["metadata"].setdefault("namespace", "bdg-blog-argoci")
        assert not validate_custom_resource(workflow)


def test_traefik_resources_also_fit_traefik_2_9() -> None:
    """k3s v1.25 bundled Traefik 2.9, which serves traefik.containo.us only:
    the same specs with the old group validate against its CRDs, so an old
    cluster can use them after swapping the group (k8s/README.md)."""
    legacy = crd_schemas("traefik-v2.9-containo-legacy")
    traefik = [o for o in CUSTOM if _group(o) == "traefik.io"]
    assert traefik
    for obj in traefik:
        old = copy.deepcopy(obj)
        old["apiVersion"] = "traefik.containo.us/v1alpha1"
        schema = legacy[(old["apiVersion"], old["kind"])]
        import jsonschema

        errors = list(jsonschema.Draft7Validator(schema).iter_errors(old))
        assert not errors, f"{ident(obj)}: {[e.message for e in errors]}"


def test_k3s_traefik_helmchartconfig() -> None:
    """No CRD copy exists for k3s' HelmChartConfig: check its shape by hand."""
    config = find("HelmChartConfig", "traefik", "kube-system")
    assert config["apiVersion"] == "helm.cattle.io/v1"
    assert set(config["spec"]) == {"valuesContent"}
    values = yaml.safe_load(config["spec"]["valuesContent"])
    assert values["providers"]["kubernetesCRD"]["allowCrossNamespace"] is False
    assert values["service"]["spec"]["externalTrafficPolicy"] == "Local"


def test_closing_schemas_catches_a_misspelt_field() -> None:
    """The closed CRD schema rejects an unknown key the open one accepts."""
    route = copy.deepcopy(find("IngressRoute", "bdg-blog", "bdg-blog"))
    route["spec"]["routes"][0]["middelwares"] = route["spec"]["routes"][0].pop(
        "middlewares"
    )
    assert validate_custom_resource(route)
    key = ("traefik.io/v1alpha1", "IngressRoute")
    assert close_schema(all_crd_schemas()[key]) == all_crd_schemas()[key]


def test_argo_events_schema_catches_a_misspelt_field() -> None:
    source = copy.deepcopy(find("EventSource", "git-push"))
    source["spec"]["github"]["bdg-blog"]["webhok"] = source["spec"]["github"][
        "bdg-blog"
    ].pop("webhook")
    assert validate_custom_resource(source)


def test_kubernetes_validate_command_accepts_every_builtin_object(
    tmp_path: Path,
) -> None:
    """The same check through the CLI the issue names, as CI logs show it."""
    manifest = tmp_path / "builtin.yaml"
    manifest.write_text(yaml.safe_dump_all(BUILTIN))
    cli = Path(sys.executable).parent / "kubernetes-validate"
    for version in (SOURCE_K3S, NEWEST):
        result = subprocess.run(
            [str(cli), "--strict", "-k", version, "--quiet", str(manifest)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        # A kind without a schema is only a warning for the CLI: not here.
        assert "WARN" not in result.stdout, result.stdout
