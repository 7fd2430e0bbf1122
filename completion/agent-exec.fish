# completion/agent-exec.fish - fish completion for agent-exec(1).
#
# Install it as ~/.config/fish/completions/agent-exec.fish (make install
# puts it in $PREFIX/share/fish/vendor_completions.d), or source it. It
# completes what completion/agent-exec.bash completes, with the same lists
# (tests/e2e/t_completion_shells.sh checks that):
#   - the commands, the two-word ones too (tag set, notify set,
#     notify redeliver), and the topics of help;
#   - each command's options (and the global ones), also as --opt=value;
#   - the values of options with a fixed set of values (--signal, --state,
#     --stream, --output-match-type, --output-stream, --source, --type...);
#   - file and directory names for options that take a path;
#   - job ids, read from "agent-exec list --all" on the --root given on the
#     command line (if any): start offers created jobs, write and kill
#     running ones, the others any; a failing list completes nothing;
#   - after run/create's COMMAND begins: that command's line, as fish
#     completes it on its own (program names, then its arguments).

# ---- what the command line looks like (cli.c; as in agent-exec.bash) ----

# the commands, each with what it does (a tab between)
set -g __agent_exec_commands \
    'run	Start COMMAND as a background job' \
    'create	Define a job without starting it' \
    'start	Start a created job' \
    'restart	Run a job again, same id' \
    'status	Print the state of a job' \
    "tail	Print the end of a job's stdout and stderr" \
    "write	Send bytes to a job's stdin" \
    'log	Page through a log by lines' \
    "events	Print every job's events as NDJSON" \
    'mcp	Serve the Model Context Protocol on stdin and stdout' \
    'wait	Block until jobs end' \
    "kill	Signal a job's process group" \
    'list	List jobs started in the current directory' \
    'tag	tag set: replace the tags of a job' \
    'notify	notify set, notify redeliver' \
    'gc	Delete finished jobs older than D' \
    "delete	Delete a job's directory" \
    'summary	Count the jobs by state and by queue' \
    'schema	Print the JSON Schema of every answer and record' \
    'install-skills	Install the agent-exec skill (SKILL.md)' \
    'help	Show help for a command' \
    'ps	List the running jobs (list --state running)' \
    'rm	Delete a job (delete)'

set -g __agent_exec_global_opts --root --verbose --help --version
# run and create: the job's definition
set -g __agent_exec_definition_opts --timeout --kill-after --kill-leftovers \
    --cwd --env --env-file --no-inherit-env --inherit-env --mask --tag --log \
    --progress-every --config --shell-wrapper --meta --callback-session \
    --callback-agent --notify-command --notify-file --notify-timeout \
    --notify-retries --notify-on --output-pattern --output-match-type --output-stream \
    --output-command --output-file --stdin --stdin-file --stdin-auto \
    --stdin-max-bytes \
    --interactive --pty --pty-size --queue --slots --no-queue-wait --after \
    --after-ok
# run, start and restart: the snapshot and the wait
set -g __agent_exec_observe_opts --snapshot-after --until --tail-lines \
    --lines --max-bytes --wait --wait-poll-ms --exit-status --no-wait --forever

# Options that take no value; every other option takes one (--stdin is a
# flag for write only).
set -g __agent_exec_flags --verbose --help --version --no-inherit-env \
    --inherit-env --wait --exit-status --interactive --pty --eof --follow \
    --all --dry-run --force --global --kill-leftovers --any --no-queue-wait \
    --no-wait --forever --stdin-auto --all-dirs --human --claude

# wait, kill and delete: which jobs, instead of ids
set -g __agent_exec_selector_opts --tag --meta --state --queue

set -g __agent_exec_signals TERM INT KILL HUP QUIT USR1 USR2 PIPE ALRM CONT \
    STOP TSTP WINCH

