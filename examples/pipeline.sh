#!/usr/bin/env bash
# The README's first pipeline: a Feodo Tracker download (shipped in the repo)
# collected as an IntelMQ report, parsed into events, classified, filtered, and
# written as CSV. Offline. IMQ_BIN may point at the binaries (default: the
# release build).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${IMQ_BIN:-target/release}
"$B/imq-collect" file examples/feodo.json --feed-name "Feodo Tracker" --feed-provider abuse.ch \
  | "$B/imq-parse" abusech-feodotracker \
  | "$B/imq-enrich" taxonomy \
  | "$B/imq-filter" 'classification.taxonomy == "malicious-code"' \
  | "$B/imq-output" csv --fields time.source,source.ip,source.port,malware.name,classification.taxonomy,feed.name
