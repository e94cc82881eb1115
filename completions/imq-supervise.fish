# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_imq_supervise_global_optspecs
    string join \n generate= h/help V/version
end

function __fish_imq_supervise_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_imq_supervise_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_imq_supervise_using_subcommand
    set -l cmd (__fish_imq_supervise_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -s V -l version -d 'Print version'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "check" -d 'Check the pipeline file, every stage\'s command line and connections'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "run" -d 'Run the pipeline in the foreground until SIGTERM (SIGHUP reloads)'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "units" -d 'Write systemd units for the pipeline into DIR and print how to enable them'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "serve" -d 'Run the pipeline and serve the REST API, /metrics and the status page'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "import" -d 'Write the pipeline file equivalent to an IntelMQ runtime.yaml (and name what cannot be carried over); exit 1 when something could not'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "status" -d 'Show each stage\'s state, counters, queue and dump; exit 0 only if all run'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "queues" -d 'List the queues between stages and what waits in them (or clear one)'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "dump" -d 'List, show, recover or delete dumped messages (imq\'s and IntelMQ\'s dumps)'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "log" -d 'Print the end of a stage\'s log (its stderr, time-stamped)'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand check" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand check" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand run" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand run" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand units" -l user -d 'Run the services as this user' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand units" -l fifo-dir -d 'Directory of the stage FIFOs [default: /run/imq/<pipeline>]' -r -F
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand units" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand units" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand serve" -l listen -d 'Address to listen on (loopback unless --allow-remote)' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand serve" -l tokens -d 'Bearer tokens, one per line: TOKEN [ro|rw]' -r -F
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand serve" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand serve" -l allow-remote -d 'Allow a non-loopback --listen address'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand serve" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand import" -s o -l out -d 'The pipeline file to write (parameter files go to OUT.params/ beside it)' -r -F
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand import" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand import" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand status" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand status" -l json -d 'Print the status as JSON'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand status" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -l clear -d 'Remove what waits in STAGE\'s broker queue (not what a worker holds in flight); prints how many messages went' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -l json -d 'Print as JSON'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -f -a "list" -d 'Every dump in the state directory and how many entries it holds'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -f -a "show" -d 'Print entries: id, time, error and the message (truncated unless --full)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -f -a "recover" -d 'Send entries back to a stage\'s input, then remove them from the dump'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -f -a "delete" -d 'Remove entries (all: the dump file)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and not __fish_seen_subcommand_from list show recover delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from list" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from show" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from show" -l json -d 'The whole records as JSON lines'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from show" -l full -d 'Do not truncate messages'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from recover" -l to -d 'The stage to send them to [default: the dump\'s own stage]' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from recover" -l to-file -d 'Append them to FILE instead (a stage that reads a file, or to look at)' -r -F
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from recover" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from recover" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from delete" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every dump in the state directory and how many entries it holds'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print entries: id, time, error and the message (truncated unless --full)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from help" -f -a "recover" -d 'Send entries back to a stage\'s input, then remove them from the dump'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Remove entries (all: the dump file)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand dump; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand log" -s n -l lines -d 'Number of lines' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand log" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand log" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "check" -d 'Check the pipeline file, every stage\'s command line and connections'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "run" -d 'Run the pipeline in the foreground until SIGTERM (SIGHUP reloads)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "units" -d 'Write systemd units for the pipeline into DIR and print how to enable them'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "serve" -d 'Run the pipeline and serve the REST API, /metrics and the status page'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "import" -d 'Write the pipeline file equivalent to an IntelMQ runtime.yaml (and name what cannot be carried over); exit 1 when something could not'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "status" -d 'Show each stage\'s state, counters, queue and dump; exit 0 only if all run'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "queues" -d 'List the queues between stages and what waits in them (or clear one)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "dump" -d 'List, show, recover or delete dumped messages (imq\'s and IntelMQ\'s dumps)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "log" -d 'Print the end of a stage\'s log (its stderr, time-stamped)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run units serve import status queues dump log help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and __fish_seen_subcommand_from dump" -f -a "list" -d 'Every dump in the state directory and how many entries it holds'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and __fish_seen_subcommand_from dump" -f -a "show" -d 'Print entries: id, time, error and the message (truncated unless --full)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and __fish_seen_subcommand_from dump" -f -a "recover" -d 'Send entries back to a stage\'s input, then remove them from the dump'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and __fish_seen_subcommand_from dump" -f -a "delete" -d 'Remove entries (all: the dump file)'
