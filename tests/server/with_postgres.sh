#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster, and removes the cluster afterwards
# however the command ends (failure, crash, ctest's timeout).
#   tests/server/with_postgres.sh COMMAND [ARGS...]
# The cluster lives in a fresh temporary folder, listens only on a Unix socket in that folder
# (no TCP port, so runs beside other clusters never collide), and lets only its owner in.
# The command finds it in CALLSWAP_TEST_POSTGRES (libpq key=value: host and user, no dbname).
# initdb refuses root: as root the cluster runs as the `postgres` user Debian's package creates.
# CALLSWAP_TEST_POSTGRES_FSYNC=on keeps PostgreSQL's durable defaults (the benchmark does);
# tests turn fsync off, since no test pulls the power from under the database.
set -euo pipefail

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$bindir/initdb" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
if [ ! -x "$bindir/initdb" ]; then
  echo "with_postgres: initdb not found: run scripts/install-deps (Debian's postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/callswap-pg.XXXXXX")
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
  chown postgres: "$dir"
fi
chmod 700 "$dir"

stop_cluster() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop_cluster EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

if ! "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 \
    >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  exit 1
fi
fsync=${CALLSWAP_TEST_POSTGRES_FSYNC:-off}
if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c fsync=$fsync -c max_connections=300" start >/dev/null; then
  cat "$dir/postgres.log" >&2
  exit 1
fi

export CALLSWAP_TEST_POSTGRES="host=$dir user=postgres"
status=0
"$@" || status=$?
exit "$status"
