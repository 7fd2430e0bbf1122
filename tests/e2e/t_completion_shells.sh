#!/bin/sh
# The zsh and fish completions (completion/agent-exec.zsh and .fish),
# asked by the real shells: zsh completes in a terminal (zsh/zpty) with
# the file autoloaded from $fpath as _agent-exec, as installed (and once
# sourced after compinit); fish with "complete -C LINE", the file loaded
# from $fish_complete_path. For each: the commands, ps and rm included;
# each command's options, which must be the bash completion's lists (parsed
# from completion/agent-exec.bash); fixed values (--signal, --state,
# --stream); directories for --cwd; program names, then files, for run's
# COMMAND; and job ids of real jobs by state (start: created; kill, write:
# running; status, wait, tag set, events --job: any), on the --root given
# on the line (before or after the command), none without it; and, where
# bash is, the candidates bash gives for 33 more lines (values, flags that
# take no value, positions that take nothing). A shell that is not
# installed is skipped with a note (tests/deps.sh installs both).
# Runs from the repository root (tests/run.sh does); AE_COMPLETION,
# AE_ZSH_COMPLETION and AE_FISH_COMPLETION name other files to check.
. "$(dirname "$0")/lib.sh"

BASH_FILE=${AE_COMPLETION:-completion/agent-exec.bash}
ZSH_FILE=${AE_ZSH_COMPLETION:-completion/agent-exec.zsh}
FISH_FILE=${AE_FISH_COMPLETION:-completion/agent-exec.fish}

check "the bash completion exists" test -s "$BASH_FILE"
check "the zsh completion exists" test -s "$ZSH_FILE"
check "the fish completion exists" test -s "$FISH_FILE"
check "the zsh completion is a #compdef file for agent-exec" \
	grep -qx '#compdef agent-exec' "$ZSH_FILE"

# ---- the bash file's lists ---------------------------------------------------

# What each command takes, from the bash completion's text (no bash needed):
# its _agent_exec_* variables (a quoted value may run over lines) and the
# arms of _agent_exec_opts (pattern) opts="..." ;;, "$_agent_exec_x"
# expanded), the global options added. One "COMMAND<TAB>OPTION" line per
# option; COMMAND is each of _agent_exec_commands, the two-word ones, and
# "" (before the command).
awk '
function arm(p, v,   n, P, i) {
	gsub(/"/, "", p)
	gsub(/^[ \t]+|[ \t]+$/, "", p)
	n = split(p, P, / *\| */)
	for (i = 1; i <= n; i++) arms[P[i]] = v
}
function expand(v,   n, W, i, out) {
	n = split(v, W, /[ \t]+/)
	out = ""
	for (i = 1; i <= n; i++)
		if (W[i] ~ /^\$_agent_exec_/) out = out " " expand(vars[substr(W[i], 2)])
		else if (W[i] != "") out = out " " W[i]
	return out
}
# the rest of a quoted value that runs over lines
invar {
	if (index($0, "\"")) {
		vars[name] = val " " substr($0, 1, index($0, "\"") - 1)
		invar = 0
	} else val = val " " $0
	next
}
inarm {
	if (index($0, "\"")) {
		arm(pats, val " " substr($0, 1, index($0, "\"") - 1))
		inarm = 0
	} else val = val " " $0
	next
}
/^_agent_exec_[a-z_]+="/ {
	name = substr($0, 1, index($0, "=") - 1)
	rest = substr($0, index($0, "=") + 2)
	if (index(rest, "\"")) vars[name] = substr(rest, 1, index(rest, "\"") - 1)
	else { val = rest; invar = 1 }
	next
}
/^_agent_exec_opts\(\) *\{/ { inopts = 1; next }
inopts && /^}/ { inopts = 0; next }
inopts && /\) opts=/ {
	p = substr($0, 1, index($0, ") opts=") - 1)
	rest = substr($0, index($0, ") opts=") + 7)
	if (substr(rest, 1, 1) == "\"") {
		rest = substr(rest, 2)
		if (index(rest, "\"")) arm(p, substr(rest, 1, index(rest, "\"") - 1))
		else { pats = p; val = rest; inarm = 1 }
	} else {
		sub(/[ \t]*;;.*/, "", rest)
		arm(p, rest)
	}
}
END {
	n = split(vars["_agent_exec_commands"], C, /[ \t]+/)
	C[++n] = "tag set"; C[++n] = "notify set"; C[++n] = "notify redeliver"
	C[++n] = ""
	for (i = 1; i <= n; i++) {
		m = split(expand(arms[C[i]] " " vars["_agent_exec_global_opts"]), O, / /)
		for (j = 1; j <= m; j++) if (O[j] != "") printf "%s\t%s\n", C[i], O[j]
	}
}' "$BASH_FILE" | LC_ALL=C sort -u >"$TMP/bash_opts"

