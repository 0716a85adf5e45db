"""Validators for custom resources, from the upstream CRDs in shared/k8s-crds.

CRD schemas leave objects open (the API server prunes unknown fields without
a word), so a typo such as `middelwares:` would pass them. As the provenance
note advises, every object schema that lists `properties` and does not opt
into unknown fields is closed here (`additionalProperties: false`), and
`nullable: true` becomes a `null` alternative.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.k8s.manifests import crds_dir

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Argo Events' install CRDs carry no field schema; upstream's JSON Schema does.
ARGO_EVENTS_KINDS = {"EventSource", "Sensor", "EventBus"}


def close_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [close_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: close_schema(value) for key, value in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _crd_files(directory: str) -> list[Path]:
    return sorted((crds_dir() / directory).glob("*.yaml"))


@functools.cache
def crd_schemas(directory: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> closed openAPIV3Schema for one CRD directory."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in _crd_files(directory):
        for crd in yaml.load_all(path.read_text(), Loader=_LOADER):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                api_version = f"{spec['group']}/{version['name']}"
                schema = version["schema"]["openAPIV3Schema"]
                out[(api_version, spec["names"]["kind"])] = close_schema(schema)
    return out


# Which shared directory defines the current (traefik.io) custom resources.
CRD_DIRECTORIES = (
    "traefik",
    "cert-manager",
    "argo-cd",
    "argo-workflows",
    "argo-events",
)


@functools.cache
def all_crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for directory in CRD_DIRECTORIES:
        merged.update(crd_schemas(directory))
    return merged


@functools.cache
def argo_events_schema() -> dict[str, Any]:
    schema = json.loads((crds_dir() / "argo-events" / "schema.json").read_text())
    return {"definitions": close_schema(schema["definitions"])}


def argo_events_validator(kind: str) -> jsonschema.Draft7Validator:
    schema = dict(argo_events_schema())
    schema["$ref"] = f"#/definitions/io.argoproj.events.v1alpha1.{kind}"
    return jsonschema.Draft7Validator(schema)


def validate_custom_resource(obj: dict[str, Any]) -> list[str]:
    """Error messages for one custom resource (empty: valid)."""
    key = (obj["apiVersion"], obj["kind"])
    schemas = all_crd_schemas()
    if key not in schemas:
        return [f"no CRD for {key[0]} {key[1]} in {crds_dir()}"]
    errors = [
        f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in jsonschema.Draft7Validator(schemas[key]).iter_errors(obj)
    ]
    if obj["kind"] in ARGO_EVENTS_KINDS and obj["apiVersion"] == "argoproj.io/v1alpha1":
        errors += [
            f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in argo_events_validator(obj["kind"]).iter_errors(obj)
        ]
    return errors
