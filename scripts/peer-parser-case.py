#!/usr/bin/env python3
"""Make a parser conformance case (tests/data/corpus/parser-feeds/<name>/<case>/) by
running IntelMQ itself through /work/shared/peer/intelmq-run.py over one raw feed file:
the report goes to input.ndjson, IntelMQ's output to expected.ndjson.
usage: peer-parser-case.py OUTDIR MODULE NAME RAWFILE [--param k=v]... [--field k=v]... [--fixture F] [--note N]"""
import argparse, base64, json, os, subprocess, sys
ap = argparse.ArgumentParser()
ap.add_argument('outdir'); ap.add_argument('module'); ap.add_argument('name'); ap.add_argument('rawfile')
ap.add_argument('--param', action='append', default=[]); ap.add_argument('--field', action='append', default=[])
ap.add_argument('--fixture', default=None); ap.add_argument('--note', action='append', default=[])
a = ap.parse_args()
params = {}
for p in a.param:
    k, v = p.split('=', 1)
    try: v = json.loads(v)
    except ValueError: pass
    params[k] = v
data = open(a.rawfile, 'rb').read()
report = {"__type": "Report"}
for f in a.field:
    k, v = f.split('=', 1); report[k] = v
report.setdefault("time.observation", "2024-01-01T00:00:00+00:00")
report["raw"] = base64.b64encode(data).decode()
os.makedirs(a.outdir, exist_ok=True)
ext = os.path.splitext(a.rawfile)[1] or '.txt'
open(os.path.join(a.outdir, 'raw' + ext), 'wb').write(data)
inp = os.path.join(a.outdir, 'input.ndjson')
open(inp, 'w').write(json.dumps(report) + '\n')
import tempfile
tmp = tempfile.mkdtemp()
pf = os.path.join(tmp, 'params.json'); json.dump(params, open(pf, 'w'))
errf = os.path.join(tmp, 'errors.txt')
r = subprocess.run(['/work/.venv-intelmq/bin/python', '/work/shared/peer/intelmq-run.py', a.module,
                    '--params', pf, '--input', inp, '--errors', errf], capture_output=True, text=True)
sys.stderr.write("".join(l+"\n" for l in r.stderr.splitlines() if "summary" in l or "rror" in l))
out = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
with open(os.path.join(a.outdir, 'expected.ndjson'), 'w') as fh:
    for m in out: fh.write(json.dumps(m, sort_keys=True) + '\n')
with open(os.path.join(a.outdir, 'actual.ndjson'), 'w') as fh:
    for m in out: fh.write(json.dumps(m, sort_keys=True) + '\n')
case = {
    "bot": a.module, "kind": "parser", "name": a.name,
    "destination_paths": ["_default"],
    "expected": [{"compare_raw": True, "index": i, "intelmq_assert_ok": True, "path": "_default"} for i in range(len(out))],
    "expected_counts": {"_default": len(out)}, "intelmq_output_counts": {"_default": len(out)},
    "files": [], "parameters": params, "passed": True,
    "raw_files": [{"file": "raw" + ext, "fixture": a.fixture}],
    "test": "made with IntelMQ 3.5.0 through /work/shared/peer/intelmq-run.py (not an IntelMQ test)",
    "notes": a.note, "volatile_fields": ["time.observation"],
}
json.dump(case, open(os.path.join(a.outdir, 'case.json'), 'w'), indent=2, sort_keys=True)
print(len(out), 'events')