cut -f1 "$TMP/bash_opts" | LC_ALL=C sort -u >"$TMP/commands_all"
grep -v ' ' "$TMP/commands_all" | grep . >"$TMP/commands"
check_between "the bash file lists the commands" \
	"$(wc -l <"$TMP/commands" | tr -d ' ')" 20 100
# shellcheck disable=SC2016 # for sh -c
check "the bash file's commands include ps and rm" \
	sh -c 'grep -qx ps "$1" && grep -qx rm "$1"' sh "$TMP/commands"
# opts_of COMMAND: the bash file's options of COMMAND, sorted, on one line
opts_of() {
	awk -F '\t' -v c="$1" '$1 == c { print $2 }' "$TMP/bash_opts" |
		LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'
}
check_eq "parsed: wait's options" "$(opts_of wait)" \
	"--any --exit-status --forever --help --lines --max-bytes --meta --poll --poll-ms --queue --root --state --tag --tail-lines --timeout-ms --until --verbose --version"

# where bash is, the parse is what the file's own _agent_exec_opts says
if command -v bash >/dev/null 2>&1; then
	# shellcheck disable=SC2016,SC2046 # for bash; one argument a command
	bash -c '. "$1" || exit 1
		shift
		for c in "$@"; do
			for o in $(_agent_exec_opts "$c"); do printf "%s\t%s\n" "$c" "$o"; done
		done' bash "$BASH_FILE" $(cat "$TMP/commands") "tag set" "notify set" \
		"notify redeliver" "" 2>&1 | LC_ALL=C sort -u >"$TMP/bash_opts_run"
	check_eq "parsed lists are what bash's _agent_exec_opts gives" \
		"$(cmp "$TMP/bash_opts" "$TMP/bash_opts_run" 2>&1 && echo same)" same
else
	echo "# skip: bash not installed (the parse of $BASH_FILE is not cross-checked)"
fi

# ---- jobs to complete, and the simulated line's agent-exec --------------------

