#!/usr/bin/env python3
"""Run one IntelMQ 3.5.0 collector once (library mode) with a parameters file and
print the reports it sends, one JSON object per line (IntelMQ's wire format).

    /opt/imq/intelmq-venv/bin/python scripts/peer-collect.py MODULE params.json

Used to make the expected reports of tests/collect_intelmq.rs.
"""
import importlib
import json
import sys

from intelmq.lib.bot import BotLibSettings

module, params_file = sys.argv[1], sys.argv[2]
params = json.load(open(params_file))
bot_class = importlib.import_module(module).BOT
bot = bot_class('peer-collector', settings=BotLibSettings | params)
bot.process()
state = bot._Bot__destination_pipeline.state
for queue, messages in state.items():
    for m in messages:
        print(m if isinstance(m, str) else json.dumps(m))
