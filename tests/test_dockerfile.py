"""Static checks of the Dockerfile: no Docker engine runs on this machine."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def _stages() -> dict[str, str]:
    parts = re.split(r"^FROM\s+", DOCKERFILE, flags=re.MULTILINE)[1:]
    stages = {}
    for part in parts:
        header, _, body = part.partition("\n")
        match = re.search(r"\bAS\s+(\S+)", header, flags=re.IGNORECASE)
        assert match, f"unnamed stage: FROM {header}"
        stages[match.group(1)] = header + "\n" + body
    return stages


def test_build_and_runtime_stages_exist() -> None:
    stages = _stages()
    assert {"build", "runtime"} <= set(stages)
    assert list(stages)[-1] == "runtime", "runtime must be the default (last) stage"


def test_runtime_runs_as_a_non_root_user_without_compilers_or_dev_deps() -> None:
    runtime = _stages()["runtime"]
    users = re.findall(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "requirements-dev" not in runtime
    assert not re.search(r"\b(gcc|build-essential|libmariadb-dev)\b", runtime)
    assert "collectstatic" in runtime


def test_build_stage_has_dev_requirements() -> None:
    assert "requirements-dev.txt" in _stages()["build"]


def test_runtime_command_is_the_readme_server_command() -> None:
    runtime_cmd = re.findall(r"^CMD\s+(.+)$", _stages()["runtime"], flags=re.MULTILINE)[
        -1
    ]
    run_script = (REPO_ROOT / "scripts" / "run.sh").read_text()
    for part in ("python -m blog_site.serve", "blog_site.asgi:application"):
        assert part in runtime_cmd
        assert part in run_script


def test_every_image_serves_through_the_graceful_launcher() -> None:
    """Bare `daphne` cuts requests and sockets on SIGTERM (blog_site/serve.py)."""
    stages = _stages()
    # The images people run: the development image and the runtime one
    # (`deps` and `assets` only feed later stages).
    for name in ("build", "runtime"):
        assert re.search(r"^CMD\s+", stages[name], flags=re.MULTILINE), name
    commands = re.findall(r"^CMD\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)
    for command in commands:
        assert "exec python -m blog_site.serve " in command
        assert not re.search(r"\bdaphne\b", command)
    run_script = (REPO_ROOT / "scripts" / "run.sh").read_text()
    assert not re.search(r"^exec .*\bdaphne\b", run_script, flags=re.MULTILINE)


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "var/"):
        assert entry in ignored


def test_stylesheets_are_compiled_in_a_build_stage_before_collectstatic() -> None:
    stages = _stages()
    assets = stages["assets"]
    # The pinned dart-sass from the lock file, and the same script as setup.
    assert "npm ci --omit=dev" in assets and "package-lock.json" in assets
    assert "scripts/build_css.sh" in assets
    runtime = stages["runtime"]
    copy = runtime.index("COPY --from=assets")
    assert "/app/static/css" in runtime[copy:].splitlines()[0]
    assert copy < runtime.index("manage.py collectstatic")
    # No Node (and so no compiler) in the image that serves the site.
    assert not re.search(r"\b(nodejs|npm|sass)\b", runtime.replace("assets", ""))
    assert "COPY --from=assets /app/static/css" in stages["build"]
    assert "node_modules/" in (REPO_ROOT / ".dockerignore").read_text().split()
