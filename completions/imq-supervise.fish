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
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "status" -d 'Show each stage\'s state, counters, queue and dump; exit 0 only if all run'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "queues" -d 'List the queues between stages and what waits in them'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "log" -d 'Print the end of a stage\'s log (its stderr, time-stamped)'
complete -c imq-supervise -n "__fish_imq_supervise_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand check" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand check" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand run" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand run" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand status" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand status" -l json -d 'Print the status as JSON'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand status" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -l json -d 'Print as JSON'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand queues" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand log" -s n -l lines -d 'Number of lines' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand log" -l generate -d 'Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit' -r
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand log" -s h -l help -d 'Print help'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run status queues log help" -f -a "check" -d 'Check the pipeline file, every stage\'s command line and connections'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run status queues log help" -f -a "run" -d 'Run the pipeline in the foreground until SIGTERM (SIGHUP reloads)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run status queues log help" -f -a "status" -d 'Show each stage\'s state, counters, queue and dump; exit 0 only if all run'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run status queues log help" -f -a "queues" -d 'List the queues between stages and what waits in them'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run status queues log help" -f -a "log" -d 'Print the end of a stage\'s log (its stderr, time-stamped)'
complete -c imq-supervise -n "__fish_imq_supervise_using_subcommand help; and not __fish_seen_subcommand_from check run status queues log help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
