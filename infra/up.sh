#!/usr/bin/env bash
# Brings up the whole platform locally with the demo district: a private PostgreSQL cluster
# under .data/ (unless XUEGONG_DATABASE_URL and XUEGONG_MIGRATE_DATABASE_URL are given),
# migrations, the demo district with its three schools, demo logins, and the service on
# http://127.0.0.1:8080 (XUEGONG_LISTEN to change). Ctrl-C stops everything it started.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

PG_DIR="$DATA_DIR/pg"
STARTED_PG=""
cleanup() { [ -n "$STARTED_PG" ] && stop_cluster "$PG_DIR"; }
trap cleanup EXIT

if [ -z "${XUEGONG_DATABASE_URL:-}" ]; then
    PG_PORT="${XUEGONG_PG_PORT:-54329}"
    say "starting the private PostgreSQL cluster in .data/pg (port $PG_PORT)"
    start_cluster "$PG_DIR" "$PG_PORT"
    STARTED_PG=1
    create_roles "$PG_PORT"
    if [ -z "$(pg_super "$PG_PORT" -d postgres -tAc "select 1 from pg_database where datname = 'xuegong'")" ]; then
        pg_super "$PG_PORT" -d postgres -c "create database xuegong owner xuegong_owner"
    fi
    export XUEGONG_DATABASE_URL="postgres://xuegong_app:xuegong_app@127.0.0.1:$PG_PORT/xuegong"
    export XUEGONG_MIGRATE_DATABASE_URL="postgres://xuegong_owner:xuegong_owner@127.0.0.1:$PG_PORT/xuegong"
fi

mkdir -p "$DATA_DIR"
if [ ! -s "$DATA_DIR/session-secret" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n' >"$DATA_DIR/session-secret")
fi
export XUEGONG_SESSION_SECRET="${XUEGONG_SESSION_SECRET:-$(cat "$DATA_DIR/session-secret")}"
if [ ! -s "$DATA_DIR/master-key" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA_DIR/master-key")
fi
export XUEGONG_MASTER_KEY="${XUEGONG_MASTER_KEY:-$(cat "$DATA_DIR/master-key")}"
export XUEGONG_LISTEN="${XUEGONG_LISTEN:-127.0.0.1:8080}"
# Plain http on loopback: the browser would drop Secure cookies outside localhost.
export XUEGONG_COOKIE_SECURE="${XUEGONG_COOKIE_SECURE:-false}"
export XUEGONG_LOG_FORMAT="${XUEGONG_LOG_FORMAT:-pretty}"
# *.localhost resolves to loopback in browsers, so each school also has a subdomain locally.
export XUEGONG_BASE_DOMAIN="${XUEGONG_BASE_DOMAIN:-localhost}"
export XUEGONG_STORAGE__LOCAL_DIR="${XUEGONG_STORAGE__LOCAL_DIR:-$DATA_DIR/attachments}"

say "building xuegong"
cargo build --quiet -p xuegong
BIN="$REPO_ROOT/target/debug/xuegong"

say "migrating and onboarding the demo district"
"$BIN" migrate
"$BIN" district create demo "示范区教育局" --if-missing
XUEGONG_NEW_PASSWORD="Operator-Demo-2026" \
    "$BIN" account create operator --role operator --display-name "平台运营" --if-missing
XUEGONG_NEW_PASSWORD="Bureau-Demo-2026" \
    "$BIN" account create demo-bureau --role district-admin --district demo \
    --display-name "示范区教育局管理员" --if-missing
# --only-new: a restart must not undo what the schools changed in their own org trees.
"$BIN" tenant onboard --only-new tenants/*.toml
# Generated students (valid IDs, realistic names) through the normal import; schools that
# already have students are left alone.
"$BIN" students demo-fill demo --per-class 30
"$BIN" check

PORT="${XUEGONG_LISTEN##*:}"
cat <<MSG

  Xuegong is starting on http://127.0.0.1:$PORT/   (Ctrl-C stops it)

  Demo logins (demo data only; school accounts must change their password at first sign-in):
    platform operator:  http://127.0.0.1:$PORT/login  operator / Operator-Demo-2026
    district bureau:    http://127.0.0.1:$PORT/login  demo-bureau / Bureau-Demo-2026
    城东高级中学:        http://127.0.0.1:$PORT/s/chengdong-high/login
        admin / Chengdong-Admin-2026, head-g2026-01 / Chengdong-Teacher-2026
    明湖大学:            http://127.0.0.1:$PORT/s/minghu-univ/login
        admin / Minghu-Admin-2026, counselor-cs2301 / Minghu-Counselor-2026
    城南中等职业技术学校: http://127.0.0.1:$PORT/s/chengnan-vocational/login
        admin / Chengnan-Admin-2026, head-sk2601 / Chengnan-Teacher-2026
  Students: student number, and the last six characters of their ID number at first sign-in
  (the sample students are printed above by demo-fill).
  Schools are also reachable by subdomain, e.g. http://chengdong.localhost:$PORT/

MSG
"$BIN" serve