# __agent_exec_opts COMMAND: the options of COMMAND ("" before the command,
# "tag set" for a two-word one), the global ones included, one a line.
function __agent_exec_opts --argument-names cmd
    set -l opts
    switch "$cmd"
        case run
            set opts $__agent_exec_definition_opts $__agent_exec_observe_opts
        case create
            set opts $__agent_exec_definition_opts
        case start
            set opts $__agent_exec_observe_opts --kill-leftovers --queue \
                --slots --no-queue-wait --config
        case restart
            set opts $__agent_exec_observe_opts --kill-leftovers --signal \
                --kill-after --config
        case tail
            set opts --tail-lines --lines --max-bytes --since-stdout \
                --since-stderr --cursor --wait-ms --follow --attempt
        case write
            set opts --data --file --stdin --eof --timeout
        case log
            set opts --stream --offset --limit --attempt
        case events
            set opts --follow --since --job --type
        case mcp
            set opts --session
        case wait
            set opts --timeout-ms --until --forever --poll-ms --poll \
                --exit-status --tail-lines --lines --max-bytes --any \
                $__agent_exec_selector_opts
        case kill
            set opts --signal --no-wait $__agent_exec_selector_opts
        case list
            set opts --all --cwd --state --tag --queue --limit --human
        case ps
            set opts --all --cwd --tag --queue --limit --human
        case status summary
            set opts --human
        case 'tag set'
            set opts --tag
        case 'notify set'
            set opts --command --file --output-pattern --output-match-type \
                --output-stream --output-command --output-file \
                --notify-timeout --notify-retries --notify-on
        case 'notify redeliver'
            set opts --force
        case delete rm
            set opts --force --all --all-dirs --dry-run \
                $__agent_exec_selector_opts
        case gc
            set opts --older-than --max-jobs --max-bytes --dry-run
        case install-skills
            set opts --source --global --claude
    end
    printf '%s\n' $opts $__agent_exec_global_opts
end

# __agent_exec_takes_value COMMAND OPTION: whether OPTION reads the next
# word as its value.
function __agent_exec_takes_value --argument-names cmd opt
    string match -q -- '--*' $opt; or return 1 # -v, -vv, -h
    if test "$opt" = --stdin
        test "$cmd" != write
        return
    end
    contains -- $opt $__agent_exec_flags; and return 1
    # an option this command does not know: assume it takes nothing
    contains -- $opt (__agent_exec_opts $cmd)
end

# __agent_exec_job_ids PROGRAM ROOT [STATE]: the ids of the jobs of ROOT
# (the default root when empty), in state STATE if given. Silent on error.
function __agent_exec_job_ids --argument-names program root state
    set -l list $program
    test -n "$root"; and set -a list --root $root
    set -a list list --all
    test -n "$state"; and set -a list --state $state
    $list </dev/null 2>/dev/null |
        string match -ar '"job_id":"[0-9A-Za-z_-]*"' |
        string replace -r '^"job_id":"(.*)"$' '$1'
end

# __agent_exec_paths WORD [dirs]: the file names (the directory names)
# fish completes for WORD, as for a command it knows nothing of.
function __agent_exec_paths --argument-names word dirs
    set -l paths (complete -C"__agent_exec_no_such_command $word")
    if test -n "$dirs"
        string match -r -- '^[^\t]*/(?:\t.*)?$' $paths
    else
        printf '%s\n' $paths
    end
end

# ---- the completion function -------------------------------------------

