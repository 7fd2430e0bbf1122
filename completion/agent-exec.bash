# completion/agent-exec.bash - bash completion for agent-exec(1).
#
# Source it from ~/.bashrc, or install it as
# /usr/share/bash-completion/completions/agent-exec. It completes:
#   - the commands, the two-word ones too (tag set, notify set,
#     notify redeliver), and the topics of help;
#   - each command's options (and the global ones), also as --opt=value;
#   - the values of options with a fixed set of values (--signal, --state,
#     --stream, --output-match-type, --output-stream, --source, --type...);
#   - file and directory names for options that take a path;
#   - job ids, read from "agent-exec list --all" on the --root given on the
#     command line (if any); a failing list completes nothing.
#   - after run/create's COMMAND begins: program names, then file names.
# It needs neither the bash-completion package nor jq, and works under
# set -u.

# ---- what the command line looks like (cli.c) --------------------------

_agent_exec_commands="run create start restart status tail write log events mcp
	wait kill list tag notify gc delete summary schema install-skills help
	ps rm"

_agent_exec_global_opts="--root --verbose --help --version"
# run and create: the job's definition
_agent_exec_definition_opts="--timeout --kill-after --kill-leftovers --cwd --env --env-file
	--no-inherit-env --inherit-env --mask --tag --log --progress-every
	--config --shell-wrapper --meta --callback-session --callback-agent
	--notify-command --notify-file --notify-timeout --notify-retries
	--notify-on --output-pattern --output-match-type --output-stream --output-command
	--output-file --stdin --stdin-file --stdin-auto --stdin-max-bytes --interactive --pty
	--pty-size
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
# "tag set" for a two-word one), the global ones included.
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
	echo "$opts $_agent_exec_global_opts"
}

# _agent_exec_takes_value COMMAND OPTION: whether OPTION reads the next
# word as its value.
_agent_exec_takes_value() {
	case $2 in
	--*) ;;
	*) return 1 ;;	# -v, -vv, -h
	esac
	if [[ $2 == --stdin ]]; then
		[[ $1 != write ]]
		return
	fi
	[[ $_agent_exec_flags != *[[:space:]]"$2"[[:space:]]* ]] || return 1
	# an option this command does not know: assume it takes nothing
	[[ " $(_agent_exec_opts "$1") " == *[[:space:]]"$2"[[:space:]]* ]]
}

# _agent_exec_split TEXT: the shell words of TEXT, with their quotes and
# backslashes removed, into _agent_exec_words; the last one is the word
# being completed (empty after a blank). COMP_WORDS is not used for this:
# it splits words at '=' and ':' (COMP_WORDBREAKS), as in --env=K=V.
_agent_exec_split() {
	local text=$1 word='' quote='' c
	local i started=0
	_agent_exec_words=()
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		if [[ -n $quote ]]; then
			if [[ $c == "$quote" ]]; then
				quote=''
			elif [[ $c == \\ && $quote == \" ]]; then
				i=$((i + 1))
				word+=${text:i:1}
			else
				word+=$c
			fi
			continue
		fi
		case $c in
		\\) i=$((i + 1)); word+=${text:i:1}; started=1 ;;
		\' | \") quote=$c; started=1 ;;
		[[:space:]])
			if ((started)); then
				_agent_exec_words+=("$word")
				word=''
				started=0
			fi
			;;
		*) word+=$c; started=1 ;;
		esac
	done
	_agent_exec_words+=("$word")
}

# _agent_exec_job_ids PROGRAM ROOT [STATE]: the ids of the jobs of ROOT
# (the default root when empty), in state STATE if given. Silent on error.
_agent_exec_job_ids() {
	local -a argv=("$1")
	[[ -n $2 ]] && argv+=(--root "$2")
	argv+=(list --all)
	[[ -n ${3-} ]] && argv+=(--state "$3")
	"${argv[@]}" </dev/null 2>/dev/null |
		grep -o '"job_id":"[0-9A-Za-z_-]*"' 2>/dev/null |
		sed 's/^"job_id":"//; s/"$//' 2>/dev/null
}

# _agent_exec_programs WORD: the commands starting with WORD, once each
# (not the functions of this file).
_agent_exec_programs() {
	compgen -c -- "$1" | grep -v '^_agent_exec' | sort -u
}

