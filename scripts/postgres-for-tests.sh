#!/usr/bin/env bash
# A throwaway PostgreSQL server for the PostgreSQL storage tests.
#
#   scripts/postgres-for-tests.sh start DIR          # prints the server's URL on stdout
#   scripts/postgres-for-tests.sh stop DIR           # stops it and removes DIR
#   scripts/postgres-for-tests.sh stop-server DIR    # stops it (fast shutdown), keeps DIR
#   scripts/postgres-for-tests.sh start-server DIR   # starts it again on the same port
#   scripts/postgres-for-tests.sh available          # exit 0 when initdb can be found
#
# DIR must be new or empty. The server listens on 127.0.0.1 on a free port, trusts local
# connections, keeps its data in DIR and does not fsync (a PostgreSQL crash keeps what was
# committed; an operating-system crash may not). `stop-server` is a fast shutdown: every
# committed transaction is written out before the server exits. Run as root, it runs as the
# system user `secgroup-pg` (created if absent; PostgreSQL refuses to run as root) and
# installs the Debian `postgresql` package when no `initdb` is found.
set -euo pipefail

usage() { echo "usage: $0 start|stop|stop-server|start-server DIR | $0 available" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
cmd="$1"
if [[ "$cmd" == available ]]; then
    [[ $# -eq 1 ]] || usage
else
    [[ $# -eq 2 ]] || usage
    dir="$2"
fi
pg_user=secgroup-pg

find_bin() {
    local name="$1" found
    if found="$(command -v "$name" 2>/dev/null)"; then
        echo "$found"
        return 0
    fi
    for found in /usr/lib/postgresql/*/bin/"$name"; do
        [[ -x "$found" ]] && { echo "$found"; return 0; }
    done
    return 1
}

# Runs a command as the server's user (as root), or as ourselves.
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$pg_user" -- "$@"
    else
        "$@"
    fi
}

# Starts the server of "$dir/data" on 127.0.0.1:PORT and waits until it accepts connections.
run_server() {
    local pg_ctl="$1" port="$2"
    as_pg "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        >/dev/null 2>&1
}

start() {
    if ! find_bin initdb >/dev/null; then
        if [[ "$(id -u)" -ne 0 ]]; then
            echo "postgres-for-tests: initdb not found (install the postgresql package)" >&2
            exit 1
        fi
        echo "postgres-for-tests: installing postgresql" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    local initdb pg_ctl
    initdb="$(find_bin initdb)"
    pg_ctl="$(find_bin pg_ctl)"
    if [[ "$(id -u)" -eq 0 ]] && ! id "$pg_user" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
    fi
    mkdir -p "$dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$pg_user" "$dir"
    fi
    as_pg "$initdb" -D "$dir/data" -U secgroup -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    local port tries=0
    while :; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            if run_server "$pg_ctl" "$port"; then
                echo "$port" >"$dir/port"
                break
            fi
        fi
        tries=$((tries + 1))
        if [[ $tries -ge 10 ]]; then
            echo "postgres-for-tests: could not start PostgreSQL; its log:" >&2
            cat "$dir/server.log" >&2 || true
            exit 1
        fi
    done
    echo "postgres://secgroup@127.0.0.1:$port/postgres"
}

stop() {
    if [[ -d "$dir/data" ]]; then
        as_pg "$(find_bin pg_ctl)" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

stop_server() {
    as_pg "$(find_bin pg_ctl)" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

start_server() {
    [[ -f "$dir/port" ]] || { echo "postgres-for-tests: $dir was not started by this script" >&2; exit 1; }
    run_server "$(find_bin pg_ctl)" "$(cat "$dir/port")" || {
        echo "postgres-for-tests: could not restart PostgreSQL; its log:" >&2
        tail -n 40 "$dir/server.log" >&2 || true
        exit 1
    }
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    stop-server) stop_server ;;
    start-server) start_server ;;
    available) find_bin initdb >/dev/null ;;
    *) usage ;;
esac
