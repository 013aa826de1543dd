#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suites, on loopback only.
#
#   scripts/postgres-cluster.sh start   # prints the path of an env file to source
#   scripts/postgres-cluster.sh stop    # stops it and removes its data
#
# Roles: postgres (superuser), clinickeep_owner (owns the databases and tables),
# clinickeep_app (the server's role: owns nothing, no BYPASSRLS). Databases: clinickeep_test
# (Swift suites) and clinickeep_e2e (end-to-end suite). Passwords are random per cluster;
# TCP connections use scram-sha-256.
set -euo pipefail

dir="${CLINICKEEP_PG_DIR:-/tmp/clinickeep-pg}"
port="${CLINICKEEP_PG_PORT:-55432}"
env_file="$dir/env.sh"

bin=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/initdb" ]; then bin="$candidate"; break; fi
done
if [ -z "$bin" ]; then
  echo "postgres-cluster: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
fi

# initdb and postgres refuse to run as root: run them as the postgres system user then.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

psql_super() {
  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"
}

start() {
  if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "$env_file"
    return
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ "$(id -u)" = "0" ] && chown postgres "$dir"
  local super_pw owner_pw app_pw
  super_pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  owner_pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  app_pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$super_pw" > "$dir/superuser-password"
  [ "$(id -u)" = "0" ] && chown postgres "$dir/superuser-password"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$dir/superuser-password" --encoding=UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  psql_super -d postgres <<SQL
CREATE ROLE clinickeep_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '$owner_pw';
CREATE ROLE clinickeep_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD '$app_pw';
CREATE DATABASE clinickeep_test OWNER clinickeep_owner;
CREATE DATABASE clinickeep_e2e OWNER clinickeep_owner;
SQL
  local base="127.0.0.1:$port"
  cat > "$env_file" <<ENV
export CLINICKEEP_POSTGRES_BIN='$bin'
export CLINICKEEP_TEST_POSTGRES_OWNER_URL='postgres://clinickeep_owner:$owner_pw@$base/clinickeep_test'
export CLINICKEEP_TEST_POSTGRES_APP_URL='postgres://clinickeep_app:$app_pw@$base/clinickeep_test'
export CLINICKEEP_E2E_POSTGRES_OWNER_URL='postgres://clinickeep_owner:$owner_pw@$base/clinickeep_e2e'
export CLINICKEEP_E2E_POSTGRES_APP_URL='postgres://clinickeep_app:$app_pw@$base/clinickeep_e2e'
export CLINICKEEP_E2E_POSTGRES_SUPER_URL='postgres://postgres:$super_pw@$base/clinickeep_e2e'
ENV
  chmod 600 "$env_file"
  echo "$env_file"
}

stop() {
  if [ -d "$dir/data" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
