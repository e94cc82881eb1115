complete -c imq-enrich -l intelmq -d 'Run the expert equivalent to this IntelMQ module (with --params)' -r
complete -c imq-enrich -l params -d 'IntelMQ parameters: a JSON object, or YAML (runtime.yaml\'s `parameters:`, or a bot\'s whole entry)' -r
complete -c imq-enrich -s i -l input -d 'Read input from URI: a file, \'-\' (stdin), or a queue (as for -o); repeatable; default stdin' -r
complete -c imq-enrich -s o -l output -d 'Write output to URI instead of stdout: a file (appended to), \'-\', or a queue (redis://[:PASSWORD@]HOST[:PORT]/DB/QUEUE, amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE)' -r
complete -c imq-enrich -l path -d 'Send the messages of destination path NAME to URI (repeatable; several URIs for one NAME each get a copy; _default adds destinations to -o)' -r
complete -c imq-enrich -l stats -d 'Write the counters to FILE every few seconds and at exit (atomically)' -r -F
complete -c imq-enrich -l stats-format -d 'Format of --stats: prom (Prometheus text, for node_exporter) or json' -r -f -a "prom\t'Prometheus text exposition format'
json\t'One JSON object'"
complete -c imq-enrich -l harmonization -d 'The data format: a site\'s own IntelMQ harmonization.conf (added fields, other lengths) instead of IntelMQ 3.5.0\'s built-in one' -r -F
complete -c imq-enrich -l dump -d 'Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]' -r -F
complete -c imq-enrich -l max-line-bytes -d 'Reject input lines longer than N bytes' -r
complete -c imq-enrich -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-enrich -l list -d 'List the experts and exit'
complete -c imq-enrich -l strict -d 'Stop at the first rejected line (it is dumped; exit status 1)'
complete -c imq-enrich -l line-buffered -d 'Flush output after every message (default only when stdout is a terminal)'
complete -c imq-enrich -l from-dump -d 'Input is a dump file (after fixing it): process the original lines it holds'
complete -c imq-enrich -s q -l quiet -d 'No messages on stderr, not even for rejected lines'
complete -c imq-enrich -l verbose -d 'Print counters on stderr at exit (twice: more detail). No short flag: `-v` is grep\'s --invert in imq-filter, and means the same nowhere else'
complete -c imq-enrich -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-enrich -s V -l version -d 'Print version'
