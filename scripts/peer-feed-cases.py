#!/usr/bin/env python3
"""Make conformance cases for feed parsers that the shared corpus lacks.

Each case is one report (taken from IntelMQ's own test module or built from a
fixture file of its test folder, or a variation of it for a bad record) run
through IntelMQ 3.5.0 itself with the peer runner; what IntelMQ emits is the
expected output. The layout is the shared corpus's (see
/work/shared/corpus/README.md), written under tests/data/corpus/parser-feeds/.

    /work/.venv-intelmq/bin/python scripts/peer-feed-cases.py [NAME...]
    /work/.venv-intelmq/bin/python scripts/peer-feed-cases.py raw NAME CASE MODULE FILE \
        [--param K=V]... [--field K=V]... [--note TEXT]...

Run it with the IntelMQ virtualenv's Python: it imports IntelMQ's test modules
to read their example reports. PEER_PYTHONPATH adds module folders for the
runner (the fireeye parser needs xmltodict).
"""

import base64
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get('CASES_OUT') or os.path.join(HERE, '..', 'tests', 'data', 'corpus', 'parser-feeds')
RUNNER = '/work/shared/peer/intelmq-run.py'
TESTS = 'intelmq/tests/bots/parsers'
OBSERVATION = '2024-01-01T00:00:00+00:00'


def tests_dir():
    import intelmq.tests
    return os.path.join(os.path.dirname(intelmq.tests.__file__), 'bots', 'parsers')


def fixture(rel):
    with open(os.path.join(tests_dir(), rel), 'rb') as handle:
        return handle.read()


def test_module(name):
    import importlib
    return importlib.import_module('intelmq.tests.bots.parsers.' + name)


def b64(data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    return base64.b64encode(data).decode('ascii')


def report(raw, **fields):
    rep = {'__type': 'Report', 'feed.name': 'Test Feed', 'time.observation': OBSERVATION}
    rep.update(fields)
    rep['raw'] = b64(raw)
    return rep


def run_peer(module, reports, params):
    env = dict(os.environ)
    extra = os.environ.get('PEER_PYTHONPATH')
    if extra:
        env['PYTHONPATH'] = extra
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, 'in.ndjson')
        with open(inp, 'w') as handle:
            for rep in reports:
                handle.write(json.dumps(rep) + '\n')
        cmd = [sys.executable, RUNNER, module, '--input', inp, '--quiet',
               '--errors', os.path.join(tmp, 'errors.ndjson')]
        for key, value in params.items():
            cmd += ['--param', f'{key}={json.dumps(value)}']
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        with open(os.path.join(tmp, 'errors.ndjson')) as handle:
            errors = [json.loads(line) for line in handle if line.strip()]
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()], errors


def write_case(name, case, module, reports, params=None, test=None, notes=(), fixtures=None,
               ext='json', peer_module=None):
    params = params or {}
    events, errors = run_peer(peer_module or module, reports, params)
    folder = os.path.join(OUT, name, case)
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    raw_files = []
    for i, rep in enumerate(reports):
        fname = f'raw.{ext}' if len(reports) == 1 else f'raw.{i + 1}.{ext}'
        with open(os.path.join(folder, fname), 'wb') as handle:
            handle.write(base64.b64decode(rep['raw']))
        raw_files.append({'file': fname, 'fixture': (fixtures or [None] * len(reports))[i]})
    with open(os.path.join(folder, 'input.ndjson'), 'w') as handle:
        for rep in reports:
            handle.write(json.dumps(rep, sort_keys=True) + '\n')
    for fname in ('expected.ndjson', 'actual.ndjson'):
        with open(os.path.join(folder, fname), 'w') as handle:
            for ev in events:
                handle.write(json.dumps(ev, sort_keys=True) + '\n')
    kinds = sorted({e['kind'] for e in errors})
    all_notes = list(notes) + [
        'expected output made by running IntelMQ 3.5.0 itself over input.ndjson '
        '(scripts/peer-feed-cases.py, /work/shared/peer/intelmq-run.py)']
    if errors:
        all_notes.append(f'IntelMQ reported {len(errors)} failure(s) ({", ".join(kinds)}) '
                         'for this input: bad records are not emitted')
    meta = {
        'bot': module,
        'destination_paths': ['_default'],
        'expected': [{'compare_raw': True, 'index': i, 'intelmq_assert_ok': True,
                      'path': '_default'} for i in range(len(events))],
        'expected_counts': {'_default': len(events)},
        'files': [],
        'intelmq_output_counts': {'_default': len(events)},
        'kind': 'parser',
        'name': name,
        'notes': all_notes,
        'parameters': params,
        'passed': True,
        'raw_files': raw_files,
        'test': test or 'peer-run',
        'volatile_fields': ['time.observation'],
    }
    with open(os.path.join(folder, 'case.json'), 'w') as handle:
        json.dump(meta, handle, indent=2, sort_keys=True)
        handle.write('\n')
    print(f'{name}/{case}: {len(events)} events, {len(errors)} failures', file=sys.stderr)


