complete -c imq-output -l intelmq -d 'Run the output equivalent to this IntelMQ module (with --params)' -r
complete -c imq-output -l params -d 'IntelMQ parameters: a JSON object, or YAML (runtime.yaml\'s `parameters:`, or a bot\'s whole entry)' -r
complete -c imq-output -s p -l param -d 'Set one parameter (KEY=VALUE, VALUE as JSON if it parses; repeatable)' -r
complete -c imq-output -l bot-id -d 'The IntelMQ bot id (names state where IntelMQ does, e.g. Redis keys)' -r
complete -c imq-output -s t -l target -d 'Where to write (a file; default stdout)' -r
complete -c imq-output -s f -l fields -d 'Columns for csv, comma-separated' -r
complete -c imq-output -s i -l input -d 'Read input from URI: a file, \'-\' (stdin), or a queue (as for -o); repeatable; default stdin' -r
complete -c imq-output -s o -l output -d 'Write output to URI instead of stdout: a file (appended to), \'-\', or a queue (redis://[:PASSWORD@]HOST[:PORT]/DB/QUEUE, amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE)' -r
complete -c imq-output -l path -d 'Send the messages of destination path NAME to URI (repeatable; several URIs for one NAME each get a copy; _default adds destinations to -o)' -r
complete -c imq-output -l stats -d 'Write the counters to FILE every few seconds and at exit (atomically)' -r -F
complete -c imq-output -l stats-format -d 'Format of --stats: prom (Prometheus text, for node_exporter) or json' -r -f -a "prom\t'Prometheus text exposition format'
json\t'One JSON object'"
complete -c imq-output -l harmonization -d 'The data format: a site\'s own IntelMQ harmonization.conf (added fields, other lengths) instead of IntelMQ 3.5.0\'s built-in one' -r -F
complete -c imq-output -l dump -d 'Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]' -r -F
complete -c imq-output -l max-line-bytes -d 'Reject input lines longer than N bytes' -r
complete -c imq-output -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-output -l init -d 'sql/postgres: create IntelMQ\'s events table when it is missing'
complete -c imq-output -l no-header -d 'csv: no header row'
complete -c imq-output -l list -d 'List the outputs and exit'
complete -c imq-output -l strict -d 'Stop at the first rejected line (it is dumped; exit status 1)'
complete -c imq-output -l line-buffered -d 'Flush output after every message (default only when stdout is a terminal)'
complete -c imq-output -l from-dump -d 'Input is a dump file (after fixing it): process the original lines it holds'
complete -c imq-output -s q -l quiet -d 'No messages on stderr, not even for rejected lines'
complete -c imq-output -l verbose -d 'Print counters on stderr at exit (twice: more detail). No short flag: `-v` is grep\'s --invert in imq-filter, and means the same nowhere else'
complete -c imq-output -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-output -s V -l version -d 'Print version'
