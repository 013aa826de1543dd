#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suites, on loopback only.
#
#   scripts/postgres-cluster.sh start   # starts it (or finds it running); prints the env file's path
#   scripts/postgres-cluster.sh stop    # stops it (pg_ctl stop -m fast) and removes its directory
#
#   . "$(scripts/postgres-cluster.sh start)"    # then the suites find the URLs below
#
# Settings: CLINICKEEP_PG_DIR (default /tmp/clinickeep-pg) holds the cluster (data/), its unix
# socket, its log and the env file; CLINICKEEP_PG_PORT (default 55432) is its TCP port on
# 127.0.0.1. The server binaries are the highest version in /usr/lib/postgresql/*/bin; installing
# them is .ci/run's job (apt-get install postgresql).
#
# Roles: postgres (superuser), clinickeep_owner (owns the databases and, after migrations, the
# tables), clinickeep_app (the server's role: owns nothing, NOBYPASSRLS). Databases:
# clinickeep_test (Swift suites) and clinickeep_e2e (end-to-end suite), both owned by
# clinickeep_owner. Every role has a random password, new for each cluster; TCP connections use
# scram-sha-256. Only the unix socket, in a directory only the cluster's owner can enter, trusts.
#
# The env file ($CLINICKEEP_PG_DIR/env.sh, mode 0600) exports:
#   CLINICKEEP_TEST_POSTGRES_OWNER_URL  CLINICKEEP_TEST_POSTGRES_APP_URL
#   CLINICKEEP_E2E_POSTGRES_OWNER_URL   CLINICKEEP_E2E_POSTGRES_APP_URL  CLINICKEEP_E2E_POSTGRES_SUPER_URL
#   CLINICKEEP_POSTGRES_BIN             (the bin directory, so psql and pg_dump match the server)
#
# As root, initdb and the server run as the `postgres` system user (created when missing), which
# owns the cluster's directory.
set -euo pipefail

dir="${CLINICKEEP_PG_DIR:-/tmp/clinickeep-pg}"
port="${CLINICKEEP_PG_PORT:-55432}"
data="$dir/data"
env_file="$dir/env.sh"
secrets_file="$dir/passwords"   # the three passwords, so `start` on a running cluster can rewrite env.sh
marker="$dir/.clinickeep-pg-cluster"   # only a directory that is ours is ever removed

die() { echo "postgres-cluster: $*" >&2; exit 1; }

# Ours: carries the marker (or, from before the marker, holds a cluster and its env file).
ours() { [ -f "$marker" ] || { [ -f "$data/PG_VERSION" ] && [ -f "$env_file" ]; }; }

