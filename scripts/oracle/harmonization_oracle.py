#!/usr/bin/env python3
"""Record IntelMQ 3.5.0's harmonization behaviour as JSON, to test imq against.

Run with the IntelMQ venv's Python:

    /work/.venv-intelmq/bin/python scripts/oracle/harmonization_oracle.py \
        > tests/data/harmonization/oracle.json

For every harmonization type and a table of tricky inputs (all JSON values, since
that is all a message line can carry) it records `is_valid(v)`,
`is_valid(v, sanitize=True)` and `sanitize(v)`; an exception is recorded as
"error". For messages it records what `MessageFactory.from_dict` (the
`Message.__init__` path every bot uses on input) and `Message.add` make of a
table of dicts / calls: the resulting items in order, or the exception's class.
tests/harmonization_oracle.rs checks every row against imq.
"""
import json
import math
import warnings

import intelmq.lib.exceptions as exceptions
import intelmq.lib.harmonization as h
import intelmq.lib.message as message

warnings.simplefilter("ignore")

HARM = json.load(open(h.__file__.replace("lib/harmonization.py", "etc/harmonization.conf")))


def enc(v):
    """A Python result as JSON; values JSON cannot hold are tagged."""
    if isinstance(v, float) and not math.isfinite(v):
        return {"__nonjson__": repr(v)}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {k: enc(x) for k, x in v.items()}
    return {"__nonjson__": repr(v)}


def call(f, *a, **kw):
    try:
        return enc(f(*a, **kw))
    except Exception as e:  # noqa: BLE001 - every exception is a recorded outcome
        return {"__error__": type(e).__name__}


GENERAL = [
    None, "", " ", "-", "N/A", True, False, 0, 1, -1, 2, 1.5, -1.5, 0.0, 1.0, 1e20, 1e-7,
    9223372036854775807, 18446744073709551615, -9223372036854775808,
    "0", "1", "-1", "+5", " 1337 ", "1337\n", "1_000", "1__0", "_1", "1_", "1.5", "1.0",
    "1e3", " 3.31e+3 ", "-31.e-2", ".5", "5.", "inf", "-inf", "nan", "infinity", "1e999",
    "0x10", "\u0661\u0662\u0663", "abc", "ABC", "aBc", " foo ", "foo\n", "\tfoo",
    "\x1cfoo\x1f", "\u00a0foo\u3000", "\u00c4\u00d6\u00dc", "\u00df", "\u0130", "\u01c5",
    "\ufb01", "\u03a3\u0391\u03a3", "a\u00e9", "\u00e9", "with space", "tab\there",
    [], [1, "a"], {}, {"a": 1}, {"b": [1, 2], "a": None}, {"\u00e9": "\u00fc"},
]

