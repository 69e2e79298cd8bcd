#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, and the whole test suite against a private
# PostgreSQL cluster and an S3-compatible server, both started here on loopback and stopped at
# the end. Usage: infra/test.sh [extra cargo test args]
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

PG_DIR="$DATA_DIR/test-pg"
S3_DIR="$DATA_DIR/test-s3"
S3_PID=""

cleanup() {
    [ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null || true
    stop_cluster "$PG_DIR"
}
trap cleanup EXIT

say "checking formatting"
cargo fmt --all --check

ensure_chromium

say "starting a fresh PostgreSQL cluster for tests"
stop_cluster "$PG_DIR"
rm -rf "$PG_DIR"
PG_PORT="$(free_port "${XUEGONG_TEST_PG_PORT:-55439}")"
start_cluster "$PG_DIR" "$PG_PORT"
create_roles "$PG_PORT"

say "starting an S3-compatible server for tests"
ensure_s3s_fs
rm -rf "$S3_DIR" && mkdir -p "$S3_DIR"
S3_PORT="$(free_port 59339)"
S3_KEY="xuegong-test"
S3_SECRET="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
s3s-fs --host 127.0.0.1 --port "$S3_PORT" --access-key "$S3_KEY" --secret-key "$S3_SECRET" \
    "$S3_DIR" >"$DATA_DIR/test-s3.log" 2>&1 &
S3_PID=$!
for _ in $(seq 50); do port_in_use "$S3_PORT" && break; sleep 0.1; done
port_in_use "$S3_PORT" || die "s3s-fs did not start; see $DATA_DIR/test-s3.log"

export XG_TEST_PG_ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export XG_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
export XG_TEST_S3_ACCESS_KEY="$S3_KEY"
export XG_TEST_S3_SECRET_KEY="$S3_SECRET"

say "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "tests"
cargo test --workspace "$@"
