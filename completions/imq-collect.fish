complete -c imq-collect -l list-feeds -d 'List the known feeds (those whose name, provider or description holds WORD), then exit' -r
complete -c imq-collect -l feed -d 'Fetch a known feed (see --list-feeds): its collector, URL, parameters and feed.* fields from the feed registry; repeatable' -r
complete -c imq-collect -l intelmq -d 'Run the collector equivalent to this IntelMQ module (with --params)' -r
complete -c imq-collect -l params -d 'IntelMQ parameters: a JSON object, or YAML (runtime.yaml\'s `parameters:`, or a bot\'s whole entry)' -r
complete -c imq-collect -s p -l param -d 'A parameter by its IntelMQ name (the value is JSON when it parses); repeatable' -r
complete -c imq-collect -l feed-name -d 'feed.name of the reports' -r
complete -c imq-collect -l feed-provider -d 'feed.provider of the reports' -r
complete -c imq-collect -l feed-url -d 'feed.url of the reports (default: the URL fetched, or the file\'s file://localhost/ URL)' -r
complete -c imq-collect -l feed-accuracy -d 'feed.accuracy of the reports (0-100, default 100)' -r
complete -c imq-collect -l feed-code -d 'feed.code of the reports' -r
complete -c imq-collect -s X -l method -d 'http: request method (http_method)' -r
complete -c imq-collect -l data -d 'http: request body (http_body)' -r
complete -c imq-collect -s H -l header -d 'http: a request header (http_header); repeatable' -r
complete -c imq-collect -l user -d 'http: basic authentication (http_username, http_password)' -r
complete -c imq-collect -l bearer -d 'http: send \'Authorization: Bearer TOKEN\'' -r
complete -c imq-collect -l proxy -d 'http: proxy for http and https URLs (http_proxy, https_proxy)' -r
complete -c imq-collect -l timeout -d 'http: seconds to wait for the connection and each read (http_timeout_sec, default 30)' -r
complete -c imq-collect -l tries -d 'http: attempts on connection errors, 5xx and 429 (http_timeout_max_tries, default 3)' -r
complete -c imq-collect -l ca-cert -d 'http: verify TLS certificates against this CA bundle only (http_verify_cert: FILE)' -r
complete -c imq-collect -l client-cert -d 'http: client certificate, PEM, with its key unless --client-key (ssl_client_cert)' -r
complete -c imq-collect -l client-key -d 'http: key of the client certificate, PEM (ssl_client_cert_key)' -r
complete -c imq-collect -l url-formatting -d 'http: fill {time[FORMAT]} in the URL with the local time, optionally plus a time delta such as \'{"days": -1}\' (http_url_formatting)' -r
complete -c imq-collect -l extract -d 'http: unpack zip, tar, tar.gz and gzip bodies; MEMBERS (comma-separated) restricts the archive members (extract_files)' -r
complete -c imq-collect -l chunk-size -d 'Split each input into reports of about N bytes at line ends (chunk_size; default: inputs over 8 MiB are split)' -r
complete -c imq-collect -l postfix -d 'file: in a directory, only files whose names end in this (postfix)' -r
complete -c imq-collect -l move-to -d 'file: move each file into DIR once its reports were committed (move_to)' -r
complete -c imq-collect -l state-dir -d 'Where collectors keep what they remember between runs (ETag/Last-Modified of HTTP feeds) [default: $IMQ_STATE_DIR, else systemd\'s $STATE_DIRECTORY; none: no conditional GET]' -r -F
complete -c imq-collect -l every -d 'Run again every DURATION (e.g. 30s, 15m, 1h, 1d) until stopped, instead of once' -r
complete -c imq-collect -s i -l input -d 'Read input from URI: a file, \'-\' (stdin), or a queue (as for -o); repeatable; default stdin' -r
complete -c imq-collect -s o -l output -d 'Write output to URI instead of stdout: a file (appended to), \'-\', or a queue (redis://[:PASSWORD@]HOST[:PORT]/DB/QUEUE, amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE)' -r
complete -c imq-collect -l path -d 'Send the messages of destination path NAME to URI (repeatable; several URIs for one NAME each get a copy; _default adds destinations to -o)' -r
complete -c imq-collect -l stats -d 'Write the counters to FILE every few seconds and at exit (atomically)' -r -F
complete -c imq-collect -l stats-format -d 'Format of --stats: prom (Prometheus text, for node_exporter) or json' -r -f -a "prom\t'Prometheus text exposition format'
json\t'One JSON object'"
complete -c imq-collect -l harmonization -d 'The data format: a site\'s own IntelMQ harmonization.conf (added fields, other lengths) instead of IntelMQ 3.5.0\'s built-in one' -r -F
complete -c imq-collect -l dump -d 'Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]' -r -F
complete -c imq-collect -l max-line-bytes -d 'Reject input lines longer than N bytes' -r
complete -c imq-collect -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-collect -l list -d 'List the collectors and the parameters they take, then exit'
complete -c imq-collect -s k -l insecure -d 'http: do not verify TLS certificates (http_verify_cert: false)'
complete -c imq-collect -l no-replicate-header -d 'Do not repeat the first line in every chunk (chunk_replicate_header: false)'
complete -c imq-collect -l delete -d 'file: delete each file once its reports were committed (delete_file)'
complete -c imq-collect -l strict -d 'Stop at the first rejected line (it is dumped; exit status 1)'
complete -c imq-collect -l line-buffered -d 'Flush output after every message (default only when stdout is a terminal)'
complete -c imq-collect -l from-dump -d 'Input is a dump file (after fixing it): process the original lines it holds'
complete -c imq-collect -s q -l quiet -d 'No messages on stderr, not even for rejected lines'
complete -c imq-collect -l verbose -d 'Print counters on stderr at exit (twice: more detail). No short flag: `-v` is grep\'s --invert in imq-filter, and means the same nowhere else'
complete -c imq-collect -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-collect -s V -l version -d 'Print version'
