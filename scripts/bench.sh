#!/usr/bin/env bash
# The benchmarks: sets everything up, then runs bench/run.py, which prints
# results and writes bench/RESULTS.md and bench/results.json.
#   scripts/bench.sh            full run (about 20 minutes on 2 cores)
#   scripts/bench.sh --quick    a few minutes (2 s per load, 200 posts)
# Other arguments go to `python -m bench.run` (see --help). Needs MariaDB on
# 127.0.0.1:3306 and Redis on 127.0.0.1:6379, like the tests; uses its own
# database (BENCH_DATABASE_URL, default bdg_benchdata) and Redis database
# number (BENCH_REDIS_URL, default redis://127.0.0.1:6379/15). All load goes
# to servers it starts on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev

# Debian's wrk and nginx; RUNLEVEL=1 keeps the package from starting a
# system-wide nginx: the bench runs its own, with its own config.
missing=()
for pkg in wrk nginx-light; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "==> installing system packages: ${missing[*]}"
  sudo_cmd=()
  (( EUID != 0 )) && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Bench-only Python packages (other ASGI servers, profilers), pinned.
stamp=.venv/.bench-$(sha256sum bench/requirements.txt | cut -c1-16)
if [[ ! -f "$stamp" ]]; then
  echo "==> installing bench/requirements.txt"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements.txt
  rm -f .venv/.bench-*
  touch "$stamp"
fi

export PATH="$PWD/.venv/bin:$PATH:/usr/sbin"
exec .venv/bin/python -m bench.run "$@"