function __agent_exec_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l program $tokens[1]
    set -l cmd ''
    set -l group ''
    set -l pending ''
    set -l root ''
    set -l last ''
    set -l dashdash 0
    set -l trailing 0
    set -l positionals 0
    set program (string replace -r -- '^~/' "$HOME/" $program)

    # What the words before the current one are: the command, the values
    # of options, positionals; note --root and an option awaiting a value.
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l word $tokens[$i]
        if test $dashdash = 0 -a "x$word" = x--
            set dashdash 1
        else if test $dashdash = 0; and string match -q -- '-?*' $word
            set -l opt (string split -m1 -- = $word)[1]
            if string match -q -- '*=*' $word
                test "$opt" = --root; and set root (string split -m1 -- = $word)[2]
            else if __agent_exec_takes_value "$cmd" $opt
                if test $i -eq $n
                    set pending $opt # the current word is its value
                else if test "$opt" = --root
                    set root $tokens[(math $i + 1)]
                end
                set i (math $i + 1)
            end
        else if test -z "$cmd"
            contains -- $word tag notify; and set group $word
            set cmd $word
        else if test -n "$group" -a "x$cmd" = "x$group"
            set cmd "$group $word"
        else if contains -- "$cmd" run create
            set trailing $i # the job's COMMAND began here
            break
        else
            set positionals (math $positionals + 1)
            set last $word
        end
        set i (math $i + 1)
    end
    set root (string replace -r -- '^~/' "$HOME/" $root)

    # The job's COMMAND (begun, or to begin with the current word, which
    # is no option): complete that line as fish would on its own.
    if contains -- "$cmd" run create; and test -z "$pending"
        if test $trailing -gt 0 -o $dashdash = 1; or not string match -q -- '-*' $cur
            set -l line
            test $trailing -gt 0; and set line (string escape -- $tokens[$trailing..-1])
            complete -C (string join ' ' -- $line $cur)
            return
        end
    end

    # What the current word is: the value of an option...
    set -l prefix ''
    set -l value "$cur"
    set -l opt $pending
    if test -z "$opt" -a $dashdash = 0; and string match -q -- '--?*=*' $cur
        set opt (string split -m1 -- = $cur)[1]
        set prefix "$opt="
        set value (string split -m1 -- = $cur)[2]
    end
    if test -n "$opt"
        set -l values
        switch $opt
            case --root --cwd
                set values (__agent_exec_paths "$value" dirs)
            case --config --env-file --stdin-file --notify-file --file --log --output-file
                set values (__agent_exec_paths "$value")
            case --signal
                set values $__agent_exec_signals
                string match -q -- 'SIG*' $value; and set values SIG$values
            case --output-match-type
                set values contains regex
            case --output-stream
                set values stdout stderr either
            case --stream
                set values stdout stderr full
            case --notify-on
                set values finished failure success
            case --state
                set values created queued running exited killed failed unknown
            case --source
                if string match -q -- 'local:*' $value
                    set prefix $prefix'local:'
                    set values (__agent_exec_paths (string sub -s 7 -- "$value") dirs)
                else
                    set values self local:
                end
            case --type
                set values job.created job.started job.finished \
                    job.output.matched job.output.dropped delivery.attempted \
                    'job.*' 'delivery.*'
            case --since
                test "$cmd" = events; and set values end
            case --job
                set values (__agent_exec_job_ids $program $root)
            case --meta
                contains -- "$cmd" wait kill delete rm
                and set values callback_session= callback_agent=
            case --older-than
                set values 30d 7d 1d 24h 60m 3600s
            case --pty-size
                set values 80x24 120x40
            case --timeout
                test "$cmd" = write; and set values 500ms 1s 10s 1m 0
            case --mask
                set values (set -n -x)
            case --env
                set values (set -n -x)=
        end
        printf '%s\n' $prefix$values
        return
    end

    # ... an option ...
    if test $dashdash = 0; and string match -q -- '-*' $cur
        __agent_exec_opts $cmd
        return
    end

    # ... the command, or what comes after it
    if test -z "$cmd"
        printf '%s\n' $__agent_exec_commands
        return
    end
    if test -n "$group" -a "x$cmd" = "x$group"
        switch $group
            case tag
                echo set
            case notify
                printf '%s\n' set redeliver
        end
        return
    end
    switch $cmd
        case start restart status tail write log wait kill delete rm \
            'tag set' 'notify set' 'notify redeliver'
            # wait takes several ids
            if test $positionals = 0 -o "$cmd" = wait
                set -l state ''
                switch $cmd
                    case start
                        set state created
                    case write kill
                        set state running
                end
                __agent_exec_job_ids $program $root $state
            end
        case help # help COMMAND, help tag set, help notify redeliver
            if test $positionals = 0
                printf '%s\n' $__agent_exec_commands
            else if test $positionals = 1 -a "$last" = tag
                echo set
            else if test $positionals = 1 -a "$last" = notify
                printf '%s\n' set redeliver
            end
    end
end

complete -c agent-exec -e
complete -c agent-exec -f -a '(__agent_exec_complete)'
