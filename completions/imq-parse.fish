complete -c imq-parse -l intelmq -d 'Run the parser equivalent to this IntelMQ module (with --params)' -r
complete -c imq-parse -l params -d 'IntelMQ parameters: a JSON object, or YAML (runtime.yaml\'s `parameters:`, or a bot\'s whole entry)' -r
complete -c imq-parse -s p -l param -d 'Set one parameter (KEY=VALUE, VALUE as JSON if it parses; repeatable)' -r
complete -c imq-parse -l set -d 'Set a report field for raw input, e.g. --set feed.name="My feed" (repeatable)' -r
complete -c imq-parse -l feed -d 'Parse a known feed (see --list-feeds): its parser, parameters and feed.* fields' -r
complete -c imq-parse -l paths -d 'IntelMQ destination paths of the bot (comma-separated): with `_on_error`, the report of each failed record also goes to that path (besides the dump)' -r
complete -c imq-parse -l shadowserver-schema-update -d 'Download the Shadowserver report schema (default: Shadowserver\'s URL), check it and install it in the state directory (or at the `schema_file` parameter)' -r
complete -c imq-parse -l shadowserver-schema-import -d 'Check and install a Shadowserver report schema file downloaded otherwise' -r
complete -c imq-parse -l sha256 -d 'The schema\'s expected SHA-256 (with --shadowserver-schema-update/-import)' -r
complete -c imq-parse -s i -l input -d 'Read input from URI: a file, \'-\' (stdin), or a queue (as for -o); repeatable; default stdin' -r
complete -c imq-parse -s o -l output -d 'Write output to URI instead of stdout: a file (appended to), \'-\', or a queue (redis://[:PASSWORD@]HOST[:PORT]/DB/QUEUE, amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE)' -r
complete -c imq-parse -l path -d 'Send the messages of destination path NAME to URI (repeatable; several URIs for one NAME each get a copy; _default adds destinations to -o)' -r
complete -c imq-parse -l stats -d 'Write the counters to FILE every few seconds and at exit (atomically)' -r -F
complete -c imq-parse -l stats-format -d 'Format of --stats: prom (Prometheus text, for node_exporter) or json' -r -f -a "prom\t'Prometheus text exposition format'
json\t'One JSON object'"
complete -c imq-parse -l harmonization -d 'The data format: a site\'s own IntelMQ harmonization.conf (added fields, other lengths) instead of IntelMQ 3.5.0\'s built-in one' -r -F
complete -c imq-parse -l dump -d 'Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]' -r -F
complete -c imq-parse -l max-line-bytes -d 'Reject input lines longer than N bytes' -r
complete -c imq-parse -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-parse -l raw -d 'Treat input as raw feed data even if it looks like reports'
complete -c imq-parse -l list -d 'List the parsers and exit'
complete -c imq-parse -l list-feeds -d 'List the known feeds (the feed registry) and exit'
complete -c imq-parse -l strict -d 'Stop at the first rejected line (it is dumped; exit status 1)'
complete -c imq-parse -l line-buffered -d 'Flush output after every message (default only when stdout is a terminal)'
complete -c imq-parse -l from-dump -d 'Input is a dump file (after fixing it): process the original lines it holds'
complete -c imq-parse -s q -l quiet -d 'No messages on stderr, not even for rejected lines'
complete -c imq-parse -l verbose -d 'Print counters on stderr at exit (twice: more detail). No short flag: `-v` is grep\'s --invert in imq-filter, and means the same nowhere else'
complete -c imq-parse -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-parse -s V -l version -d 'Print version'