mkdir -p "$TMP/bin" "$TMP/home" "$TMP/dir-one" "$TMP/dir-two"
: >"$TMP/dir-file"
case $AE_BIN in
/*) ln -s "$AE_BIN" "$TMP/bin/agent-exec" ;;
*) ln -s "$PWD/$AE_BIN" "$TMP/bin/agent-exec" ;;
esac

created=$(job_id "$(ae create -- true)")
running=$(start_job -- sleep 30)
exited=$(job_id "$(ae run --wait -- true)")
check "a created job" is_state "$created" created
check "a running job" is_state "$running" running
check "an exited job" is_state "$exited" exited
all_ids=$(sorted "$created" "$running" "$exited")

# The lines each shell is asked to complete (the cursor at the end); then,
# for each command, "agent-exec COMMAND --".
cat >"$TMP/lines" <<EOF
agent-exec 
agent-exec st
agent-exec notify 
agent-exec tag 
agent-exec help 
agent-exec wait --
agent-exec run --ti
agent-exec kill --signal 
agent-exec kill --signal=K
agent-exec list --state r
agent-exec log --stream 
agent-exec run --cwd $TMP/dir-
agent-exec run sle
agent-exec run -- sle
agent-exec create sleep 3 $TMP/dir-f
agent-exec --root $ROOT start 
agent-exec --root $ROOT kill 
agent-exec --root $ROOT write 
agent-exec --root $ROOT status 
agent-exec status --root $ROOT 
agent-exec --root=$ROOT wait $created 
agent-exec --root $ROOT tag set 
agent-exec --root $ROOT events --job 
agent-exec status 
EOF
while IFS= read -r command; do
	echo "agent-exec $command --"
done <"$TMP/commands_all" >>"$TMP/lines"
# Lines whose candidates must be the bash completion's (where bash is).
cat >"$TMP/lines_bash" <<EOF
agent-exec --
agent-exec -- 
agent-exec help tag 
agent-exec help notify r
agent-exec notify set X --output-stream 
agent-exec notify set X --output-match-type=r
agent-exec wait --meta 
agent-exec restart --signal SIGK
agent-exec kill --signal=SIGT
agent-exec install-skills --source 
agent-exec events --type job.o
agent-exec events --since 
agent-exec gc --older-than 
agent-exec run --pty-size 
agent-exec write --timeout 
agent-exec run --timeout 
agent-exec list --state=
agent-exec run --stdin-auto --
agent-exec tail --follow --
agent-exec run --wait --
agent-exec --root $ROOT status $created 
agent-exec --root $ROOT write --stdin 
agent-exec --root $ROOT write --data x 
agent-exec --root $ROOT kill --signal TERM 
agent-exec --root $ROOT -v kill 
agent-exec --root $ROOT --verbose kill 
agent-exec --root $ROOT kill --no-wait 
agent-exec --root $ROOT log 
agent-exec --root $ROOT log $created 
agent-exec --root $ROOT notify redeliver 
agent-exec --root $ROOT ps 
agent-exec --root $ROOT summary 
agent-exec --root $ROOT events --job=
EOF
cat "$TMP/lines_bash" >>"$TMP/lines"

# section FILE LINE: the candidates the shell gave for LINE (FILE holds
# "== LINE" headers, each followed by its candidates), sorted, once each,
# without a trailing slash, on one line.
section() {
	awk -v want="== $2" '$0 == want { on = 1; next } /^== / { on = 0 } on' "$1" |
		cut -f1 | sed 's|/$||' | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'
}
# bare FILE: FILE's sections, each candidate as "LINE => CANDIDATE" (sorted,
# once each), the --opt= of a current word --opt=value stripped (bash and
# zsh offer the value, fish the whole word).
bare() {
	awk -F '\t' '/^== / {
			line = substr($0, 4)
			cur = line
			sub(/.* /, "", cur)
			strip = ""
			if (cur ~ /^--[^=]+=/) strip = substr(cur, 1, index(cur, "="))
			next
		}
		{
			c = $1
			if (strip != "" && index(c, strip) == 1) c = substr(c, length(strip) + 1)
			print line " => " c
		}' "$1" | LC_ALL=C sort -u
}
# has_words LIST WORD...: each WORD is a word of LIST
has_words() {
	_list=" $1 "
	shift
	for _w in "$@"; do
		case $_list in *" $_w "*) ;; *) return 1 ;; esac
	done
}

# strip TEXT: stdin without TEXT
strip() {
	if [ -n "$1" ]; then sed "s|$1||g"; else cat; fi
}

# check_shell SHELL OUT SIG_K BASE: the assertions on one shell's answers (OUT: its
# sections). SIG_K is what it gives for "kill --signal=K"; BASE strips a
# directory from a path candidate (zsh gives the last component).
check_shell() {
	_sh=$1
	_out=$2
	check_eq "$_sh: 'agent-exec ' gives every command of the bash file" \
		"$(section "$_out" "agent-exec ")" "$(tr '\n' ' ' <"$TMP/commands" | sed 's/ $//')"
	check_eq "$_sh: 'agent-exec st' gives start and status" \
		"$(section "$_out" "agent-exec st")" "start status"
	check_eq "$_sh: 'agent-exec notify ' gives redeliver and set" \
		"$(section "$_out" "agent-exec notify ")" "redeliver set"
	check_eq "$_sh: 'agent-exec tag ' gives set" \
		"$(section "$_out" "agent-exec tag ")" "set"
	_help=$(section "$_out" "agent-exec help ")
	check "$_sh: 'agent-exec help ' gives the commands, ps and rm too" \
		has_words "$_help" run wait kill ps rm install-skills
	check_eq "$_sh: 'agent-exec wait --' gives wait's and the global options" \
		"$(section "$_out" "agent-exec wait --")" "$(opts_of wait)"
	check_eq "$_sh: 'agent-exec run --ti' gives --timeout" \
		"$(section "$_out" "agent-exec run --ti")" "--timeout"
	_signals=$(section "$_out" "agent-exec kill --signal ")
	check "$_sh: 'agent-exec kill --signal ' offers TERM and KILL" \
		has_words "$_signals" TERM KILL
	check_eq "$_sh: 'agent-exec kill --signal=K' gives KILL" \
		"$(section "$_out" "agent-exec kill --signal=K")" "$3"
	check_eq "$_sh: 'agent-exec list --state r' gives running" \
		"$(section "$_out" "agent-exec list --state r")" "running"
	check_eq "$_sh: 'agent-exec log --stream ' gives the streams" \
		"$(section "$_out" "agent-exec log --stream ")" "full stderr stdout"
	check_eq "$_sh: 'run --cwd DIR' completes directories only" \
		"$(section "$_out" "agent-exec run --cwd $TMP/dir-" | strip "$4")" \
		"dir-one dir-two"
	check "$_sh: 'agent-exec run sle' offers the program sleep" \
		has_words "$(section "$_out" "agent-exec run sle")" sleep
	check "$_sh: 'agent-exec run -- sle' offers the program sleep" \
		has_words "$(section "$_out" "agent-exec run -- sle")" sleep
	check_eq "$_sh: after create's COMMAND, file names" \
		"$(section "$_out" "agent-exec create sleep 3 $TMP/dir-f" | strip "$4")" \
		"dir-file"
	check_eq "$_sh: 'start ' offers only the created job's id" \
		"$(section "$_out" "agent-exec --root $ROOT start ")" "$created"
	check_eq "$_sh: 'kill ' offers only the running job's id" \
		"$(section "$_out" "agent-exec --root $ROOT kill ")" "$running"
	check_eq "$_sh: 'write ' offers only the running job's id" \
		"$(section "$_out" "agent-exec --root $ROOT write ")" "$running"
	check_eq "$_sh: 'agent-exec --root ROOT status ' offers every id" \
		"$(section "$_out" "agent-exec --root $ROOT status ")" "$all_ids"
	check_eq "$_sh: 'agent-exec status --root ROOT ' offers every id" \
		"$(section "$_out" "agent-exec status --root $ROOT ")" "$all_ids"
	check_eq "$_sh: 'agent-exec --root=ROOT wait ID ' offers every id (wait takes several)" \
		"$(section "$_out" "agent-exec --root=$ROOT wait $created ")" "$all_ids"
	check_eq "$_sh: 'tag set ' offers every id" \
		"$(section "$_out" "agent-exec --root $ROOT tag set ")" "$all_ids"
	check_eq "$_sh: 'events --job ' offers every id" \
		"$(section "$_out" "agent-exec --root $ROOT events --job ")" "$all_ids"
	check_eq "$_sh: without --root, not the ids of another root" \
		"$(section "$_out" "agent-exec status ")" ""
	_differ=""
	while IFS= read -r _command; do
		[ "$(section "$_out" "agent-exec $_command --")" = "$(opts_of "$_command")" ] ||
			_differ="$_differ '$_command'"
	done <"$TMP/commands_all"
	check_eq "$_sh: each command's options are the bash file's ($(wc -l <"$TMP/commands_all" | tr -d ' ') lists)" \
		"$_differ" ""
	if [ -n "$_differ" ]; then
		for _command in $(echo "$_differ" | tr -d "'" | head -c 200); do
			echo "#   $_command: got '$(section "$_out" "agent-exec $_command --")'"
			echo "#   $_command: want '$(opts_of "$_command")'"
		done
	fi
	if [ -s "$TMP/bash.out" ]; then
		sed 's/^/== /' "$TMP/lines_bash" >"$TMP/headers"
		awk 'NR == FNR { want[$0] = 1; next }
			/^== / { on = ($0 in want) } on' "$TMP/headers" "$_out" >"$_out.same"
		bare "$TMP/bash.out" >"$TMP/want.bare"
		bare "$_out.same" >"$_out.bare"
		_n=$(wc -l <"$TMP/lines_bash" | tr -d ' ')
		if cmp -s "$TMP/want.bare" "$_out.bare"; then
			ok "$_sh: for $_n more lines, the candidates are bash's"
		else
			not_ok "$_sh: for $_n more lines, the candidates are bash's"
			diff "$TMP/want.bare" "$_out.bare" | head -n 20 | sed 's/^/#   /'
		fi
	fi
	# the shell finished every line (a line whose completion hung or failed
	# has no candidates, and the lines after it none either)
	check_eq "$_sh: answered every line" \
		"$(grep -c '^== ' "$_out")" "$(wc -l <"$TMP/lines" | tr -d ' ')"
}

# What bash gives for lines_bash (asked as t_docs.sh asks it: the
# completion function called as readline would), in sections as above.
if command -v bash >/dev/null 2>&1; then
	# shellcheck disable=SC2016 # for bash
	PATH="$TMP/bin:$PATH" HOME="$TMP/home" bash -c '
		set -u
		. "$1" || exit 1
		while IFS= read -r COMP_LINE; do
			printf "== %s\n" "$COMP_LINE"
			COMP_POINT=${#COMP_LINE}
			read -r -a COMP_WORDS <<<"$COMP_LINE"
			case $COMP_LINE in *" ") COMP_WORDS+=("") ;; esac
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			_agent_exec
			for word in ${COMPREPLY[@]+"${COMPREPLY[@]}"}; do
				printf "%s\n" "$word"
			done
		done <"$2"' bash "$BASH_FILE" "$TMP/lines_bash" >"$TMP/bash.out" 2>&1
else
	echo "# skip: bash not installed (the shells' candidates are not compared with its)"
fi

# limit CMD...: CMD under a deadline, where timeout(1) is there
limit() {
	if command -v timeout >/dev/null 2>&1; then
		timeout "$(bound 60)" "$@"
	else
		"$@"
	fi
}

# ---- zsh ------------------------------------------------------------------

# The zsh under test runs in a terminal (zsh/zpty) and completes each line
# with Tab as a user would; a wrapper of the builtin compadd records what
# the completion functions offer (what matches the word, as zsh matched it)
# and a function run after each completion prints it; nothing is inserted.
cat >"$TMP/zsh_setup" <<'EOF'
PS1='' PROMPT='' RPROMPT='' PROMPT_EOL_MARK=''
if [[ -n $AE_ZSH_SOURCE ]]; then
	autoload -Uz compinit && compinit -u -D
	source $AE_ZSH_SOURCE
else
	fpath=($AE_ZSH_FPATH $fpath)
	autoload -Uz compinit && compinit -u -D
fi
typeset -ga _ae_hits
compadd() {
	# -O, -A, -D: the completion system filtering, not offering
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
		builtin compadd "$@"
		return
	fi
	local -a hits
	builtin compadd -O hits "$@"
	_ae_hits+=("${(@)hits}")
	builtin compadd "$@"
}
_ae_report() {
	print -rl -- '<<ae>>'${^_ae_hits}
	print -r -- '<<ae-end>>'
	_ae_hits=()
	compstate[insert]=''
	compstate[list]=''
}
_ae_complete() {
	comppostfuncs=(_ae_report)
	_main_complete "$@"
}
zle -C ae-complete complete-word _ae_complete
bindkey '^I' ae-complete
print -r -- '<<ae-'ready'>>'
EOF
# zsh -f zsh_drive SETUP LINE...: each LINE typed, Tab, the line erased
cat >"$TMP/zsh_drive" <<'EOF'
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "source ${(q)1}"
shift
local line
while zpty -r z line; do [[ $line == *'<<ae-ready>>'* ]] && break; done
for req in "$@"; do
	print -r -- "== $req"
	zpty -w -n z $'\C-u'"$req"$'\t'
	while zpty -r z line; do
		line=${line//$'\r'/}
		line=${line%$'\n'}
		[[ $line == *'<<ae-end>>'* ]] && break
		[[ $line == *'<<ae>>'* ]] && print -r -- "${line#*<<ae>>}"
	done
done
zpty -d z
EOF

# zsh_ask OUT [LINES-FILE]: the sections of each line into OUT
zsh_ask() {
	mkdir -p "$TMP/zfunc"
	cp "$ZSH_FILE" "$TMP/zfunc/_agent-exec"
	_lines=${2:-$TMP/lines}
	# shellcheck disable=SC2046 # one argument a line
	(
		IFS='
'
		set -f
		PATH="$TMP/bin:$PATH" HOME="$TMP/home" TERM=dumb \
			AE_ZSH_FPATH="$TMP/zfunc" AE_ZSH_SOURCE="${AE_ZSH_SOURCE:-}" \
			limit zsh -f "$TMP/zsh_drive" "$TMP/zsh_setup" $(cat "$_lines")
	) >"$1" 2>"$1.err"
}

if ! command -v zsh >/dev/null 2>&1; then
	echo "# skip: zsh not installed (no test of $ZSH_FILE; tests/deps.sh installs it as root)"
elif ! zsh -f -c 'zmodload zsh/zpty' >/dev/null 2>&1; then
	echo "# skip: zsh without its zsh/zpty module (no test of $ZSH_FILE)"
else
	zsh_ask "$TMP/zsh.out"
	check_shell zsh "$TMP/zsh.out" KILL ""
	check_eq "zsh: nothing on stderr" "$(cat "$TMP/zsh.out.err")" ""
	# sourced after compinit rather than autoloaded
	printf '%s\n' "agent-exec wait --" "agent-exec --root $ROOT kill " >"$TMP/lines.src"
	AE_ZSH_SOURCE=$ZSH_FILE zsh_ask "$TMP/zsh_src.out" "$TMP/lines.src"
	check_eq "zsh, the file sourced after compinit: 'wait --' gives wait's options" \
		"$(section "$TMP/zsh_src.out" "agent-exec wait --")" "$(opts_of wait)"
	check_eq "zsh, the file sourced after compinit: 'kill ' offers the running job" \
		"$(section "$TMP/zsh_src.out" "agent-exec --root $ROOT kill ")" "$running"
fi

# ---- fish -----------------------------------------------------------------

# fish_ask OUT: the sections of each line into OUT (fish prints a candidate
# and its description, a tab between)
fish_ask() {
	mkdir -p "$TMP/fishcomp"
	cp "$FISH_FILE" "$TMP/fishcomp/agent-exec.fish"
	# shellcheck disable=SC2016,SC2046 # for fish; one argument a line
	(
		IFS='
'
		set -f
		PATH="$TMP/bin:$PATH" HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" \
			limit fish --no-config -c '
			set -p fish_complete_path $argv[1]
			for line in $argv[2..-1]
				echo "== $line"
				complete -C $line
			end' "$TMP/fishcomp" $(cat "$TMP/lines")
	) >"$1" 2>"$1.err"
}

if ! command -v fish >/dev/null 2>&1; then
	echo "# skip: fish not installed (no test of $FISH_FILE; tests/deps.sh installs it as root)"
else
	fish_ask "$TMP/fish.out"
	check_shell fish "$TMP/fish.out" --signal=KILL "$TMP/"
	check_eq "fish: nothing on stderr" "$(cat "$TMP/fish.out.err")" ""
fi

# ---- the jobs end --------------------------------------------------------------

ae kill --signal KILL "$running" >/dev/null
wait_for "the running job is killed" 10 is_state "$running" killed
