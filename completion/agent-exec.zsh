#compdef agent-exec
# completion/agent-exec.zsh - zsh completion for agent-exec(1).
#
# Install it as _agent-exec in a directory of $fpath (make install puts it
# in $PREFIX/share/zsh/site-functions) before compinit runs, or source it
# after compinit. It completes what completion/agent-exec.bash completes,
# with the same lists (tests/e2e/t_completion_shells.sh checks that):
#   - the commands, the two-word ones too (tag set, notify set,
#     notify redeliver), and the topics of help;
#   - each command's options (and the global ones), also as --opt=value;
#   - the values of options with a fixed set of values (--signal, --state,
#     --stream, --output-match-type, --output-stream, --source, --type...);
#   - file and directory names for options that take a path;
#   - job ids, read from "agent-exec list --all" on the --root given on the
#     command line (if any): start offers created jobs, write and kill
#     running ones, the others any; a failing list completes nothing;
#   - after run/create's COMMAND begins: that command's line, as zsh
#     completes it on its own (program names, then its arguments).

# ---- what the command line looks like (cli.c; as in agent-exec.bash) ----

_agent_exec_commands=(
	'run:start COMMAND as a background job'
	'create:define a job without starting it'
	'start:start a created job'
	'restart:run a job again, same id'
	'status:print the state of a job'
	"tail:print the end of a job's stdout and stderr"
	"write:send bytes to a job's stdin"
	'log:page through a log by lines'
	"events:print every job's events as NDJSON"
	'mcp:serve the Model Context Protocol on stdin and stdout'
	'wait:block until jobs end'
	"kill:signal a job's process group"
	'list:list jobs started in the current directory'
	'tag:tag set: replace the tags of a job'
	'notify:notify set, notify redeliver: change or redeliver notifications'
	'gc:delete finished jobs older than D'
	"delete:delete a job's directory"
	'summary:count the jobs by state and by queue'
	'schema:print the JSON Schema of every answer and record'
	'install-skills:install the agent-exec skill (SKILL.md)'
	'help:show help for a command'
	'ps:list the running jobs (list --state running)'
	'rm:delete a job (delete)'
)

_agent_exec_global_opts="--root --verbose --help --version"
# run and create: the job's definition
_agent_exec_definition_opts="--timeout --kill-after --kill-leftovers --cwd --env --env-file
	--no-inherit-env --inherit-env --mask --tag --log --progress-every
	--config --shell-wrapper --meta --callback-session --callback-agent
	--notify-command --notify-file --notify-timeout --notify-retries
	--notify-on --output-pattern --output-match-type --output-stream --output-command
	--output-file --stdin --stdin-file --stdin-auto --stdin-max-bytes
	--interactive --pty --pty-size
	--queue --slots --no-queue-wait --after --after-ok"
# run, start and restart: the snapshot and the wait
_agent_exec_observe_opts="--snapshot-after --until --tail-lines --lines --max-bytes
	--wait --wait-poll-ms --exit-status --no-wait --forever"

# Options that take no value; every other option takes one (--stdin is a
# flag for write only).
_agent_exec_flags=" --verbose --help --version --no-inherit-env
	--inherit-env --wait --exit-status --interactive --pty --eof --follow
	--all --dry-run --force --global --kill-leftovers --any --no-queue-wait
	--no-wait --forever --stdin-auto --all-dirs --human --claude "

# wait, kill and delete: which jobs, instead of ids
_agent_exec_selector_opts="--tag --meta --state --queue"

_agent_exec_signals="TERM INT KILL HUP QUIT USR1 USR2 PIPE ALRM CONT STOP
	TSTP WINCH"

