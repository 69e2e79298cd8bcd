# Shared helpers for infra/up.sh and infra/test.sh. Sourced, not run.
# Everything started here listens on 127.0.0.1 only and lives under the repository's .data/.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$REPO_ROOT/.data"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $* (install it yourself, then re-run)"
    fi
}

# Prints the bin folder of the newest installed PostgreSQL server, installing it if missing.
pg_bin_dir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        say "PostgreSQL server binaries not found; installing the Debian package 'postgresql'"
        as_root apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    fi
    echo "$dir"
}

# initdb refuses to run as root, so root runs the cluster as the 'postgres' user.
run_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_cluster DIR PORT: creates (once) and starts a private cluster on 127.0.0.1:PORT with
# trust authentication for loopback only. Returns when it accepts connections.
start_cluster() {
    local dir="$1" port="$2" bin
    bin="$(pg_bin_dir)"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "user 'postgres' cannot write $dir; clone the repository somewhere it can reach"
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        run_pg "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if run_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        return 0
    fi
    if port_in_use "$port"; then
        die "port $port is taken by another program; set XUEGONG_PG_PORT to a free port"
    fi
    run_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=300" start >/dev/null
}

stop_cluster() {
    local dir="$1" bin
    bin="$(pg_bin_dir)"
    run_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
}

# psql as the cluster's superuser.
pg_super() {
    local port="$1"; shift
    run_pg "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# The two roles the service needs: an owner that migrations run as, and the service role that
# owns nothing and cannot bypass row-level security.
create_roles() {
    local port="$1"
    pg_super "$port" -d postgres <<'SQL'
do $$
begin
    if not exists (select from pg_roles where rolname = 'xuegong_owner') then
        create role xuegong_owner login password 'xuegong_owner';
    end if;
    if not exists (select from pg_roles where rolname = 'xuegong_app') then
        create role xuegong_app login password 'xuegong_app' nosuperuser nobypassrls nocreatedb nocreaterole;
    end if;
end
$$;
SQL
}

# ensure_s3s_fs: the S3-compatible server the tests use (a real S3 protocol implementation
# over a folder; it checks request signatures).
ensure_s3s_fs() {
    if ! command -v s3s-fs >/dev/null; then
        say "installing s3s-fs (an S3-compatible server for tests; about 2 minutes, once)"
        cargo install s3s-fs@0.14.1 --features binary --locked --quiet >&2
    fi
}

# ensure_chromium: the headless browser the browser journey test drives, and a Chinese font so
# its screenshots show text, from Debian's packages (never downloaded by a test tool).
# Idempotent: installs only what is missing.
ensure_chromium() {
    if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null ||
        [ ! -d /usr/share/fonts/truetype/wqy ]; then
        say "installing Debian's chromium, chromium-driver and fonts-wqy-microhei for the browser test (once)"
        as_root apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            chromium chromium-driver fonts-wqy-microhei >&2
    fi
}

free_port() {
    local port="$1"
    while port_in_use "$port"; do port=$((port + 1)); done
    echo "$port"
}