def from_test(mod, attr):
    rep = dict(getattr(test_module(mod), attr))
    rep.setdefault('__type', 'Report')
    return rep


def alienvault_otx():
    m = 'intelmq.bots.parsers.alienvault.parser_otx'
    t = f'{TESTS}/alienvault/test_parser_otx.py::TestAlienVaultOTXParserBot::test_event'
    write_case('alienvault_otx', 'test_event', m, [from_test('alienvault.test_parser_otx', 'EXAMPLE_REPORT')],
               test=t, fixtures=[f'{TESTS}/alienvault/test_parser_otx.data'])
    pulses = json.loads(fixture('alienvault/test_parser_otx.data'))
    first = dict(pulses[0])
    del first['author_name']
    indicators = [
        {'indicator': 'example.com', 'type': 'domain', 'created': '2020-01-01T00:00:00.123456'},
        {'indicator': 'example.net/path', 'type': 'hostname', 'created': '2020-01-01T00:00:00.123456'},
        {'indicator': '/only/a/path', 'type': 'URI', 'created': '2020-01-01T00:00:00.123456'},
        {'indicator': '192.0.2.0/24', 'type': 'CIDR', 'created': '2020-01-01T00:00:00'},
        {'indicator': 'CVE-2020-0001', 'type': 'CVE', 'created': '2020-01-01T00:00:00.123456'},
        {'indicator': 'foo@example.com', 'type': 'email', 'created': '2020-01-01T00:00:00.123456',
         'pulse_key': 'own-key'},
        {'indicator': 'C:\\x', 'type': 'FilePath', 'created': '2020-01-01T00:00:00.123456'},
    ]
    second = {'id': 'p2', 'author_name': 'A', 'name': 'P2', 'description': 'd',
              'modified': '2020-01-02T00:00:00', 'TLP': 'green', 'adversary': None,
              'targeted_countries': [], 'industries': ['x'], 'indicators': indicators}
    bad_uri = {'id': 'p3', 'author_name': 'A', 'name': 'P3', 'description': 'd',
               'indicators': [{'indicator': 'http://', 'type': 'URL', 'created': '2020-01-01T00:00:00.123'}]}
    write_case('alienvault_otx', 'bad_records', m,
               [report(json.dumps([first, second, bad_uri, pulses[1]]))],
               notes=['a pulse without author_name and a URL indicator that is not a URL fail; '
                      'the other pulses parse'])