# _agent_exec_add PREFIX GENERATOR...: add each line GENERATOR prints to
# COMPREPLY, with PREFIX before it.
_agent_exec_add() {
	local prefix=$1 line
	shift
	while IFS= read -r line; do
		COMPREPLY+=("$prefix$line")
	done < <("$@" 2>/dev/null)
}

# ---- the completion function -------------------------------------------

_agent_exec() {
	local line=${COMP_LINE-} point=${COMP_POINT-} cur prefix value opt
	local cmd='' group='' pending='' root='' last='' program word state
	local i n dashdash=0 trailing=0 positionals=0
	local -a words

	COMPREPLY=()
	if [[ -z $line && -n ${COMP_WORDS+set} ]]; then
		# no COMP_LINE (called by hand): the words are all we have
		line="${COMP_WORDS[*]:0:${COMP_CWORD:-0}+1}"
		point=${#line}
	fi
	_agent_exec_split "${line:0:${point:-${#line}}}"
	words=("${_agent_exec_words[@]}")
	n=${#words[@]}
	cur=${words[n - 1]}
	program=${words[0]:-agent-exec}
	# shellcheck disable=SC2088 # a literal ~/ on the line, expanded here
	[[ $program == "~/"* ]] && program=${HOME-}/${program#"~/"}

	# What the words before the current one are: the command, the values
	# of options, positionals; note --root and an option awaiting a value.
	for ((i = 1; i < n - 1; i++)); do
		word=${words[i]}
		if ((trailing)); then
			continue
		elif ((!dashdash)) && [[ $word == -- ]]; then
			dashdash=1
		elif ((!dashdash)) && [[ $word == -?* ]]; then
			opt=${word%%=*}
			if [[ $word == *=* ]]; then
				[[ $opt == --root ]] && root=${word#*=}
			elif _agent_exec_takes_value "$cmd" "$opt"; then
				if ((i + 1 == n - 1)); then
					pending=$opt	# the current word is its value
				else
					[[ $opt == --root ]] && root=${words[i + 1]}
				fi
				i=$((i + 1))
			fi
		elif [[ -z $cmd ]]; then
			case $word in
			tag | notify) group=$word ;;
			esac
			cmd=$word
		elif [[ -n $group && $cmd == "$group" ]]; then
			cmd="$group $word"
		elif [[ $cmd == run || $cmd == create ]]; then
			trailing=1	# the job's COMMAND began
		else
			positionals=$((positionals + 1))
			last=$word
		fi
	done
	# shellcheck disable=SC2088 # a literal ~/ on the line, expanded here
	[[ $root == "~/"* ]] && root=${HOME-}/${root#"~/"}

	# What the current word is: the value of an option...
	prefix=''
	value=$cur
	opt=$pending
	if [[ -z $opt ]] && ((!dashdash && !trailing)) &&
		[[ $cur == --?*=* ]]; then
		opt=${cur%%=*}
		prefix=$opt=
		value=${cur#*=}
	fi
	if [[ -n $opt ]]; then
		case $opt in
		--root | --cwd)
			_agent_exec_add "$prefix" compgen -d -- "$value"
			compopt -o filenames 2>/dev/null
			;;
		--config | --env-file | --stdin-file | --notify-file | --file | \
			--log | --output-file)
			_agent_exec_add "$prefix" compgen -f -- "$value"
			compopt -o filenames 2>/dev/null
			;;
		--signal)
			local signals=$_agent_exec_signals
			# shellcheck disable=SC2086 # one argument a signal
			[[ $value == SIG* ]] && signals=$(printf 'SIG%s ' $signals)
			_agent_exec_add "$prefix" compgen -W "$signals" -- "$value"
			;;
		--output-match-type)
			_agent_exec_add "$prefix" compgen -W "contains regex" -- "$value" ;;
		--output-stream)
			_agent_exec_add "$prefix" compgen -W "stdout stderr either" -- "$value" ;;
		--stream)
			_agent_exec_add "$prefix" compgen -W "stdout stderr full" -- "$value" ;;
		--notify-on)
			_agent_exec_add "$prefix" compgen -W "finished failure success" -- "$value" ;;
		--state)
			_agent_exec_add "$prefix" compgen -W "created queued running exited
				killed failed unknown" -- "$value" ;;
		--source)
			if [[ $value == local:* ]]; then
				_agent_exec_add "${prefix}local:" compgen -d -- "${value#local:}"
				compopt -o filenames 2>/dev/null
			else
				_agent_exec_add "$prefix" compgen -W "self local:" -- "$value"
				compopt -o nospace 2>/dev/null
			fi
			;;
		--type)
			_agent_exec_add "$prefix" compgen -W "job.created job.started
				job.finished job.output.matched job.output.dropped delivery.attempted job.*
				delivery.*" -- "$value" ;;
		--since)
			[[ $cmd == events ]] &&
				_agent_exec_add "$prefix" compgen -W "end" -- "$value" ;;
		--job)
			_agent_exec_add "$prefix" compgen -W \
				"$(_agent_exec_job_ids "$program" "$root")" -- "$value" ;;
		--meta)
			[[ $cmd == wait || $cmd == kill || $cmd == delete ]] &&
				_agent_exec_add "$prefix" compgen -W "callback_session=
					callback_agent=" -- "$value"
			compopt -o nospace 2>/dev/null
			;;
		--older-than)
			_agent_exec_add "$prefix" compgen -W "30d 7d 1d 24h 60m 3600s" -- "$value" ;;
		--pty-size)
			_agent_exec_add "$prefix" compgen -W "80x24 120x40" -- "$value" ;;
		--timeout)
			[[ $cmd == write ]] &&
				_agent_exec_add "$prefix" compgen -W "500ms 1s 10s 1m 0" -- "$value" ;;
		--mask)
			_agent_exec_add "$prefix" compgen -e -- "$value" ;;
		--env)
			_agent_exec_add "$prefix" compgen -e -S = -- "$value"
			compopt -o nospace 2>/dev/null
			;;
		esac
	# ... an option ...
	elif ((!dashdash && !trailing)) && [[ $cur == -* ]]; then
		_agent_exec_add "" compgen -W "$(_agent_exec_opts "$cmd")" -- "$cur"
	# ... the command, or what comes after it
	elif [[ -z $cmd ]]; then
		_agent_exec_add "" compgen -W "$_agent_exec_commands" -- "$cur"
	elif [[ -n $group && $cmd == "$group" ]]; then
		case $group in
		tag) _agent_exec_add "" compgen -W "set" -- "$cur" ;;
		notify) _agent_exec_add "" compgen -W "set redeliver" -- "$cur" ;;
		esac
	else
		case $cmd in
		run | create)
			if ((trailing)); then	# an argument of the job's command
				compopt -o default 2>/dev/null
			else
				_agent_exec_add "" _agent_exec_programs "$cur"
			fi
			;;
		start | restart | status | tail | write | log | wait | kill | delete | rm | \
			"tag set" | "notify set" | "notify redeliver")
			# wait takes several ids
			if ((positionals == 0)) || [[ $cmd == wait ]]; then
				state=''
				case $cmd in
				start) state=created ;;
				write | kill) state=running ;;
				esac
				_agent_exec_add "" compgen -W \
					"$(_agent_exec_job_ids "$program" "$root" "$state")" \
					-- "$cur"
			fi
			;;
		help)	# help COMMAND, help tag set, help notify redeliver
			if ((positionals == 0)); then
				_agent_exec_add "" compgen -W "$_agent_exec_commands" -- "$cur"
			elif ((positionals == 1)) && [[ $last == tag ]]; then
				_agent_exec_add "" compgen -W "set" -- "$cur"
			elif ((positionals == 1)) && [[ $last == notify ]]; then
				_agent_exec_add "" compgen -W "set redeliver" -- "$cur"
			fi
			;;
		esac
	fi

	# Readline replaces only the part of the word after its last
	# COMP_WORDBREAKS character (--opt=, local:): drop that part.
	prefix=''
	for ((i = 0; i < ${#cur}; i++)); do
		[[ ${COMP_WORDBREAKS-} == *"${cur:i:1}"* ]] && prefix=${cur:0:i+1}
	done
	if [[ -n $prefix ]]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
		done
	fi
	return 0
}

complete -F _agent_exec agent-exec
