complete -c imq-filter -s k -l key -d 'Field to test (IntelMQ filter_key)' -r
complete -c imq-filter -l value -d 'Value the field must have (IntelMQ filter_value); without it, the field must exist' -r
complete -c imq-filter -s i -l input -d 'Read input from FILE (\'-\' is stdin; repeatable; default stdin)' -r
complete -c imq-filter -s o -l output -d 'Write output to FILE instead of stdout (appends)' -r
complete -c imq-filter -l dump -d 'Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]' -r -F
complete -c imq-filter -l max-line-bytes -d 'Reject input lines longer than N bytes' -r
complete -c imq-filter -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-filter -l regex -d 'Treat --value as a regular expression (IntelMQ filter_regex)'
complete -c imq-filter -l drop -d 'Drop matching events instead of keeping them (IntelMQ filter_action=drop)'
complete -c imq-filter -l strict -d 'Stop at the first rejected line (it is dumped; exit status 1)'
complete -c imq-filter -l line-buffered -d 'Flush output after every message (default only when stdout is a terminal)'
complete -c imq-filter -l from-dump -d 'Input is a dump file (after fixing it): process the original lines it holds'
complete -c imq-filter -s q -l quiet -d 'No messages on stderr, not even for rejected lines'
complete -c imq-filter -s v -l verbose -d 'Print counters on stderr at exit (-vv: more detail)'
complete -c imq-filter -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-filter -s V -l version -d 'Print version'