def anubisnetworks():
    m = 'intelmq.bots.parsers.anubisnetworks.parser'
    mod = 'anubisnetworks.test_parser'
    cls = f'{TESTS}/anubisnetworks/test_parser.py::TestAnubisNetworksParserBot'
    for case, attr, fix, params in [
            ('test_event', 'EXAMPLE_REPORT', 'example_report.json', {}),
            ('test_with_fqdn', 'EXAMPLE_REPORT2', 'example_report2.json', {}),
            ('test_third', 'EXAMPLE_REPORT3', 'example_report3.json',
             {'use_malware_familiy_as_classification_identifier': False}),
            ('test_dns', 'EXAMPLE_REPORT_DNS', 'example_report_dns.json', {}),
            ('test_empty', 'EMPTY_REPORT', None, {}),
            ('test_ignore', 'EXAMPLE_REPORT_IGNORE', 'example_report_ignore.json', {}),
            ('test_example_comm_http_host_not_dst_ip', 'EXAMPLE_REPORT_COMM_HTTP_HOST_NOT_DST_IP_RAW',
             'example_comm_http_host_not_dst_ip.json', {})]:
        write_case('anubisnetworks', case, m, [from_test(mod, attr)], params=params,
                   test=f'{cls}::{case}', fixtures=[fix and f'{TESTS}/anubisnetworks/{fix}'])
    base = dict(from_test(mod, 'EXAMPLE_REPORT3'))
    write_case('anubisnetworks', 'test_third.identifier', m, [base],
               notes=['test_third with the default use_malware_familiy_as_classification_identifier'],
               fixtures=[f'{TESTS}/anubisnetworks/example_report3.json'])
    good = json.loads(fixture('anubisnetworks/example_report2.json'))
    bad = dict(good)
    bad['unknown_field'] = 1
    write_case('anubisnetworks', 'bad_records', m,
               [report(json.dumps(bad), **{'feed.url': 'https://example.com/s?key=x'}),
                report('{"_ts": 1}'),
                report(json.dumps(good), **{'feed.url': 'https://example.com/s?key=x'})],
               notes=['an unknown field and a report without feed.url fail; the third parses'])

    url = {'feed.url': 'https://example.com/s?key=x'}
    variant = {'_ts': '1586252714', 'src': {'ip': '192.0.2.1', 'port': 1},
               'dst': {'ip': '192.0.2.2', 'port': 80}, 'pattern_verified': True,
               'malw': {'family': 'Fam', 'variant': 'Var', 'severity': 1},
               'env': {'server_name': '192.0.2.2', 'cookies': 'a=b', 'path_info': '/x'},
               'comm': {'proto': 'http', 'categories': ['x'], 'http_referer': 'r',
                        'http': {'host': '192.0.2.2', 'method': 'GET'}},
               'metadata': {'a': 1, 'b': [1, 2]},
               'tracking': {'id': 'i', 'last_ip': '192.0.2.3'},
               '_geo_tracking_last_ip': {'ip': '192.0.2.3', 'netmask': 24, 'country_code': 'AT',
                                         'city': 'Wien', 'asn': 1, 'path': 'tracking.last_ip'}}
    wrong_path = dict(variant, _geo_tracking_last_ip=dict(variant['_geo_tracking_last_ip'], path='x'))
    bad_meta = dict(variant, metadata={'Bad Key': 1})
    write_case('anubisnetworks', 'variants', m,
               [report(json.dumps(variant), **url), report(json.dumps(wrong_path), **url),
                report(json.dumps(bad_meta), **url)],
               params={'use_malware_familiy_as_classification_identifier': False},
               notes=['family differing from the variant, an invalid server name, an HTTP host that is the '
                      'destination address; a wrong geolocation path and an invalid extra key fail'])


def hibp_callback():
    m = 'intelmq.bots.parsers.hibp.parser_callback'
    real = json.loads(fixture('hibp/breach_real.json'))
    both = dict(real, Paste={'Id': 'x'})
    no_date = dict(real, Breach={'Name': 'x'}, Email='', DomainEmails=['b@example.com', 'a@example.com',
                                                                          'b@example.com', ''])
    write_case('hibp_callback', 'bad_records', m,
               [report(json.dumps(both)), report('{}'), report(json.dumps(no_date)),
                report(json.dumps(dict(real, DomainEmails='x@example.com')))],
               notes=['a breach and a paste at once fail, as do DomainEmails that are no list; '
                      'an empty object is skipped; a breach without AddedDate has no time; '
                      'addresses are sorted and unique'])


def n6_stomp():
    m = 'intelmq.bots.parsers.n6.parser_n6stomp'
    mod = 'n6.test_parser'
    cls = f'{TESTS}/n6/test_parser.py::TestN6StompParserBot'
    for case, attr in [('test_event', 'EXAMPLE_REPORT'), ('test_blacklist', 'BLACKLIST_REPORT'),
                       ('test_no_address', 'NO_ADDRESS_REPORT'), ('test_futher_ios', 'FURTHER_IOCS_REPORT')]:
        write_case('n6_stomp', case, m, [from_test(mod, attr)], test=f'{cls}::{case}')
    two = {"category": "bots", "confidence": "high", "proto": "udp", "time": "2015-11-17T12:17:27Z",
           "type": "event", "id": "x", "md5": "d41d8cd98f00b204e9800998ecf8427e",
           "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "dip": "192.0.2.9",
           "fqdn": "unknown", "url": "http://example.com/x",
           "address": [{"ip": "192.0.2.1", "asn": 1, "cc": "PL", "rdns": "a.example.com"},
                       {"ip": "192.0.2.2"}]}
    write_case('n6_stomp', 'two_addresses', m, [report(json.dumps(two))],
               notes=['every address makes an event, and the event without address follows'])
    write_case('n6_stomp', 'bad_records', m,
               [report('not json'), report('{"type": "event", "category": "no-such"}'),
                report('TEST MESSAGE'), report(json.dumps(two))],
               notes=['invalid JSON and an unknown category fail; a test message is ignored'])


