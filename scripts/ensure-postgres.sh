#!/usr/bin/env bash
# ensure-postgres.sh — a throwaway PostgreSQL server for the job journal's tests, from Debian's package.
#
# Usage: scripts/ensure-postgres.sh STATE_DIR
#   Installs postgresql with apt when no PostgreSQL server is installed (CI runs as root on a fresh
#   Debian machine), creates a cluster in STATE_DIR/data (trust authentication, superuser "flotilla",
#   no TCP: one Unix socket in STATE_DIR/run), starts it and prints "PID SOCKET_DIR PORT USER" on its
#   last line (its log is STATE_DIR/run/server.log). As root the server runs as the `postgres` user the package creates (PostgreSQL refuses
#   to run as root). The caller stops it with `kill -INT PID` (a fast shutdown) and removes STATE_DIR.
set -euo pipefail

state_dir=${1:?usage: ensure-postgres.sh STATE_DIR}
mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd)

server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# Test files run in parallel and each may call this script: one at a time through the install
# (apt and dpkg take a lock of their own and fail rather than wait).
exec 9>"${TMPDIR:-/tmp}/flotilla-ensure-postgres.lock"
flock 9
bin=$(server_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-postgres: no PostgreSQL server is installed and this is not root; install it with: apt-get install postgresql" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql >&2
  bin=$(server_bin)
fi
flock -u 9

data="$state_dir/data"
socket_dir="$state_dir/run"
mkdir -p "$data" "$socket_dir"
as_server=()
if [ "$(id -u)" = 0 ]; then
  # The server's user must reach its data and socket directories, and nothing else of ours.
  chmod 711 "$state_dir"
  chown postgres "$data" "$socket_dir"
  as_server=(runuser -u postgres --)
fi
chmod 700 "$data"

if [ ! -f "$data/PG_VERSION" ]; then
  "${as_server[@]}" "$bin/initdb" -D "$data" --username=flotilla --auth=trust --encoding=UTF8 --no-instructions >&2
fi
# The port only names the socket file (.s.PGSQL.PORT): nothing listens on TCP.
port=$((20000 + RANDOM % 20000))
# fsync off: a test server's data does not have to survive a power cut, and the tests run faster.
"${as_server[@]}" "$bin/pg_ctl" -D "$data" -l "$socket_dir/server.log" -w -t 60 \
  -o "-k $socket_dir -p $port -c listen_addresses= -c fsync=off -c max_connections=200" start >&2
pid=$(head -1 "$data/postmaster.pid")
echo "$pid $socket_dir $port flotilla"
