#!/usr/bin/env python3
"""Regenerate data/feeds.json (imq's feed registry) from IntelMQ's etc/feeds.yaml.

Usage: /work/.venv-intelmq/bin/python scripts/feeds-from-intelmq.py FEEDS.yaml > data/feeds.json

Our format: {"feeds": [entry, ...]} sorted by name; an entry holds the facts of
feeds.yaml (provider, feed, description, documentation, public, revision, the
collector module and parameters, the parser module and parameters) plus our
slug `name`, the feed `url`, its `format`, and `corrections` saying what we
changed from upstream (stale URLs, module names, typos). Corrections and added
feeds live in CORRECTIONS / ADDED below, so that a new feeds.yaml can be merged.
"""
import json
import re
import sys

import yaml

# Module names feeds.yaml gets wrong (the module does not exist in 3.5.0).
MODULE_FIXES = {
    "intelmq.bots.parsers.generic.csv_parser": "intelmq.bots.parsers.generic.parser_csv",
}

FORMATS = {
    "generic.parser_csv": "csv",
    "json.parser": "json",
    "key_value.parser": "key-value",
    "html_table.parser": "html",
    "misp.parser": "json",
    "shadowserver.parser": "csv",
    "shadowserver.parser_json": "json",
}

# Per feed slug: fields replaced, and why.
CORRECTIONS = {
    "spamhaus-drop": (
        {"url": "https://www.spamhaus.org/drop/drop_v4.json", "format": "ndjson"},
        "Spamhaus publishes DROP as NDJSON (drop_v4.json) since 2024; drop.txt is legacy. "
        "EDROP was merged into DROP in April 2024 (no separate EDROP feed).",
    ),
    "spamhaus-dropv6": (
        {"url": "https://www.spamhaus.org/drop/drop_v6.json", "format": "ndjson"},
        "Spamhaus publishes DROPv6 as NDJSON (drop_v6.json) since 2024.",
    ),
    "spamhaus-asn-drop": (
        {"url": "https://www.spamhaus.org/drop/asndrop.json", "format": "ndjson"},
        "Spamhaus publishes ASN-DROP as NDJSON (asndrop.json) since 2024.",
    ),
    "university-of-toulouse-blacklist": (
        {"parameters": {"delimiter": ",", "columns": "source.fqdn",
                        "default_fields": {"classification.type": "{depends on a collection}"}}},
        "feeds.yaml gives delimiter 'false' (not a delimiter) and a placeholder for columns; "
        "the lists hold one domain per line. classification.type still depends on the collection.",
    ),
}

ADDED = [
    {
        "name": "abusech-threatfox",
        "provider": "Abuse.ch",
        "feed": "ThreatFox",
        "description": "ThreatFox IOCs (IP:port, domains, URLs) of malware, recent export as CSV.",
        "url": "https://threatfox.abuse.ch/export/csv/recent/",
        "format": "csv",
        "collector": {"module": "intelmq.bots.collectors.http.collector_http",
                      "parameters": {"http_url": "https://threatfox.abuse.ch/export/csv/recent/"}},
        "parser": "intelmq.bots.parsers.generic.parser_csv",
        "parameters": {
            "columns": ["time.source", "extra.ioc_id", "extra.ioc_value", "extra.ioc_type",
                        "extra.threat_type", "malware.name", "extra.malware_alias",
                        "extra.malware_printable", "extra.last_seen", "feed.accuracy",
                        "extra.reference", "extra.tags", "extra.anonymous", "extra.reporter"],
            "columns_required": [True] + [False] * 13,
            "type": "c2-server",
            "delimiter": ",",
            "skip_header": False,
        },
        "documentation": "https://threatfox.abuse.ch/export/",
        "public": True,
        "revision": "2025-01-01",
        "corrections": "Not in IntelMQ 3.5.0 feeds.yaml; added. The CSV export quotes every "
                       "field and has '#' comment lines (dropped by the generic CSV parser). "
                       "feed.accuracy holds ThreatFox' confidence level.",
    },
    {
        "name": "abusech-urlhaus-online",
        "provider": "Abuse.ch",
        "feed": "URLhaus online URLs",
        "description": "URLhaus: malware distribution URLs currently online (CSV).",
        "url": "https://urlhaus.abuse.ch/downloads/csv_online/",
        "format": "csv",
        "collector": {"module": "intelmq.bots.collectors.http.collector_http",
                      "parameters": {"http_url": "https://urlhaus.abuse.ch/downloads/csv_online/"}},
        "parser": "intelmq.bots.parsers.generic.parser_csv",
        "parameters": {
            "columns": ["extra.urlhaus.id", "time.source", "source.url", "status",
                        "extra.urlhaus.last_online", "classification.type|__IGNORE__",
                        "extra.urlhaus.tags", "event_description.url", "extra.urlhaus.reporter"],
            "default_url_protocol": "http://",
            "delimiter": ",",
            "type": "malware-distribution",
            "type_translation": {"malware_download": "malware-distribution"},
            "skip_header": False,
        },
        "documentation": "https://urlhaus.abuse.ch/api/#csv",
        "public": True,
        "revision": "2025-01-01",
        "corrections": "Not in IntelMQ 3.5.0 feeds.yaml (only the per TLD/country/ASN feeds); added.",
    },
]


def slug(*parts):
    s = "-".join(parts).lower().replace(".", "")
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def url_of(params):
    for k in ("http_url", "http_url_formatted", "url", "api_url", "feed_url", "file", "rsync_path"):
        v = (params or {}).get(k)
        if isinstance(v, str) and v:
            return v
    return None


def main():
    doc = yaml.safe_load(open(sys.argv[1]))
    out = []
    for provider, feeds in doc["providers"].items():
        for feed, f in feeds.items():
            bots = f.get("bots") or {}
            col = bots.get("collector") or {}
            par = bots.get("parser") or {}
            module = par.get("module")
            fixes = []
            if module in MODULE_FIXES:
                fixes.append(f"parser module {module} does not exist; {MODULE_FIXES[module]}")
                module = MODULE_FIXES[module]
            params = dict(par.get("parameters") or {})
            if "defaults_fields" in params:
                params["default_fields"] = params.pop("defaults_fields")
                fixes.append("parameter defaults_fields (typo) is default_fields")
            short = (module or "").replace("intelmq.bots.parsers.", "")
            e = {
                "name": slug(provider, feed),
                "provider": provider,
                "feed": feed,
                "description": " ".join(str(f.get("description") or "").split()),
                "url": url_of(col.get("parameters")),
                "format": FORMATS.get(short),
                "collector": {"module": col.get("module"), "parameters": col.get("parameters") or {}},
                "parser": module,
                "parameters": params,
                "documentation": f.get("documentation"),
                "public": f.get("public"),
                "revision": str(f.get("revision")) if f.get("revision") else None,
            }
            if f.get("additional_information"):
                e["additional_information"] = " ".join(str(f["additional_information"]).split())
            if e["name"] in CORRECTIONS:
                repl, why = CORRECTIONS[e["name"]]
                e.update(repl)
                if "url" in repl:
                    e["collector"]["parameters"] = dict(e["collector"]["parameters"], http_url=repl["url"])
                fixes.append(why)
            if fixes:
                e["corrections"] = " ".join(fixes)
            out.append(e)
    out.extend(ADDED)
    out.sort(key=lambda e: e["name"])
    json.dump({"source": "IntelMQ 3.5.0 intelmq/etc/feeds.yaml, with corrections",
               "feeds": out}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


main()
