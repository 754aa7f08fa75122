#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests and the benchmark: a temp directory, an
# unprivileged owner (`nobody` when run as root: initdb refuses root), 127.0.0.1 on a free port
# and a unix socket in the temp directory, trust authentication, fsync off, random_page_cost 1.1
# (SSD, as the compose file's database). Nothing outlives it.
#
#   scripts/pg_cluster.sh install         install PostgreSQL from the Debian packages if missing
#   scripts/pg_cluster.sh run CMD [ARG…]  start a cluster, run CMD with JIUZHU_TEST_DATABASE_URL
#                                         set to its server URL, then stop and delete it (also on
#                                         failure or Ctrl-C); exits with CMD's status
#   scripts/pg_cluster.sh start           start one and print `export …` lines (eval them)
#   scripts/pg_cluster.sh stop DIR        stop and delete the cluster `start` made in DIR
#
# The URL is `postgresql+psycopg://postgres@127.0.0.1:<port>/postgres` (the server's maintenance
# database: tests/conftest.py creates a fresh database per session there and drops it at the
# end). PG_BIN overrides where initdb/pg_ctl are looked for, PG_USER the unprivileged owner
# (default `nobody`), PG_TMPDIR where the temp directory goes (default /tmp), PG_OPTIONS more
# server options (e.g. `-c log_min_duration_statement=200`).
set -euo pipefail

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return 0; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

install_pg() {
  if pg_bin >/dev/null; then
    echo "PostgreSQL: $("$(pg_bin)/postgres" --version)"
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "PostgreSQL not found: installing it from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  # postgresql-common first, told not to create (and start) a `main` cluster: only the
  # throw-away clusters below ever run.
  $sudo apt-get install -y -q --no-install-recommends postgresql-common
  if [ -f /etc/postgresql-common/createcluster.conf ]; then
    $sudo sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf
  fi
  $sudo apt-get install -y -q --no-install-recommends postgresql
  echo "PostgreSQL: $("$(pg_bin)/postgres" --version)"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The cluster's owner when run as root (root cannot own a cluster): PG_USER, else `nobody`,
# else a system user made for it.
owner() {
  if [ -n "${PG_USER:-}" ]; then echo "$PG_USER"; return 0; fi
  if id nobody >/dev/null 2>&1; then echo nobody; return 0; fi
  id jiuzhu-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin jiuzhu-pg
  echo jiuzhu-pg
}

# Run a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$(owner)" -- "$@"
  else
    "$@"
  fi
}

# start_cluster: sets DIR and URL.
start_cluster() {
  local bin port
  bin=$(pg_bin) || { echo "PostgreSQL is not installed: scripts/pg_cluster.sh install" >&2; exit 1; }
  # /tmp unless PG_TMPDIR says otherwise: the owner must reach it (root's TMPDIR may be private).
  DIR=$(mktemp -d "${PG_TMPDIR:-/tmp}/jiuzhu-pg.XXXXXX")
  chmod 0755 "$DIR"
  if [ "$(id -u)" -eq 0 ]; then chown "$(owner)" "$DIR"; fi
  port=$(free_port)
  as_owner "$bin/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
  # C collation: strings order by bytes, as in SQLite (the suite's other database).
  as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$DIR \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=400 -c shared_buffers=256MB -c timezone=UTC \
        -c random_page_cost=1.1 ${PG_OPTIONS:-}" \
    start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
  echo "$port" >"$DIR/port"
  URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
}

stop_cluster() {
  # (a bare `return` inside an EXIT trap would return the trapped status: say 0 explicitly)
  local dir=$1 bin
  [ -d "$dir" ] || return 0
  bin=$(pg_bin) || bin=""
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  return 0
}

case "${1:-}" in
  install)
    install_pg
    ;;
  run)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARG…]" >&2; exit 2; }
    start_cluster
    trap 'set +e; stop_cluster "$DIR"' EXIT
    trap 'exit 130' INT TERM
    echo "PostgreSQL cluster: $URL (in $DIR)"
    set +e
    JIUZHU_TEST_DATABASE_URL="$URL" "$@"
    rc=$?
    set -e
    exit "$rc"
    ;;
  start)
    start_cluster
    echo "export JIUZHU_TEST_DATABASE_URL=$URL"
    echo "export JIUZHU_PG_CLUSTER_DIR=$DIR"
    echo "# stop and delete: $0 stop $DIR" >&2
    ;;
  stop)
    stop_cluster "${2:?usage: $0 stop DIR}"
    ;;
  *)
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    exit 2
    ;;
esac
