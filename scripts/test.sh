#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, format, pytest.
# Needs MariaDB on 127.0.0.1:3306 (root, no password) and Redis on
# 127.0.0.1:6379; the S3 server is started by the test harness itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev

scripts/db_timezones.sh

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
