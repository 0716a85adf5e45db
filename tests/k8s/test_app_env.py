"""The environment k8s gives the app matches the settings the code reads.

"What the code reads" is derived from the code itself, not a list kept
here: every `env.<type>("NAME", ...)`, `env("NAME")`, `os.environ[...]`,
`os.environ.get(...)` and `os.getenv(...)` in the first-party Python files
(tests and the test settings excluded). A read without a default is
required. Then the settings module is imported in a fresh interpreter with
exactly the environment a pod gets, which also catches what only production
requires (DEBUG off: SECRET_KEY, ALLOWED_HOSTS).
"""

from __future__ import annotations

import ast
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.k8s.manifests import (
    Obj,
    configmap_data,
    containers,
    ident,
    is_app_container,
    pod_spec,
    workloads,
)


@dataclass(frozen=True)
class EnvRead:
    name: str
    has_default: bool
    where: str


def _first_party_sources() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        paths = listed.stdout.split()
    else:  # not a git checkout (an exported tree)
        paths = [p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.rglob("*.py")]
    return [
        REPO_ROOT / p
        for p in paths
        if not p.startswith(("tests/", ".venv/", "k8s/"))
        and p != "blog_site/settings/test.py"
        and "/migrations/" not in p
        and (REPO_ROOT / p).is_file()
    ]


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def env_reads(source: str, where: str) -> list[EnvRead]:
    reads = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant):
                reads.append(EnvRead(node.slice.value, False, where))
            continue
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        is_os = (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and _is_os_environ(func.value)
        ) or (
            isinstance(func, ast.Attribute)
            and func.attr == "getenv"
            and isinstance(func.value, ast.Name)
            and func.value.id == "os"
        )
        if is_env or is_os:
            has_default = len(node.args) >= 2 or any(
                k.arg == "default" for k in node.keywords
            )
            # os.environ.get / os.getenv default to None: never required.
            reads.append(EnvRead(first.value, has_default or is_os, where))
    return reads


def code_env_reads() -> list[EnvRead]:
    out = []
    for path in _first_party_sources():
        out += env_reads(path.read_text(), path.relative_to(REPO_ROOT).as_posix())
    return out


def test_the_scanner_finds_reads_and_defaults() -> None:
    sample = (
        "import os\n"
        "A = env.str('A')\n"
        "B = env.bool('B', default=False)\n"
        "C = env('C', default='x')\n"
        "D = os.environ['D']\n"
        "E = os.environ.get('E')\n"
        "F = env.list('F', [], )\n"
    )
    reads = {r.name: r.has_default for r in env_reads(sample, "sample")}
    assert reads == {"A": False, "B": True, "C": True, "D": False, "E": True, "F": True}
    names = {r.name for r in code_env_reads()}
    # The settings the foundation reads, found by the scanner (not a list
    # the test relies on: just proof that it looks at base.py).
    assert {"SECRET_KEY", "DATABASE_URL", "S3_ACCESS_KEY"} <= names


# --- what k8s sets -------------------------------------------------------------

APP_WORKLOADS = [
    o for o in workloads() if any(is_app_container(c) for c in containers(pod_spec(o)))
]


def k8s_env(obj: Obj, container: Obj) -> dict[str, str | None]:
    """Name -> value for literal values and ConfigMap keys, None for Secret keys."""
    namespace = obj["metadata"]["namespace"]
    out: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, "Secrets are referenced key by key"
        out.update(configmap_data(namespace, source["configMapRef"]["name"]))
    for env in container.get("env", []):
        if "value" in env:
            out[env["name"]] = env["value"]
        else:
            assert set(env["valueFrom"]) == {"secretKeyRef"}, env
            out[env["name"]] = None
    return out


def _app_containers() -> list[tuple[str, Obj, Obj]]:
    return [
        (f"{ident(o)} {c['name']}", o, c)
        for o in APP_WORKLOADS
        for c in containers(pod_spec(o))
        if is_app_container(c)
    ]


APP_CONTAINERS = _app_containers()
IDS = [a[0] for a in APP_CONTAINERS]


@pytest.mark.parametrize("where,obj,container", APP_CONTAINERS, ids=IDS)
def test_k8s_sets_every_variable_the_code_requires(
    where: str, obj: Obj, container: Obj
) -> None:
    required = {r.name for r in code_env_reads() if not r.has_default}
    missing = required - set(k8s_env(obj, container))
    assert not missing, (
        f"{where} does not set {sorted(missing)}, which the code requires"
    )


@pytest.mark.parametrize("where,obj,container", APP_CONTAINERS, ids=IDS)
def test_k8s_sets_nothing_the_code_does_not_read(
    where: str, obj: Obj, container: Obj
) -> None:
    read = {r.name for r in code_env_reads()}
    unknown = set(k8s_env(obj, container)) - read
    assert not unknown, f"{where} sets {sorted(unknown)}, which no code reads (typo?)"


def test_all_app_containers_of_a_namespace_get_the_same_environment() -> None:
    by_namespace: dict[str, set[str]] = {}
    for _where, obj, container in APP_CONTAINERS:
        env = repr(sorted(k8s_env(obj, container).items(), key=lambda kv: kv[0]))
        by_namespace.setdefault(obj["metadata"]["namespace"], set()).add(env)
    assert {"bdg-blog", "bdg-blog-dev"} <= set(by_namespace)
    for namespace, variants in by_namespace.items():
        # Overlays may differ (production vs autoscaling share one config).
        assert len(variants) <= 2, namespace


PLACEHOLDERS = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "mysql://bdg_blog:placeholder@mariadb.invalid:3306/bdg_blog",
    "REDIS_URL": "redis://:placeholder@redis.invalid:6379/0",
}


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Load the settings and all apps as a pod would, without any I/O."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print('DEBUG', settings.DEBUG)"
    )
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(REPO_ROOT)),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "blog_site.settings.base",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _pod_env(obj: Obj, container: Obj) -> dict[str, str]:
    return {
        name: value if value is not None else PLACEHOLDERS.get(name, "placeholder")
        for name, value in k8s_env(obj, container).items()
    }


@pytest.mark.parametrize(
    "where,obj,container",
    # One container per distinct environment is enough: they are compared above.
    [a for a in APP_CONTAINERS if a[2]["name"] == "app"],
    ids=[a[0] for a in APP_CONTAINERS if a[2]["name"] == "app"],
)
def test_settings_load_with_exactly_the_pod_environment(
    where: str, obj: Obj, container: Obj
) -> None:
    env = _pod_env(obj, container)
    result = _import_settings(env)
    assert result.returncode == 0, f"{where}:\n{result.stderr[-3000:]}"
    expected_debug = env.get("DEBUG", "false").lower() in {"true", "1", "yes", "on"}
    assert f"DEBUG {expected_debug}" in result.stdout


def test_the_settings_check_fails_when_a_required_variable_is_missing() -> None:
    """The check above can fail: production settings refuse to load without
    a SECRET_KEY or with S3 enabled but no credentials."""
    where, obj, container = next(
        a for a in APP_CONTAINERS if a[1]["metadata"]["namespace"] == "bdg-blog"
    )
    env = _pod_env(obj, container)
    for name in ("SECRET_KEY", "S3_ACCESS_KEY", "ALLOWED_HOSTS"):
        broken = {k: v for k, v in env.items() if k != name}
        result = _import_settings(broken)
        assert result.returncode != 0, f"settings loaded without {name}"
        assert name in result.stderr