# _agent_exec_opts COMMAND: the options of COMMAND ("" before the command,
# "tag set" for a two-word one), the global ones included, into reply.
_agent_exec_opts() {
	local opts=''
	case $1 in
	run) opts="$_agent_exec_definition_opts $_agent_exec_observe_opts" ;;
	create) opts=$_agent_exec_definition_opts ;;
	start) opts="$_agent_exec_observe_opts --kill-leftovers --queue --slots
		--no-queue-wait --config" ;;
	restart) opts="$_agent_exec_observe_opts --kill-leftovers --signal
		--kill-after --config" ;;
	tail) opts="--tail-lines --lines --max-bytes --since-stdout --since-stderr
		--cursor --wait-ms --follow --attempt" ;;
	write) opts="--data --file --stdin --eof --timeout" ;;
	log) opts="--stream --offset --limit --attempt" ;;
	events) opts="--follow --since --job --type" ;;
	mcp) opts="--session" ;;
	wait) opts="--timeout-ms --until --forever --poll-ms --poll
		--exit-status --tail-lines --lines --max-bytes --any
		$_agent_exec_selector_opts" ;;
	kill) opts="--signal --no-wait $_agent_exec_selector_opts" ;;
	list) opts="--all --cwd --state --tag --queue --limit --human" ;;
	ps) opts="--all --cwd --tag --queue --limit --human" ;;
	status | summary) opts="--human" ;;
	"tag set") opts="--tag" ;;
	"notify set") opts="--command --file --output-pattern
		--output-match-type --output-stream --output-command
		--output-file --notify-timeout --notify-retries --notify-on" ;;
	"notify redeliver") opts="--force" ;;
	delete | rm) opts="--force --all --all-dirs --dry-run
		$_agent_exec_selector_opts" ;;
	gc) opts="--older-than --max-jobs --max-bytes --dry-run" ;;
	install-skills) opts="--source --global --claude" ;;
	esac
	reply=(${=opts} ${=_agent_exec_global_opts})
}

# _agent_exec_takes_value COMMAND OPTION: whether OPTION reads the next
# word as its value.
_agent_exec_takes_value() {
	local -a reply
	[[ $2 == --* ]] || return 1	# -v, -vv, -h
	if [[ $2 == --stdin ]]; then
		[[ $1 != write ]]
		return
	fi
	[[ $_agent_exec_flags != *[[:space:]]$2[[:space:]]* ]] || return 1
	# an option this command does not know: assume it takes nothing
	_agent_exec_opts "$1"
	(( ${reply[(Ie)$2]} ))
}

