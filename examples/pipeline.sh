#!/usr/bin/env bash
# The README's first pipeline: a Feodo Tracker download (shipped in the repo)
# collected as an IntelMQ report, parsed into events, classified, filtered, and
# stored in IntelMQ's `events` table in an SQLite file (examples/feodo.db, made
# anew), which is then queried. Offline. IMQ_BIN may point at the binaries
# (default: the release build); IMQ_DB at another database file.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${IMQ_BIN:-target/release}
DB=${IMQ_DB:-examples/feodo.db}
rm -f "$DB" "$DB-wal" "$DB-shm"
"$B/imq-collect" file examples/feodo.json --feed-name "Feodo Tracker" --feed-provider abuse.ch \
  | "$B/imq-parse" abusech-feodotracker \
  | "$B/imq-enrich" taxonomy geoip --database examples/geoip/City.mmdb \
      asn --database examples/geoip/ASN.mmdb \
  | "$B/imq-filter" 'classification.taxonomy == "malicious-code"' \
  | "$B/imq-output" sqlite "$DB"
# A query of the table (python3's sqlite3 module; `sqlite3 "$DB"` works the same).
python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = ["time.source", "source.ip", "source.port", "source.network", "malware.name", "classification.taxonomy", "feed.name"]
print(",".join(cols))
for row in db.execute("SELECT " + ", ".join(f'"{c}"' for c in cols) + " FROM events ORDER BY id"):
    print(",".join(str(v) for v in row))
PY
