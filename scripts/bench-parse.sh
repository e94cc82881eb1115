#!/bin/sh
# Throughput and peak memory of imq-parse on generated feeds (one core).
# Usage: scripts/bench-parse.sh [N_RECORDS] [DIR]   (defaults: 1000000 /tmp/imq-bench-parse)
# Needs a release build: cargo build --release --bin imq-parse
set -eu
n=${1:-1000000}
dir=${2:-/tmp/imq-bench-parse}
bin=${IMQ_PARSE:-$(dirname "$0")/../target/release/imq-parse}
[ -f "$dir/bench.csv" ] || python3 "$(dirname "$0")/gen-bench-data.py" "$n" "$dir"
run() {
    name=$1; shift
    /usr/bin/time -f "%e %U %M" -o "$dir/time.txt" "$@" -q --dump /dev/null > /dev/null
    read -r wall user rss < "$dir/time.txt"
    echo "$name: $n events, wall ${wall}s, user ${user}s, $(python3 -c "print(int($n/max($user,0.001)))") events/s (user), peak RSS ${rss} KB"
}
run "generic-csv" "$bin" generic-csv --params "$dir/bench-csv.params.json" "$dir/bench.csv"
run "feodotracker" "$bin" feodotracker "$dir/feodo.json"
