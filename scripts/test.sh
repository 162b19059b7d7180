#!/usr/bin/env bash
# test.sh — run the whole test suite. When PostgreSQL is installed, a throwaway
# server is started on a private socket so the store tests also run against it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/go/bin:$PATH"

pg_cleanup() { :; }
if [ -z "${SWITCHBOARD_TEST_POSTGRES:-}" ] && [ -z "${SWITCHBOARD_TEST_NO_POSTGRES:-}" ]; then
  if pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1) && [ -x "$pgbin/initdb" ]; then
    pgdir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
    chmod 755 "$pgdir"
    run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    [ "$(id -u)" = 0 ] && chown postgres "$pgdir"
    port=$(( 20000 + RANDOM % 10000 ))
    if run_pg "$pgbin/initdb -D $pgdir/data -U switchboard --auth=trust -E UTF8 >$pgdir/initdb.log 2>&1" &&
       run_pg "$pgbin/pg_ctl -D $pgdir/data -l $pgdir/pg.log -w -o '-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off' start >/dev/null"; then
      export SWITCHBOARD_TEST_POSTGRES="postgres://switchboard@127.0.0.1:$port/postgres?sslmode=disable"
      echo "test: PostgreSQL on 127.0.0.1:$port for the store tests"
      pg_cleanup() { run_pg "$pgbin/pg_ctl -D $pgdir/data -m immediate stop >/dev/null 2>&1" || true; rm -rf "$pgdir"; }
    else
      echo "test: could not start PostgreSQL (see $pgdir); PostgreSQL store tests will be skipped"
    fi
  fi
fi
trap pg_cleanup EXIT

[ $# -gt 0 ] || set -- ./...
go test -race -count=1 -timeout 30m "$@"
