complete -c imq-filter -l sieve -d 'Run the rules of an IntelMQ sieve file' -r
complete -c imq-filter -l reject -d 'Write dropped events to FILE (their original lines) instead of discarding them' -r
complete -c imq-filter -l paths -d 'The named paths that are configured (IntelMQ destination_queues), comma-separated: the filter expert sends to filter_match, filter_no_match and action_other only when they are configured or routed with --path' -r
complete -c imq-filter -l intelmq -d 'Run the IntelMQ module (sieve or filter expert) with --params' -r
complete -c imq-filter -l params -d 'IntelMQ parameters: a JSON object, or YAML (runtime.yaml\'s `parameters:`, or a bot\'s whole entry)' -r
complete -c imq-filter -s i -l input -d 'Read input from URI: a file, \'-\' (stdin), or a queue (as for -o); repeatable; default stdin' -r
complete -c imq-filter -s o -l output -d 'Write output to URI instead of stdout: a file (appended to), \'-\', or a queue (redis://[:PASSWORD@]HOST[:PORT]/DB/QUEUE, amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE)' -r
complete -c imq-filter -l path -d 'Send the messages of destination path NAME to URI (repeatable; several URIs for one NAME each get a copy; _default adds destinations to -o)' -r
complete -c imq-filter -l stats -d 'Write the counters to FILE every few seconds and at exit (atomically)' -r -F
complete -c imq-filter -l stats-format -d 'Format of --stats: prom (Prometheus text, for node_exporter) or json' -r -f -a "prom\t'Prometheus text exposition format'
json\t'One JSON object'"
complete -c imq-filter -l harmonization -d 'The data format: a site\'s own IntelMQ harmonization.conf (added fields, other lengths) instead of IntelMQ 3.5.0\'s built-in one' -r -F
complete -c imq-filter -l dump -d 'Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]' -r -F
complete -c imq-filter -l max-line-bytes -d 'Reject input lines longer than N bytes' -r
complete -c imq-filter -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-filter -l list -d 'List the fields an expression can name (IntelMQ\'s harmonization: name, type, length) and the operators, then exit'
complete -c imq-filter -s v -l invert -d 'Keep the events the expression is false for (like grep -v)'
complete -c imq-filter -l strict -d 'Stop at the first rejected line (it is dumped; exit status 1)'
complete -c imq-filter -l line-buffered -d 'Flush output after every message (default only when stdout is a terminal)'
complete -c imq-filter -l from-dump -d 'Input is a dump file (after fixing it): process the original lines it holds'
complete -c imq-filter -s q -l quiet -d 'No messages on stderr, not even for rejected lines'
complete -c imq-filter -l verbose -d 'Print counters on stderr at exit (twice: more detail). No short flag: `-v` is grep\'s --invert in imq-filter, and means the same nowhere else'
complete -c imq-filter -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-filter -s V -l version -d 'Print version'
