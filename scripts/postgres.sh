#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, on a machine that starts no services itself.
#
#   scripts/postgres.sh start [DIR]   provision and start a server; prints its URL on stdout
#   scripts/postgres.sh stop DIR      stop that server and remove DIR
#   scripts/postgres.sh down DIR      stop the server, keeping DIR (tests of a store losing its server)
#   scripts/postgres.sh up DIR        start it again on the same port
#
# `start` installs Debian's PostgreSQL server binaries when none are found (root only), creates the
# system user `pairflow-pg` when running as root (initdb refuses root), and lays the server out in DIR
# (a new directory under /tmp when omitted; it must be new or empty, and is made mode 755 because a
# server's data directory must not sit under a 0700 parent): DIR/data, DIR/socket (the Unix socket:
# -k, so nothing is needed in /var/run/postgresql), DIR/log, DIR/url. The server listens on 127.0.0.1
# on a free port; TCP logins need the password in the URL (SCRAM), socket logins are trusted.
# `stop` is safe to call twice and on a half-made DIR.
set -euo pipefail

PG_USER=pairflow-pg

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

pg_bindir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ] && command -v pg_ctl >/dev/null 2>&1; then
    found=$(dirname "$(command -v pg_ctl)")
  fi
  echo "$found"
}

ensure_binaries() {
  local bindir
  bindir=$(pg_bindir)
  if [ -n "$bindir" ] && [ -x "$bindir/initdb" ]; then
    echo "$bindir"
    return
  fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL server binaries not found; install Debian's 'postgresql' package"
  echo "postgres.sh: installing PostgreSQL server binaries (apt-get) ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
  bindir=$(pg_bindir)
  [ -n "$bindir" ] && [ -x "$bindir/initdb" ] || die "PostgreSQL installed, but initdb is not found"
  echo "$bindir"
}

# Run a server command as the server's owner: the system user when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  [ "$(id -u)" = 0 ] || return 0
  id -u "$PG_USER" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_USER" 2>/dev/null \
    || id -u "$PG_USER" >/dev/null 2>&1 || die "cannot create the system user $PG_USER"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/pairflow-postgres.XXXXXX)
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  fi
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  local bindir
  bindir=$(ensure_binaries)
  ensure_user
  mkdir -p "$dir/data" "$dir/socket"
  [ "$(id -u)" = 0 ] && chown "$PG_USER:$PG_USER" "$dir/data" "$dir/socket"
  chmod 700 "$dir/data"
  local password
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$password" > "$dir/password"
  chmod 644 "$dir/password"
  if ! as_owner "$bindir/initdb" --no-sync -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/password" -D "$dir/data" \
    >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  fi
  rm -f "$dir/password"
  touch "$dir/log"
  [ "$(id -u)" = 0 ] && chown "$PG_USER:$PG_USER" "$dir/log"
  printf '%s\n' "$bindir" > "$dir/bindir"
  local port attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    if launch "$dir" "$port"; then
      local url="postgresql://postgres:$password@127.0.0.1:$port/postgres"
      printf '%s\n' "$url" > "$dir/url"
      printf '%s\n' "$port" > "$dir/port"
      echo "postgres.sh: PostgreSQL on 127.0.0.1:$port in $dir (stop: scripts/postgres.sh stop $dir)" >&2
      echo "$url"
      return 0
    fi
    echo "postgres.sh: start on port $port failed (attempt $attempt)" >&2
  done
  tail -n 20 "$dir/log" >&2
  die "cannot start PostgreSQL (log: $dir/log)"
}

# Start the server of DIR on PORT and wait until it accepts connections.
launch() {
  local dir=$1 port=$2 bindir
  bindir=$(cat "$dir/bindir")
  as_owner "$bindir/pg_ctl" -w -t 30 -D "$dir/data" -l "$dir/log" \
    -o "-p $port -h 127.0.0.1 -k $dir/socket -c max_connections=200" start >/dev/null 2>&1
}

down() {
  local dir=${1:-}
  [ -f "$dir/bindir" ] || die "usage: postgres.sh down DIR (a DIR made by start)"
  as_owner "$(cat "$dir/bindir")/pg_ctl" -w -D "$dir/data" -m fast stop >/dev/null
}

up() {
  local dir=${1:-}
  [ -f "$dir/port" ] || die "usage: postgres.sh up DIR (a DIR made by start)"
  launch "$dir" "$(cat "$dir/port")" || die "cannot start PostgreSQL again (log: $dir/log)"
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: postgres.sh stop DIR"
  [ -d "$dir" ] || return 0
  local bindir
  bindir=$(cat "$dir/bindir" 2>/dev/null || pg_bindir)
  if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bindir" ]; then
    as_owner "$bindir/pg_ctl" -w -D "$dir/data" -m fast stop >/dev/null 2>&1 \
      || as_owner "$bindir/pg_ctl" -w -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  down) down "${2:-}" ;;
  up) up "${2:-}" ;;
  *) die "usage: postgres.sh start [DIR] | stop DIR | down DIR | up DIR" ;;
esac