def cznic():
    m = 'intelmq.bots.parsers.cznic.parser_haas'
    raw = test_module('cznic.test_parser_haas').INPUT
    write_case('cznic_haas', 'test_event', m, [{'__type': 'Report', 'raw': b64(raw)}],
               test=f'{TESTS}/cznic/test_parser_haas.py::TestCZNICHaasParserBot::test_event')
    records = json.loads(raw)
    bad = dict(records[0])
    del bad['ip']
    odd = dict(records[1])
    odd['time'] = 'Mon, 29 Jun 2020 02:00:01 +0200'
    write_case('cznic_haas', 'bad_records', m,
               [report(json.dumps([bad, odd, {}, records[2]]))],
               notes=['a record without ip fails; an empty object is skipped'])
    m = 'intelmq.bots.parsers.cznic.parser_proki'
    write_case('cznic_proki', 'test_event', m, [from_test('cznic.test_parser_proki', 'EXAMPLE_REPORT')],
               test=f'{TESTS}/cznic/test_parser_proki.py::TestCZNICProkiParserBot::test_event',
               fixtures=[f'{TESTS}/cznic/example_proki.json'])
    data = json.loads(fixture('cznic/example_proki.json'))['data']
    bad = dict(data[0])
    bad['source.ip'] = 'not an ip'
    write_case('cznic_proki', 'bad_records', m,
               [report(json.dumps([bad] + data[1:] + [{'no.such.field': 1}, data[0]]))],
               notes=['a list without the data wrapper; an invalid value and an unknown field fail'])


def fireeye():
    m = 'intelmq.bots.parsers.fireeye.parser'
    write_case('fireeye', 'test_events', m, [from_test('fireeye.test_parser_fireeye', 'EXAMPLE_REPORT')],
               test=f'{TESTS}/fireeye/test_parser_fireeye.py::TestFireeyeParserBot::test_events',
               fixtures=[f'{TESTS}/fireeye/event.txt'], ext='txt')
    text = fixture('fireeye/event.txt').decode()
    ip = text.replace('shop.domain1.com</Content>\n                </IndicatorItem>\n                <IndicatorItem condition="is" id="5834947856271820606"',
                      '192.0.2.7</Content>\n                </IndicatorItem>\n                <IndicatorItem condition="is" id="5834947856271820606"')
    write_case('fireeye', 'host_ip', m, [report(ip)], ext='txt',
               notes=['the HTTP host is an IP address'])
    no_net = text.replace('search="Network/', 'search="Nw/').replace('document="Network"', 'document="Nw"')
    single = text.split('<IndicatorItem condition="is" id="4917082633666119950"')[0] + '</Indicator></criteria></OpenIOC>'
    write_case('fireeye', 'bad_records', m, [report(no_net), report(single), report('<OpenIOC/>')], ext='txt',
               notes=['no network indicator: only the hash event; a single indicator item fails; '
                      'no criteria: no events'])
    md5 = ('            <IndicatorItem condition="is" id="1082865067269638543" negate="false" '
           'preserve-case="false">\n'
           '                <Context document="FileItem" search="FileItem/Md5sum" type="mir"/>\n'
           '                <Content type="md5">21232f297a57a5a743894a0e4a801fc3</Content>\n'
           '            </IndicatorItem>\n')
    assert md5 in text
    host = '>shop.domain1.com</Content>\n                </IndicatorItem>\n                <IndicatorItem'
    variants = {
        'md5_after_sha256': (text.replace(md5, '').replace(
            '</Indicator>\n    </criteria>', md5 + '</Indicator>\n    </criteria>'),
            'the MD5 indicator after the SHA-256 one: IntelMQ fails after the first event'),
        'host_network': (text.replace(host, host.replace('shop.domain1.com', '192.0.2.0/24'), 1),
                         'an HTTP host that is a network: accepted as IPv4 network, then invalid as IP'),
        'host_with_mask': (text.replace(host, host.replace('shop.domain1.com', '192.0.2.1/24'), 1),
                           'an HTTP host with host bits set: not an IPv4 network, left out'),
        'port_not_a_number': (text.replace('<Content type="int">80</Content>',
                                           '<Content type="int">eighty</Content>'),
                              'a port that is not a number fails after the first event'),
        'no_alert_id': (text.replace('rel="alert_id"', 'rel="alert"'),
                        'no alert id: fails after the first event'),
        'crlf_entities': (text.replace('/wp-content/n/', '/wp&amp;content/n/').replace('\n', '\r\n'),
                          'CRLF line ends and an entity in the raw text'),
    }
    for case, (variant, note) in variants.items():
        write_case('fireeye', case, m, [report(variant)], ext='txt', notes=[note])


