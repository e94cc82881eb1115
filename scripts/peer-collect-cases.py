#!/usr/bin/env python3
"""Make tests/data/collect_intelmq.json: what IntelMQ 3.5.0's own http and file
collectors report for a few parameter sets (run through scripts/peer-collect.py),
with the server URL and the directory written as {URL} and {DIR}.

    /opt/imq/intelmq-venv/bin/python scripts/peer-collect-cases.py
"""
import base64, gzip, io, json, os, subprocess, sys, tarfile, tempfile, threading, zipfile
import http.server, functools

HERE = os.path.dirname(os.path.abspath(__file__))

def zip_bytes(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            z.writestr(n, d)
    return b.getvalue()

def tgz_bytes(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w:gz') as t:
        for n, d in members:
            i = tarfile.TarInfo(n); i.size = len(d); t.addfile(i, io.BytesIO(d))
    return b.getvalue()

CSV = b'ip,name\n1.2.3.4,a\xc3\xa4b\n5.6.7.8,foo\n9.9.9.9,barbarbarbarbar\n'
FILES = {
    'feed.txt': b'# comment\n192.0.2.1\n192.0.2.2\n',
    'two.zip': zip_bytes([('first.csv', b'x,y\n1,2\n'), ('second.txt', b'hello\n')]),
    'pack.tar.gz': tgz_bytes([('one.csv', b'1\n'), ('two.csv', b'2\n')]),
    'data.json.gz': gzip.compress(b'[{"a": 1}]'),
    'a.csv': CSV,
    'b.txt': b'not collected\n',
}
HTTP = 'intelmq.bots.collectors.http.collector_http'
FILE = 'intelmq.bots.collectors.file.collector_file'
CASES = [
    ('http plain', HTTP, {'http_url': '{URL}/feed.txt', 'name': 'Plain', 'provider': 'Test'}),
    ('http zip, extract_files false', HTTP, {'http_url': '{URL}/two.zip', 'name': 'Zip'}),
    ('http tar.gz, members chosen', HTTP, {'http_url': '{URL}/pack.tar.gz', 'extract_files': ['two.csv'], 'name': 'Tar'}),
    ('http gzip, extract_files true', HTTP, {'http_url': '{URL}/data.json.gz', 'extract_files': True, 'name': 'Gz', 'accuracy': 50}),
    ('file chunked, header repeated', FILE, {'path': '{DIR}', 'postfix': '.csv', 'chunk_size': 40, 'name': 'Files', 'provider': 'P'}),
    ('file chunked, no header', FILE, {'path': '{DIR}', 'postfix': '.csv', 'chunk_size': 20, 'chunk_replicate_header': False, 'name': 'Files'}),
    ('file whole', FILE, {'path': '{DIR}', 'postfix': '.csv', 'name': 'Whole', 'code': 'w1'}),
]

def main():
    d = tempfile.mkdtemp()
    for n, b in FILES.items():
        open(os.path.join(d, n), 'wb').write(b)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = 'http://127.0.0.1:%d' % srv.server_address[1]
    out = []
    for name, module, params in CASES:
        p = json.loads(json.dumps(params).replace('{URL}', url).replace('{DIR}', d))
        pf = os.path.join(d, 'params.json')
        json.dump(p, open(pf, 'w'))
        r = subprocess.run([sys.executable, os.path.join(HERE, 'peer-collect.py'), module, pf],
                           capture_output=True, text=True, check=True)
        reports = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]
        for rep in reports:
            rep.pop('time.observation', None)
        text = json.dumps(reports).replace(url, '{URL}').replace(d, '{DIR}')
        out.append({'name': name, 'module': module, 'params': params, 'reports': json.loads(text)})
    os.remove(os.path.join(d, 'params.json'))
    data = {'source': 'IntelMQ 3.5.0 (scripts/peer-collect-cases.py)',
            'files': {n: base64.b64encode(b).decode() for n, b in FILES.items()},
            'cases': out}
    dest = os.path.join(HERE, '..', 'tests', 'data', 'collect_intelmq.json')
    with open(dest, 'w') as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print('wrote', dest, len(out), 'cases')

main()