# _agent_exec_job_ids PROGRAM ROOT [STATE]: the ids of the jobs of ROOT
# (the default root when empty), in state STATE if given, into reply.
# Silent on error.
_agent_exec_job_ids() {
	local out id
	local -a list
	list=("$1")
	[[ -n $2 ]] && list+=(--root "$2")
	list+=(list --all)
	[[ -n $3 ]] && list+=(--state "$3")
	reply=()
	out=$("${list[@]}" </dev/null 2>/dev/null)
	while [[ $out == *'"job_id":"'* ]]; do
		out=${out#*'"job_id":"'}
		id=${out%%'"'*}
		[[ -n $id && $id != *[^0-9A-Za-z_-]* ]] && reply+=("$id")
	done
}

# _agent_exec_values TAG DESCRIPTION WORD...: offer the WORDs.
_agent_exec_values() {
	local tag=$1 descr=$2 expl
	shift 2
	_wanted "$tag" expl "$descr" compadd -- "$@"
}

# ---- the completion function -------------------------------------------

_agent-exec() {
	setopt localoptions extendedglob
	local cmd='' group='' pending='' root='' last='' program word opt state
	local expl ret=1
	local -i i dashdash=0 trailing=0 positionals=0
	local -a reply

	program=${(Q)words[1]}
	[[ $program == '~/'* ]] && program=$HOME/${program#'~/'}

	# What the words before the current one are: the command, the values
	# of options, positionals; note --root and an option awaiting a value.
	for (( i = 2; i < CURRENT; i++ )); do
		word=${(Q)words[i]}
		if (( !dashdash )) && [[ $word == -- ]]; then
			dashdash=1
		elif (( !dashdash )) && [[ $word == -?* ]]; then
			opt=${word%%=*}
			if [[ $word == *=* ]]; then
				[[ $opt == --root ]] && root=${word#*=}
			elif _agent_exec_takes_value "$cmd" "$opt"; then
				if (( i + 1 == CURRENT )); then
					pending=$opt	# the current word is its value
				else
					[[ $opt == --root ]] && root=${(Q)words[i + 1]}
				fi
				(( i++ ))
			fi
		elif [[ -z $cmd ]]; then
			[[ $word == (tag|notify) ]] && group=$word
			cmd=$word
		elif [[ -n $group && $cmd == $group ]]; then
			cmd="$group $word"
		elif [[ $cmd == (run|create) ]]; then
			trailing=$i	# the job's COMMAND began here
			break
		else
			(( positionals++ ))
			last=$word
		fi
	done
	[[ $root == '~/'* ]] && root=$HOME/${root#'~/'}

	# The job's COMMAND (begun, or to begin with the current word, which
	# is no option): complete that line as zsh would on its own.
	if [[ $cmd == (run|create) && -z $pending ]] &&
		{ (( trailing || dashdash )) || [[ $PREFIX != -* ]]; }; then
		(( trailing )) || trailing=$CURRENT
		words=("${(@)words[trailing,-1]}")
		(( CURRENT -= trailing - 1 ))
		_normal
		return
	fi

	# What the current word is: the value of an option...
	opt=$pending
	if [[ -z $opt ]] && (( !dashdash )) && [[ $PREFIX == --?*=* ]]; then
		opt=${PREFIX%%=*}
		compset -P 1 '*='
	fi
	if [[ -n $opt ]]; then
		case $opt in
		--root | --cwd) _files -/ ;;
		--config | --env-file | --stdin-file | --notify-file | --file | \
			--log | --output-file) _files ;;
		--signal)
			reply=(${=_agent_exec_signals})
			[[ $PREFIX == SIG* ]] && reply=(SIG${^reply})
			_agent_exec_values signals signal $reply ;;
		--output-match-type)
			_agent_exec_values match-types 'match type' contains regex ;;
		--output-stream)
			_agent_exec_values streams stream stdout stderr either ;;
		--stream)
			_agent_exec_values streams stream stdout stderr full ;;
		--notify-on)
			_agent_exec_values ends 'end' finished failure success ;;
		--state)
			_agent_exec_values states state created queued running exited \
				killed failed unknown ;;
		--source)
			if compset -P 'local:'; then
				_files -/
			else
				_wanted sources expl source compadd -- self &&
					ret=0
				_wanted sources expl source compadd -S '' -- local: &&
					ret=0
				return ret
			fi
			;;
		--type)
			_agent_exec_values event-types 'event type' job.created \
				job.started job.finished job.output.matched \
				job.output.dropped delivery.attempted 'job.*' \
				'delivery.*' ;;
		--since)
			[[ $cmd == events ]] && _agent_exec_values positions position end ;;
		--job)
			_agent_exec_job_ids "$program" "$root"
			_agent_exec_values job-ids 'job id' $reply ;;
		--meta)
			[[ $cmd == (wait|kill|delete|rm) ]] &&
				_wanted meta-keys expl 'meta key' compadd -S '' -- \
					callback_session= callback_agent= ;;
		--older-than)
			_agent_exec_values durations age 30d 7d 1d 24h 60m 3600s ;;
		--pty-size)
			_agent_exec_values sizes 'columns x rows' 80x24 120x40 ;;
		--timeout)
			[[ $cmd == write ]] &&
				_agent_exec_values durations timeout 500ms 1s 10s 1m 0 ;;
		--mask)
			_wanted parameters expl 'environment variable' \
				compadd -- ${(k)parameters[(R)*export*]} ;;
		--env)
			_wanted parameters expl 'environment variable' \
				compadd -S = -- ${(k)parameters[(R)*export*]} ;;
		*) _message -e values "value of $opt" ;;
		esac
		return
	fi

	# ... an option ...
	if (( !dashdash )) && [[ $PREFIX == -* ]]; then
		_agent_exec_opts "$cmd"
		_agent_exec_values options option $reply
		return
	fi

	# ... the command, or what comes after it
	if [[ -z $cmd ]]; then
		_describe -t commands 'agent-exec command' _agent_exec_commands
		return
	fi
	if [[ -n $group && $cmd == $group ]]; then
		case $group in
		tag) _agent_exec_values commands 'tag command' set ;;
		notify) _agent_exec_values commands 'notify command' set redeliver ;;
		esac
		return
	fi
	case $cmd in
	start | restart | status | tail | write | log | wait | kill | delete | rm | \
		"tag set" | "notify set" | "notify redeliver")
		# wait takes several ids
		if (( positionals == 0 )) || [[ $cmd == wait ]]; then
			state=''
			case $cmd in
			start) state=created ;;
			write | kill) state=running ;;
			esac
			_agent_exec_job_ids "$program" "$root" "$state"
			_agent_exec_values job-ids 'job id' $reply
		fi
		;;
	help)	# help COMMAND, help tag set, help notify redeliver
		if (( positionals == 0 )); then
			_describe -t commands 'agent-exec command' _agent_exec_commands
		elif (( positionals == 1 )) && [[ $last == tag ]]; then
			_agent_exec_values commands 'tag command' set
		elif (( positionals == 1 )) && [[ $last == notify ]]; then
			_agent_exec_values commands 'notify command' set redeliver
		fi
		;;
	esac
}

# Autoloaded from $fpath: complete now. Sourced: register the function
# (compinit must have run).
if [[ ${zsh_eval_context[-1]} == file ]]; then
	if (( $+functions[compdef] )); then
		compdef _agent-exec agent-exec
	else
		print -u2 "agent-exec.zsh: run compinit before sourcing this file"
	fi
else
	_agent-exec "$@"
fi