def mcafee_atd():
    m = 'intelmq.bots.parsers.mcafee.parser_atd'
    t = f'{TESTS}/mcafee/test_parser_atd.py::TestATDParserBot::test_event'
    rep = from_test('mcafee.test_parser_atd', 'EXAMPLE_REPORT')
    write_case('mcafee_atd', 'test_event', m, [rep], params={'verdict_severity': 4}, test=t,
               fixtures=[f'{TESTS}/mcafee/atdreport.txt'], ext='txt')
    write_case('mcafee_atd', 'severity_above', m, [rep], params={'verdict_severity': 6},
               fixtures=[f'{TESTS}/mcafee/atdreport.txt'], ext='txt',
               notes=['verdict below the configured severity: nothing'])
    write_case('mcafee_atd', 'bad_records', m,
               [report('{"Summary": {}}'), report('{"Summary": {"Subject": {"Name": "x", "md5": "", '
                                                   '"sha-1": "", "sha-256": ""}, "Verdict": {"Severity": "5"}, '
                                                   '"Ips": [{"Ipv4": "192.0.2.1", "Port": "443"}], '
                                                   '"Urls": "no list"}}')], ext='txt',
               notes=['a report without subject fails; a string where the URLs list should be fails after '
                      'the events before it were sent'])


def blueliv_crimeserver():
    # Gone from IntelMQ 3.5: the 3.1.0 module (`pip download intelmq==3.1.0 --no-deps`)
    # copied as blueliv_crimeserver.py into a folder of PEER_PYTHONPATH runs on 3.5.
    m = 'intelmq.bots.parsers.blueliv.parser_crimeserver'
    peer = 'blueliv_crimeserver'
    old = os.environ.get('BLUELIV_TESTS', '/tmp/pb-intelmq302/intelmq/tests/bots/parsers/blueliv')
    with open(os.path.join(old, 'test_parser_crimeserver.data'), 'rb') as handle:
        data = handle.read()
    write_case('blueliv_crimeserver', 'test_event', m,
               [report(data, **{'feed.name': 'Blueliv Crimeserver'})], peer_module=peer,
               test='intelmq/tests/bots/parsers/blueliv/test_parser_crimeserver.py'
                    '::TestBluelivCrimeserverParserBot::test_event (IntelMQ 3.1.0)',
               fixtures=['intelmq/tests/bots/parsers/blueliv/test_parser_crimeserver.data (IntelMQ 3.1.0)'],
               notes=['the parser is not part of IntelMQ 3.5; its 3.1.0 module was run on IntelMQ 3.5.0'])
    items = json.loads(data)
    write_case('blueliv_crimeserver', 'bad_records', m,
               [report(json.dumps([items[0], dict(items[1], type='NOPE'), items[2]])),
                report(json.dumps([items[2], {'ip': '192.0.2.1'}])),
                report(json.dumps([dict(items[1], url='not a url')]))],
               peer_module=peer,
               notes=['the parser is not part of IntelMQ 3.5; its 3.1.0 module was run on IntelMQ 3.5.0',
                      'an unknown type, an item without extra fields and an invalid URL fail the '
                      'rest of the report; events before stay sent'])


CASES = {
    'blueliv_crimeserver': blueliv_crimeserver,
    'hibp_callback': hibp_callback,
    'alienvault_otx': alienvault_otx,
    'anubisnetworks': anubisnetworks,
    'n6_stomp': n6_stomp,
    'cznic': cznic,
    'fireeye': fireeye,
    'mcafee_atd': mcafee_atd,
}

def one_raw_file(argv):
    """`raw NAME CASE MODULE RAWFILE [--param K=V]... [--field K=V]... [--note N]...`:
    one case from one feed file, for parsers whose cases are made by hand."""
    import argparse
    ap = argparse.ArgumentParser(prog='peer-feed-cases.py raw')
    for arg in ('name', 'case', 'module', 'rawfile'):
        ap.add_argument(arg)
    for opt in ('--param', '--field', '--note'):
        ap.add_argument(opt, action='append', default=[])
    ap.add_argument('--fixture', default=None)
    a = ap.parse_args(argv)

    def pairs(items, as_json):
        out = {}
        for item in items:
            key, value = item.split('=', 1)
            if as_json:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            out[key] = value
        return out
    with open(a.rawfile, 'rb') as handle:
        data = handle.read()
    ext = os.path.splitext(a.rawfile)[1].lstrip('.') or 'txt'
    write_case(a.name, a.case, a.module, [report(data, **pairs(a.field, False))],
               params=pairs(a.param, True), notes=a.note, fixtures=[a.fixture], ext=ext)


if __name__ == '__main__':
    if sys.argv[1:2] == ['raw']:
        one_raw_file(sys.argv[2:])
    else:
        for name in sys.argv[1:] or CASES:
            CASES[name]()
