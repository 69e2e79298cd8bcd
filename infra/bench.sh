#!/usr/bin/env bash
# Runs the benchmark suite (issue 8): builds `xg-bench` in release mode, starts a private
# PostgreSQL cluster on loopback (never the machine's shared one), prepares data with the
# product's roster generator, runs every case beside its PostgreSQL baseline, prints the table
# and writes it into docs/benchmarks.md. Takes about 10-20 minutes on 2 cores. The tests never
# run it. Knobs: XG_BENCH_SCHOOLS (1000), XG_BENCH_PER_SCHOOL (2000), XG_BENCH_SECONDS (15).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

PG_DIR="$DATA_DIR/bench-pg"
cleanup() {
    stop_cluster "$PG_DIR"
    rm -rf "$PG_DIR"
}
trap cleanup EXIT

say "building the benchmarks in release mode"
cargo build --release --quiet -p xg-bench
BIN="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/xg-bench"

say "starting a private PostgreSQL cluster for the benchmarks"
stop_cluster "$PG_DIR"
rm -rf "$PG_DIR"
PG_PORT="$(free_port "${XUEGONG_BENCH_PG_PORT:-55539}")"
start_cluster "$PG_DIR" "$PG_PORT"
# Room for the tenant-scaling data set in PostgreSQL's own cache; both sides of every case
# share this server, so the setting favours neither.
pg_super "$PG_PORT" -d postgres -c "alter system set shared_buffers = '1GB'"
stop_cluster "$PG_DIR"
start_cluster "$PG_DIR" "$PG_PORT"
create_roles "$PG_PORT"

export XG_TEST_PG_ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export XG_BENCH_PG_PORT="$PG_PORT"
export XG_BENCH_PGBENCH="$(pg_bin_dir)/pgbench"
export XG_BENCH_DOC="$REPO_ROOT/docs/benchmarks.md"
export RUST_LOG="${RUST_LOG:-warn}"

say "running the benchmarks"
"$BIN"