case "$dir" in
  /*) ;;
  *) die "CLINICKEEP_PG_DIR must be an absolute path (got '$dir')" ;;
esac
dir="${dir%/}"
[ -n "$dir" ] && [ "$dir" != "$HOME" ] || die "refusing to use '$dir' as the cluster directory"
case "$port" in
  ''|*[!0-9]*) die "CLINICKEEP_PG_PORT must be a number (got '$port')" ;;
esac
# A unix socket path is limited to 107 bytes.
[ ${#dir} -le 80 ] || die "CLINICKEEP_PG_DIR is too long for a unix socket path: $dir"

find_bin() {
  local candidate
  # Highest major version first.
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/postgres" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

is_root() { [ "$(id -u)" = "0" ]; }

# initdb and postgres refuse to run as root: run them as the postgres system user then.
as_owner() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_postgres_user() {
  is_root || return 0
  id postgres >/dev/null 2>&1 && return 0
  if getent group postgres >/dev/null 2>&1; then
    useradd --system --gid postgres --home-dir /var/lib/postgresql --no-create-home --shell /bin/bash postgres
  else
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home --shell /bin/bash postgres
  fi
}

psql_super() {
  # Over the unix socket in $dir (trust, reachable only by the cluster's owner).
  as_owner "$bin/psql" -X -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"
}

running() {
  [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

new_password() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

write_env() {
  local super_pw owner_pw app_pw base
  # shellcheck disable=SC1090
  . "$secrets_file"
  base="127.0.0.1:$port"
  (
    umask 077
    cat > "$env_file.tmp" <<ENV
# Written by scripts/postgres-cluster.sh for the cluster in $dir (port $port).
export CLINICKEEP_POSTGRES_BIN='$bin'
export CLINICKEEP_TEST_POSTGRES_OWNER_URL='postgres://clinickeep_owner:$owner_pw@$base/clinickeep_test'
export CLINICKEEP_TEST_POSTGRES_APP_URL='postgres://clinickeep_app:$app_pw@$base/clinickeep_test'
export CLINICKEEP_E2E_POSTGRES_OWNER_URL='postgres://clinickeep_owner:$owner_pw@$base/clinickeep_e2e'
export CLINICKEEP_E2E_POSTGRES_APP_URL='postgres://clinickeep_app:$app_pw@$base/clinickeep_e2e'
export CLINICKEEP_E2E_POSTGRES_SUPER_URL='postgres://postgres:$super_pw@$base/clinickeep_e2e'
ENV
  )
  mv -f "$env_file.tmp" "$env_file"
}

# A cluster started by an older copy of this script kept no passwords file: give the roles new
# passwords (over the socket) so the env file can be written again.
recover_secrets() {
  local super_pw owner_pw app_pw
  super_pw=$(new_password); owner_pw=$(new_password); app_pw=$(new_password)
  psql_super -d postgres <<SQL
ALTER ROLE postgres PASSWORD '$super_pw';
ALTER ROLE clinickeep_owner PASSWORD '$owner_pw';
ALTER ROLE clinickeep_app PASSWORD '$app_pw';
SQL
  ( umask 077; printf "super_pw='%s'\nowner_pw='%s'\napp_pw='%s'\n" "$super_pw" "$owner_pw" "$app_pw" > "$secrets_file" )
}

start() {
  bin=$(find_bin) || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (install them, e.g. apt-get install postgresql; .ci/run does)"
  ensure_postgres_user

  if running; then
    [ -f "$secrets_file" ] || recover_secrets
    write_env
    echo "$env_file"
    return 0
  fi

  # Not running: start from nothing.
  if [ -e "$dir" ]; then
    ours || die "$dir exists and was not made by this script; remove it or set CLINICKEEP_PG_DIR"
    rm -rf "$dir"
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  : > "$marker"
  if is_root; then
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" \
      || die "the postgres user cannot reach $dir (a parent directory is closed to it); choose a CLINICKEEP_PG_DIR under /tmp"
  fi

  local super_pw owner_pw app_pw pwfile pg_locale
  super_pw=$(new_password); owner_pw=$(new_password); app_pw=$(new_password)
  ( umask 077; printf "super_pw='%s'\nowner_pw='%s'\napp_pw='%s'\n" "$super_pw" "$owner_pw" "$app_pw" > "$secrets_file" )

  # initdb reads the superuser's password from a file the cluster's owner can read.
  pwfile="$dir/initdb-password"
  ( umask 077; printf '%s\n' "$super_pw" > "$pwfile" )
  is_root && chown postgres: "$pwfile"
  pg_locale=C
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then pg_locale=C.UTF-8; fi
  if ! as_owner "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale="$pg_locale" --no-instructions >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  fi
  rm -f "$pwfile"

  # Loopback TCP only; the socket lives in $dir (mode 0700). The Swift suites run many tests at
  # once, each application with its own pool (up to 10 connections): 200 slots ran out (seen as a
  # 500 on sign-in, "remaining connection slots are reserved"), so there are 500.
  if ! as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c password_encryption=scram-sha-256 -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null; then
    cat "$dir/server.log" >&2 || true
    die "the server did not start (is port $port taken?)"
  fi

  psql_super -d postgres <<SQL
CREATE ROLE clinickeep_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD '$owner_pw';
CREATE ROLE clinickeep_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD '$app_pw';
CREATE DATABASE clinickeep_test OWNER clinickeep_owner;
CREATE DATABASE clinickeep_e2e OWNER clinickeep_owner;
SQL
  write_env
  echo "$env_file"
}

stop() {
  [ -e "$dir" ] || return 0
  ours || die "$dir was not made by this script; not touching it"
  if [ -f "$data/postmaster.pid" ]; then
    if bin=$(find_bin); then
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    else
      echo "postgres-cluster: no PostgreSQL binaries to stop the server with; removing $dir anyway" >&2
    fi
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