SPECIFIC = {
    "Boolean": ["true", "True", " TRUE ", "false", "FALSE", "yes", "no", "t"],
    "Integer": [1.9, -1.9, "+1", "-0", "00012", " 12 ", "1 2", "99999999999999999999",
                "\x1c1", "1\x1f", "\x851", "\xa01\u3000", "\u20281", "\x0b1", "\uff11\uff12",
                "\U0001d7d91", "1\u00b2", "\u2460", "-\u0661", "\u0661_\u0662"],
    "Float": ["+137.23", "1_000.5", "1.5e", "e5", "0x1p3", "1,5", "+.5", "-.5e-3",
              "\u0661.\u0665", "1e308", "-1e308", "4.9e-324", "\uff11\uff0e5", "\x1c1.5",
              "\u00a01.5", "\u0661e\u0662", "1e5_0", "1_.5", "1._5"],
    "Accuracy": [100, 101, 50.5, "50", "100.0", "101", "-0.5", 100.0, 99.99, "true"],
    "ASN": [123, 1234567, "123", "AS123", "as123", "As123", "aS123", "AS 123", " AS123",
            "AS123 ", "ASN123", "AS", "as0", "AS-1", 4294967295, 4294967296, "4294967295",
            "AS4294967296", "a", "\u00e91", 1.9, "1.5", "AS1.5", "AS1_0"],
    "IPAddress": [
        "192.0.2.1", " 192.0.2.1\r\n", "192.0.2.1/32", "192.0.2.1/24", "192.0.2.0/24",
        "192.0.2.1/255.255.255.255", "192.0.2.1/0.0.0.0", "192.0.2.1/33", "0.0.0.0",
        "0.0.0.0/32", "::", "::1", "2001:DB8::1", "2001:db8::1/128", "2001:db8::/32",
        "fe80::1%eth0", "fe80::1c41:b16d:ff5e:689d%bnep0", "fe80::1%eth0/128",
        "::ffff:192.0.2.1", "::ffff:c000:0201", "1.2.3", "01.2.3.4", "1.2.3.04",
        "256.1.1.1", "[::1]", "1.2.3.4 ", "localhost", "2130706433", 2130706433,
        "02130706433", 4294967295, 4294967296, "4294967296", "2001:0db8:0000::0001",
        "::1/128", "1.2.3.4/032", "1.2.3.4/", "1.2.3.4//32", "%eth0", "1.2.3.4%x",
        "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::2::3",
        "2001:db8::1.2.3.4", "0:0:0:0:0:0:0:0",
        "1.2.3.4\x00", "\u0661.\u0662.\u0663.\u0664", "0", "00", "-1", "+1", "01",
        "0.0.0.1", "255.255.255.255", "1.2.3.4/31", "::ffff:0:0/96", "::/128", "::1%",
        "::1%%a", "fe80::1%\u00e4", "FE80::1%ETH0", "::ffff:1.2.3.4/128",
        "340282366920938463463374607431768211455", "4294967297",
    ],
    "IPNetwork": [
        "192.0.2.1", "::1", "192.0.2.0/24", "2001:DB8::/32", "2001:500:88:200::8",
        "192.0.2.1/37", "192.0.2.1/0", "0.0.0.0/0", "2001:DB8::/130", " 192.0.2.0/24\r\n",
        "127.0.0.1/32", "10.0.0.1/8", "10.0.0.0/8", "10.0.0.0/255.0.0.0",
        "10.0.0.0/0.255.255.255", "10.0.0.0/255.0.255.0", " 192.0.2.0/-4\r\n",
        "2001:DB8Z::1/7", "2001:db8::1/64", "::/0", "192.0.2.1/032", "192.0.2.0/24 ",
        "fe80::/10%eth0", "fe80::%eth0/10", "1.2.3.4/+8", "1.2.3.4/ 8", 2130706433,
    ],
    "FQDN": [
        "example.com", "ex-am.ple.example", "Example.COM", "example.com.", ".example.com",
        "..", ".", "...", "example..com", "ex ample.com", "sub_sub2.example.net",
        "m\u00fcnchen.de", "M\u00dcNCHEN.de", "xn--mnchen-3ya.de", "\u00f61.at", "xn--1-0ga.at",
        "stra\u00dfe.de", "10.0.0.1", "10.0.0.1:8080", "http://example.com",
        "example.com/path", "a" * 64 + ".com", "a" * 63 + ".com", "\u4f8b\u3048.\u30c6\u30b9\u30c8",
        "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com", "example\u3002com", "xn--.com",
        "-foo.com", "foo-.com", "foo?bar", "foo#bar", "*.example.com", "\u2603.net",
        "a\u200bb.com", "EXAMPLE.com.", "::1", "n/a", "\u00e4" * 60 + ".com",
        "{subid_3}&aff_sub4={subid_4}&aff_sub5={subid_5}&DOM=trackingmyli",
        "ex%41mple.com", "exa@mple.com", "a.b", "x", "1.2.3.4.5", "xn--zca.de",
        "\u0130stanbul.tr", "\u0660\u0661.com", "foo\u0301.com",
        "\U0001f600.com", "\u03a3\u0391\u03a3.gr", "\u03c3\u03b1\u03c2.gr", "\u216b.com",
        "\u2460.com", "a\u00adb.com", "\u01c5.com", "\ufb00.com", "example\uff0ecom",
        "example\uff61com", "\u0646\u0627\u0645\u0647.com", "a\u0646.com", "\u200d.com",
        "xn--nxasmq6b.com", "XN--MNCHEN-3YA.DE", "m\u00fcnchen.DE", "\u00e4.\u00c4.com",
        "\u3002.com", "a\u3002", "\u0649\u0661.com", "\u05d0\u05d1.com", "\u05d0a.com",
        "\u0378.com", "\u08a1.com", "a\u2028b.com", "a\u00a0b.com", "\u1100\u1161.kr",
        "\u00bd.com", "\u2100.com", "\u0041\u030a.com", "\u212b.com",
    ],
    "URL": [
        "http://example.com", "http://example.com/foo", "hxxp://example.com",
        "hxxps://example.com/foo", "HXXP://example.com", "hxxp://hxxp://x", "file:///etc/hosts",
        "file://localhost/etc/hosts", "file:/etc/hosts", "file:etc", "FILE:///x", "file://",
        "file:", "example.com", "//example.com", " http://example.com", "http://example.com ",
        "http://", "http:///path", "http://[::1]/", "http://[::1", "http://[foo]/",
        "http://ex ample.com", "ftp://x", "mailto:a@b.com", "https://example.com/ \r\n",
        "/exampl\n", "http://exa\tmple.com", "ht\ttp://x.com", "\x01http://x.com",
        "javascript:alert(1)", "http://user:pw@host:80/p?q#f", "hxxp://", "http://\u00fc.com",
        "http://example.com:99999", "http://example.com:abc", "1http://x", "://x", "http:x",
        "http:\\\\x", "\\\\share\\x", "http://]x[", "http://[::1]x/",
        "http://[::1]:80", "http://[v1.x]/", "http://a@[::1]/", "HTTP://EXAMPLE.COM",
        "http://example.com#frag", "http:/example.com", "  hxxp://x", "hxxp://x\n",
        "file:///", "ftp:/x", "http://\u4f8b\u3048.jp", "http://exa mple.com/ ",
        "http://\x00x", "http://x/\x00", "hxxps://x", "hXXp://x", "http://x:80:90/",
        "http://[::1]]/", "http://[[::1]/", "http://[::1]/[x]", "svn+ssh:x", "s3://bucket/k",
        "http://%5B::1%5D/", "data:text/plain,x", "http://x?y=//z", "?//x", "#//x",
        "http://x\u3002y/", "http://\uff21/", "http:////x", "//", "///x",
    ],
    "Registry": ["RIPE", "ripe", "RIPE-NCC", "ripe-ncc", "RIPENCC", " ripe ", "ARIN",
                 "afrinic", "apnic", "lacnic", "IANA", "ripe ncc", "afri nic"],
    "TLP": ["WHITE", "white", "TLP:RED", "tlp:red", "TLP RED", "tlp amber ", "TLP:AMBER",
            "YELLOW", "tlp:yellow", "CLEAR", "TLP:CLEAR", "TLP:  GREEN", "TLPGREEN",
            "TLP::GREEN", "green", "AMBER+STRICT", " tlp: red", "TLP:\tRED", "TLP:\x1cRED",
            "TLP:\u3000RED", "tlp:\u00a0amber"],
    "ClassificationTaxonomy": [
        "abusive-content", "abusive content", "ABUSIVE CONTENT", " other ", "foobar",
        "information gathering", "intrusion attempts", "malicious code", "vulnerable",
        "test", "Malicious-Code",
    ],
    "ClassificationType": [
        "infected-system", "Infected-system", "infected system ", "Botnet Drone",
        "botnet drone", "botnet-drone", "malware", "Unauthorised-information-access",
        "unauthorised-information-access", "ids alert", "c&c", "C&C", "c2server",
        "malware configuration", "vulnerable client", "vulnerable service", "leak",
        "ransomware", "unknown", "dga domain", "unauthorized-login", "unauthorized-command",
        "compromised", "defacement", "backdoor", "dropzone", "foobar", " DDoS ",
    ],
    "Base64": ["bG9yZW0gaXBzdW0=", "lorem ipsum", "bG9yZW0gaXBzdW0", "bG9y ZW0=", "!!!!",
               "YQ==", "YQ", "YQ==YQ==", "YQ=", "====", "Y\nQ==", "YQ==\n", "_-8=",
               "YWJj", "YWJj!", "\u00e4", "YQ===", "Y=Q="],
    "JSON": ['{"foo": "bar"}', '"foo"', "{", '["foo", ]', ' {"a": 1} ', '{"a":1}', "[]",
             "true", "NaN", "Infinity", '{"a": NaN}', "x", "null", '"\\ud800"', " 1 "],
    "JSONDict": ['{"foo": "bar"}', "{}", '"example"', ' {"a": 1} ', '{"a":1}', "[1]",
                 '{"b": 1, "a": {"d": 1, "c": 2}}', "x", '{"a": NaN}', {"b": 1, "a": 2}],
    "String": ["foo\r\n", "  x  "],
    "LowercaseString": ["fooBar", "foobar", "Stra\u00dfe", "\u00c9T\u00c9"],
    "UppercaseString": ["FOOBAR", "fooBar", "stra\u00dfe", "\u0149"],
    "DateTime": [
        "2015-08-31T08:16:10+00:00", "2015-08-31T08:16:10.1234+00:00",
        "2015-08-31T08:16:10+05:00", "2015-08-31T36:16:10+00:00", "0018005550199",
        "2016-07-19 06:40:01.617719+02:00 UTC", "2016-07-19 13:08:38 UTC",
        "2015-8-31T8:16:10+00:00", "2015-08-31T08:16:10.123456+00:00",
        "2015-08-31T08:16:10.1234567+00:00", "2015-08-31T08:16:10Z", "2015-08-31",
        "2015-08-31 08:16:10", 1441008970, "1441008970", "31st December 2020 12:00",
    ],
}

