#!/usr/bin/env python3
"""Generate benchmark feeds (not committed): a generic CSV feed and a Feodo
Tracker style JSON list, N records each.

Usage: python3 scripts/gen-bench-data.py N OUTDIR
Writes OUTDIR/bench.csv, OUTDIR/bench-csv.params.json, OUTDIR/feodo.json.
"""
import json
import os
import sys

n = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
malware = ["Dridex", "Emotet", "QakBot", "BazarLoader", "TrickBot"]
with open(os.path.join(out, "bench.csv"), "w") as f:
    f.write("# generated benchmark feed\n")
    for i in range(n):
        ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        f.write(f"2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{i % 60:02d},{ip},"
                f"{1024 + i % 60000},host{i}.example.com,{malware[i % 5]},tag{i % 100}\n")
with open(os.path.join(out, "bench-csv.params.json"), "w") as f:
    json.dump({"columns": ["time.source", "source.ip", "source.port", "source.fqdn",
                           "malware.name", "extra.tag"],
               "type": "c2-server"}, f)
with open(os.path.join(out, "feodo.json"), "w") as f:
    f.write("[\n")
    for i in range(n):
        ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        item = {"ip_address": ip, "port": 1024 + i % 60000, "status": "online",
                "hostname": f"host{i}.example.com", "as_number": 64496 + i % 10,
                "as_name": "EXAMPLE-AS", "country": "DE",
                "first_seen": f"2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
                "last_online": "2024-02-01", "malware": malware[i % 5]}
        f.write(("," if i else "") + json.dumps(item, indent=2) + "\n")
    f.write("]\n")
