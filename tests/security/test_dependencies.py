"""Known vulnerabilities in the pinned dependencies (pip-audit) and risky
patterns in the application code (bandit)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent

# Known vulnerabilities accepted for now: advisory id -> why it does not
# apply or what is waiting on it. An entry without a reason is refused.
PIP_AUDIT_IGNORES: dict[str, str] = {}

NO_FEED = "Dependency not found on PyPI and could not be audited"


def _pip_audit(*args: str, env: dict[str, str] | None = None) -> Any:
    # Not --strict: that stops at the first package it cannot audit, and the
    # full JSON report says which ones were skipped and why.
    return subprocess.run(
        [
            str(BIN / "pip-audit"),
            "--progress-spinner=off",
            "--format=json",
            *(f"--ignore-vuln={vuln}" for vuln in PIP_AUDIT_IGNORES),
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _report(result: Any) -> dict[str, Any]:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"pip-audit did not produce a report (exit {result.returncode}); "
            f"the vulnerability feed must be reachable:\n{result.stderr[-3000:]}"
        )


def test_every_ignored_advisory_has_a_reason() -> None:
    assert all(reason.strip() for reason in PIP_AUDIT_IGNORES.values())


@pytest.mark.parametrize(
    "args",
    [
        # The pins as written, runtime and development.
        [
            "--no-deps",
            "--disable-pip",
            "-r",
            "requirements.txt",
            "-r",
            "requirements-dev.txt",
        ],
        # Everything installed from them, transitive dependencies included.
        ["--local"],
    ],
    ids=["pinned-requirements", "installed-environment"],
)
def test_pip_audit_finds_no_known_vulnerabilities(args: list[str]) -> None:
    report = _report(_pip_audit(*args))
    dependencies = report["dependencies"]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    found = [
        (dep["name"], dep["version"], vuln["id"])
        for dep in dependencies
        for vuln in dep.get("vulns", [])
    ]
    print(
        f"pip-audit {' '.join(args)}: audited {audited} of {len(dependencies)} "
        f"packages, known vulnerabilities: {len(found)}"
    )
    assert not found, found
    if skipped and not audited and all(NO_FEED in d["skip_reason"] for d in skipped):
        # Not a pass: the index reachable from here mirrors packages but not
        # PyPI's vulnerability feed (/pypi/<name>/<version>/json answers 404),
        # so nothing could be audited. Reported as XFAIL with the count; with
        # the real feed this test audits every package and can fail.
        pytest.xfail(
            f"pip-audit audited 0 of {len(dependencies)} packages: the package "
            "index serves no per-version vulnerability data (see SECURITY.md)"
        )
    assert not skipped, [f"{d['name']}: {d['skip_reason']}" for d in skipped]
    assert audited > 20


def test_the_audit_fails_loudly_when_the_feed_is_unreachable() -> None:
    """A broken network must never read as 'no vulnerabilities'."""
    result = _pip_audit(
        "--no-deps",
        "--disable-pip",
        "--cache-dir=/nonexistent-pip-audit-cache",
        "-r",
        "requirements.txt",
        env={"PATH": "/usr/bin:/bin", "HTTPS_PROXY": "http://127.0.0.1:9"},
    )
    assert result.returncode != 0
    assert "Unable to connect to proxy" in result.stderr
    with pytest.raises(pytest.fail.Exception):
        _report(result)


def _app_packages() -> list[str]:
    """Every first-party Django app or package at the top of the repository."""
    skip = {"tests", "scripts", "static", "templates", "docs", "k8s"}
    return sorted(
        path.name
        for path in REPO_ROOT.iterdir()
        if path.is_dir()
        and path.name not in skip
        and not path.name.startswith(".")
        and (path / "__init__.py").exists()
    )


def test_bandit_finds_no_high_severity_issue() -> None:
    packages = _app_packages()
    assert {"blog_site", "accounts", "media_store", "posts", "talk"} <= set(packages)
    result = subprocess.run(
        [
            str(BIN / "bandit"),
            "--recursive",
            "--quiet",
            "--format=json",
            "--exclude=*/migrations/*",
            *packages,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    totals = report["metrics"]["_totals"]
    high = [
        f"{issue['filename']}:{issue['line_number']} {issue['test_id']} "
        f"{issue['issue_text']}"
        for issue in report["results"]
        if issue["issue_severity"] == "HIGH"
    ]
    print(
        f"bandit on {', '.join(packages)} ({totals['loc']} lines): "
        f"high {totals['SEVERITY.HIGH']}, medium {totals['SEVERITY.MEDIUM']}, "
        f"low {totals['SEVERITY.LOW']}"
    )
    assert totals["loc"] > 500
    assert not report["errors"], report["errors"]
    assert not high, high


def test_the_audit_tools_are_pinned_for_development() -> None:
    dev = (REPO_ROOT / "requirements-dev.txt").read_text()
    for tool in ("pip-audit", "bandit"):
        assert re.search(rf"^{tool}==[\d.]+$", dev, re.M), tool