TYPES = [t for t in h.__all__ if t != "GenericType"]


def frozen_today(year, month, day):
    """Make dateutil's default date (today, for missing parts) a fixed one."""
    import datetime as real
    import types

    import dateutil.parser._parser as dp

    class Fixed(real.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(year, month, day, 12, 0, 0, tzinfo=tz)

    shim = types.SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    shim.datetime = Fixed
    dp.datetime = shim


def type_row(name, v):
    cls = getattr(h, name)
    return {
        "type": name,
        "value": v,
        "is_valid": call(cls.is_valid, v),
        "is_valid_sanitize": call(cls.is_valid, v, sanitize=True),
        "sanitize": call(cls.sanitize, v),
    }


def type_rows():
    rows = []
    for name in TYPES:
        values = GENERAL + [v for v in SPECIFIC.get(name, []) if v not in GENERAL]
        for v in values:
            row = type_row(name, v)
            if name == "DateTime":
                # dateutil fills missing parts from today's date: such rows cannot
                # be compared on another day, so they are marked.
                frozen_today(2001, 2, 3)
                other = type_row(name, v)
                frozen_today(2024, 6, 15)
                row = type_row(name, v)
                row["date_dependent"] = other != row
            rows.append(row)
    return rows


MESSAGES = [
    ("Event", {"source.ip": "192.0.2.1"}),
    ("Event", {"source.ip": "192.0.2.1/32"}),
    ("Event", {"source.ip": 2130706433}),
    ("Event", {"source.ip": "192.0.2.0/24"}),
    ("Event", {"source.asn": "AS123"}),
    ("Event", {"source.asn": "foo"}),
    ("Event", {"source.asn": 0}),
    ("Event", {"source.port": "80"}),
    ("Event", {"source.port": 80.0}),
    ("Event", {"source.port": 70000}),
    ("Event", {"source.port": True}),
    ("Event", {"feed.name": ""}),
    ("Event", {"feed.name": "-"}),
    ("Event", {"feed.name": "N/A"}),
    ("Event", {"feed.name": None}),
    ("Event", {"feed.name": " x "}),
    ("Event", {"feed.name": 123}),
    ("Event", {"feed.name": "x\n"}),
    ("Event", {"feed.name": "\r\n"}),
    ("Event", {"feed.name": [1, 2]}),
    ("Event", {"feed.name": {"a": 1}}),
    ("Event", {"malware.name": "abc\n"}),
    ("Event", {"malware.name": "ABC"}),
    ("Event", {"malware.name": "abc\u00e9"}),
    ("Event", {"protocol.transport": "TCP"}),
    ("Event", {"protocol.transport": "tcp\n"}),
    ("Event", {"protocol.transport": "unknown"}),
    ("Event", {"protocol.application": "A\n\u20ac80\""}),
    ("Event", {"source.geolocation.cc": "de"}),
    ("Event", {"source.geolocation.cc": "DE\n"}),
    ("Event", {"source.geolocation.cc": "DEU"}),
    ("Event", {"event_hash": "das f78"}),
    ("Event", {"event_hash": "abc"}),
    ("Event", {"severity": "HIGH"}),
    ("Event", {"severity": "high\n"}),
    ("Event", {"raw": "lorem ipsum"}),
    ("Event", {"raw": "bG9yZW0gaXBzdW0="}),
    ("Event", {"raw": ""}),
    ("Event", {"classification.type": "botnet drone"}),
    ("Event", {"classification.taxonomy": "Malicious Code"}),
    ("Event", {"feed.accuracy": "100"}),
    ("Event", {"feed.accuracy": True}),
    ("Event", {"feed.accuracy": 101}),
    ("Event", {"source.fqdn": "Example.COM."}),
    ("Event", {"source.url": "hxxp://x.com"}),
    ("Event", {"source.network": "10.0.0.1/8"}),
    ("Event", {"rtir_id": "5"}),
    ("Event", {"tlp": "tlp:amber"}),
    ("Event", {"source.registry": "ripe-ncc"}),
    ("Event", {"source.geolocation.latitude": "48.2"}),
    ("Event", {"source.geolocation.latitude": 48}),
    ("Event", {"output": {"a": 1}}),
    ("Event", {"output": '"x"'}),
    ("Event", {"output": "x"}),
    ("Event", {"output": 5}),
    ("Event", {"extra": {"b": 1, "a": ""}}),
    ("Event", {"extra": '{"b": 1, "a": null}'}),
    ("Event", {"extra": "foo"}),
    ("Event", {"extra": {}}),
    ("Event", {"extra": []}),
    ("Event", {"extra": [1]}),
    ("Event", {"extra": 5}),
    ("Event", {"extra": {"a": {"x": 1}, "b": [], "c": {}}}),
    ("Event", {"extra.a": None}),
    ("Event", {"extra.a": ""}),
    ("Event", {"extra.a": []}),
    ("Event", {"extra.a": {"b": 1}}),
    ("Event", {"extra.a": " x "}),
    ("Event", {"extra.a-b": 1}),
    ("Event", {"extra.": 1}),
    ("Event", {"extra.A": 1}),
    ("Event", {"extra.a..b": 1}),
    ("Event", {"extra.a.b.c": 1}),
    ("Event", {"extra.a\n": 1}),
    ("Event", {"comment.x": 1}),
    ("Event", {"extra": {"a": 1}, "extra.b": 2}),
    ("Event", {"extra.b": 2, "extra": {"a": 1}}),
    ("Event", {"invalid": 1}),
    ("Event", {"Source.ip": "192.0.2.1"}),
    ("Event", {"invalid": None}),
    ("Event", {"source": "x"}),
    ("Event", {"source.ip.x": "192.0.2.1"}),
    ("Event", {"time.source": "2015-01-01T00:00:00+00:00"}),
    ("Event", {"source.reverse_dns": "Example.Com"}),
    ("Event", {"destination.local_hostname": "HOST"}),
    ("Event", {"misp.attribute_uuid": "0123abcd-0123-abcd-0123-0123456789ab"}),
    ("Event", {"misp.attribute_uuid": "0123ABCD-0123-abcd-0123-0123456789ab"}),
    ("Event", {"source.ip": "192.0.2.1", "destination.ip": "::1", "feed.name": "x",
               "extra.z": 1, "extra.a": 2}),
    ("Report", {"feed.name": "x", "raw": "bG9yZW0="}),
    ("Report", {"source.ip": "192.0.2.1"}),
    ("Report", {"extra.a": 1}),
    ("Report", {"extra": {"a": 1}}),
    ("Report", {"rtir_id": 1, "feed.accuracy": "50"}),
]

# (pre-existing fields, key, value, sanitize, overwrite)
ADDS = [
    ({}, "feed.name", "x", True, None),
    ({"feed.name": "x"}, "feed.name", "y", True, None),
    ({"feed.name": "x"}, "feed.name", "y", True, True),
    ({"feed.name": "x"}, "feed.name", "y", True, False),
    ({"feed.name": "x"}, "feed.name", None, True, True),
    ({"feed.name": "x"}, "feed.name", "", True, True),
    ({"feed.name": "x"}, "feed.name", None, True, None),
    ({"feed.name": "x"}, "feed.name", "-", True, False),
    ({}, "invalid", None, True, None),
    ({}, "invalid", 1, True, None),
    ({}, "extra.foo-", 1, True, None),
    ({}, "source.ip", "192.0.2.1/32", False, None),
    ({}, "source.ip", "192.0.2.1/32", True, None),
    ({}, "raw", "lorem ipsum", True, None),
    ({}, "raw", "bG9yZW0gaXBzdW0=", True, None),
    ({}, "raw", "bG9yZW0gaXBzdW0=", False, None),
    ({}, "raw", "lorem ipsum", False, None),
    ({}, "source.registry", "afrinic", False, None),
    ({}, "feed.url", "\r\n", True, None),
    ({}, "feed.url", "/exampl\n", True, None),
    ({}, "feed.accuracy", -1, True, None),
    ({"extra.a": 1}, "extra", {"b": 2}, True, True),
    ({"extra.a": 1}, "extra", {"b": 2}, True, None),
    ({"extra.a": 1}, "extra", {"b": 2}, True, False),
    ({"extra.a": 1}, "extra.a", 2, True, None),
    ({"extra.a": 1}, "extra", None, True, True),
    ({}, "extra", {"a": {}}, True, None),
    ({}, "extra", {"foo": ""}, True, None),
    ({}, "extra", '{"foo": "bar"}', True, None),
    ({}, "extra.x", {"a": 1}, False, None),
    ({}, "source.port", 123456, True, None),
    ({}, "malware.hash.md5", "$md5$mSwgIswdjlTY0YxV7HBVm0", True, None),
    ({}, "malware.hash.md5", "tu234t2\nt$#%$", True, None),
    ({}, "malware.name", "tu234t2\nt$#%$", True, None),
    ({}, "malware.name", "abc\n", False, None),
    ({}, "classification.type", "foobar", True, None),
]


def items(m):
    return [[k, enc(v)] for k, v in dict.items(m)]


def message_rows():
    rows = []
    for cls, d in MESSAGES:
        try:
            m = message.MessageFactory.from_dict(dict(d), harmonization=HARM, default_type=cls)
            out = {"items": items(m)}
        except Exception as e:  # noqa: BLE001
            out = {"__error__": type(e).__name__}
        rows.append({"class": cls, "input": d, "result": out})
    return rows


def add_rows():
    rows = []
    for pre, key, value, sanitize, overwrite in ADDS:
        ev = message.Event(harmonization=HARM)
        for k, v in pre.items():
            ev.add(k, v)
        try:
            ret = ev.add(key, value, sanitize=sanitize, overwrite=overwrite)
            out = {"return": ret, "items": items(ev)}
        except exceptions.IntelMQException as e:
            out = {"__error__": type(e).__name__}
        except Exception as e:  # noqa: BLE001
            out = {"__error__": type(e).__name__}
        rows.append({"pre": pre, "key": key, "value": value, "sanitize": sanitize,
                     "overwrite": overwrite, "result": out})
    return rows


# Values tried for every field of the data format (plus the type's own table).
FIELD_VALUES = [
    None, "", "-", "N/A", " ", True, False, 0, 1, -1, 1.5, 80, 65536, 4294967296, "80",
    " x ", "x\n", "X", "abc", "ABC", "AS64496", "192.0.2.1", "192.0.2.1/32", "192.0.2.0/24",
    "2001:DB8::1", "Example.COM.", "hxxp://example.com/a", "http://example.com",
    "TLP:AMBER", "ripe-ncc", "botnet drone", "malicious code", "bG9yZW0=", "lorem ipsum",
    '{"a": 1}', {"a": 1}, [1, 2], {}, [], "\u00e4\u00f6\u00fc", "de", "DEU", "tcp", "TCP",
    "high", "2015-01-01T00:00:00+00:00",
]


def field_rows():
    rows = []
    for cls in ("event", "report"):
        for key, spec in HARM[cls].items():
            values = FIELD_VALUES + [v for v in SPECIFIC.get(spec["type"], [])[:12]
                                     if v not in FIELD_VALUES]
            for v in values:
                if spec["type"] == "DateTime":
                    continue  # dateutil; see tests/harmonization_datetime.rs
                try:
                    m = message.MessageFactory.from_dict({key: v}, harmonization=HARM,
                                                         default_type=cls.capitalize())
                    out = {"items": items(m)}
                except Exception as e:  # noqa: BLE001
                    out = {"__error__": type(e).__name__}
                rows.append({"class": cls.capitalize(), "input": {key: v}, "result": out})
    return rows


HASHES = [
    {"feed.name": "Example", "feed.url": "https://example.com/", "raw": "bG9yZW0gaXBzdW0=",
     "time.observation": "2015-01-01T13:37:00+00:00"},
    {"comment": "\u00e4\u00a0\u200b\x85\U000e0001 \U0001f600 '\"\\\t\n\x7f"},
    {"comment": "it's"}, {"comment": "\"both' quotes\""},
    {"source.geolocation.latitude": 48.2082, "source.geolocation.longitude": 1e16,
     "feed.accuracy": 100.0, "extra.small": 1e-05, "extra.neg": -0.0, "extra.big": 123456789.125},
    {"source.port": 80, "source.asn": 64496, "extra.flag": True, "extra.none": False},
    {"extra.list": [1, 2.5, "x", None, True, {"k": "v"}], "extra.dict": {"b": 1, "a": "\u00e4"}},
    {"extra.z": 1, "extra.a": 2, "source.ip": "192.0.2.1", "classification.type": "test"},
]


def hash_rows():
    rows = []
    for d in HASHES:
        m = message.MessageFactory.from_dict(dict(d), harmonization=HARM, default_type="Event")
        rows.append({"input": d, "hash": m.hash(),
                     "hash_blacklist_feed_name": m.hash(filter_keys={"feed.name"}),
                     "hash_whitelist_extra": m.hash(filter_type="whitelist",
                                                    filter_keys={"extra.z", "extra.list"})})
    return rows


if __name__ == "__main__":
    doc = {
        "_comment": "Generated by scripts/oracle/harmonization_oracle.py from IntelMQ 3.5.0. Do not edit.",
        "types": type_rows(),
        "messages": message_rows() + field_rows(),
        "adds": add_rows(),
        "hashes": hash_rows(),
    }
    # One row per line: small, and diffs show which rows changed.
    out = ["{"]
    keys = list(doc)
    for i, key in enumerate(keys):
        value = doc[key]
        sep = "," if i + 1 < len(keys) else ""
        if isinstance(value, list):
            out.append(f"{json.dumps(key)}: [")
            out.extend(json.dumps(r, ensure_ascii=False, allow_nan=False) + ("," if j + 1 < len(value) else "")
                       for j, r in enumerate(value))
            out.append("]" + sep)
        else:
            out.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{sep}")
    out.append("}")
    print("\n".join(out))
