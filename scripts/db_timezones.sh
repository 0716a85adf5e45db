#!/usr/bin/env bash
# Loads MariaDB's time zone tables when they are empty. Django needs them for
# date lookups with USE_TZ (the admin's date_hierarchy, archives by month):
# without them CONVERT_TZ() returns NULL and those pages fail. Idempotent and
# a no-op when the tables are loaded (the official MariaDB image loads them
# at initialisation; Debian's package does not).
set -euo pipefail
url=${DATABASE_URL:-mysql://root@127.0.0.1:3306/bdg_blog}
read -r user password host port < <(python3 - "$url" <<'PY'
import sys
from urllib.parse import unquote, urlsplit
u = urlsplit(sys.argv[1])
print(unquote(u.username or "root"), unquote(u.password or "") or "-", u.hostname or "127.0.0.1", u.port or 3306)
PY
)
args=(-h "$host" -P "$port" -u "$user")
[[ "$password" != "-" ]] && args+=("-p$password")
count=$(mariadb "${args[@]}" -N -e "SELECT COUNT(*) FROM mysql.time_zone_name")
if [[ "$count" == "0" ]]; then
  echo "==> loading MariaDB time zone tables"
  mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb "${args[@]}" mysql
fi
