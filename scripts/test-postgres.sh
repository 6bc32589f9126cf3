#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tuner's storage tests (Debian's postgresql package), listening only on
# a Unix socket in <dir>:
#   scripts/test-postgres.sh start <dir> [port]   initdb + pg_ctl start; prints the connection URL
#   scripts/test-postgres.sh stop <dir>           stops it (the folder is left for the caller to remove)
# As root (CI), the server runs as the postgres user, since PostgreSQL refuses to run as root.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a folder for the cluster}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 3; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:-55432}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres > "$dir/initdb.log" 2>&1
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-k $dir -p $port -c listen_addresses=''" start > /dev/null
    echo "postgresql://postgres@localhost/postgres?host=$dir&port=$port"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop <dir> [port]" >&2
    exit 2
    ;;
esac
