#!/bin/sh
# The documentation that ships beside the binary: the manual page
# (agent-exec.1) is clean for mandoc and documents every long option the
# binary's --help mentions, every command and every error code of README's
# table; the bash completion (completion/agent-exec.bash) completes
# commands, options, option values and job ids. The option and command
# lists come from the binary itself, so a new one without docs fails here.
# Runs from the repository root (tests/run.sh does); AE_MAN and
# AE_COMPLETION name other files to check.
. "$(dirname "$0")/lib.sh"

MAN=${AE_MAN:-agent-exec.1}
COMPLETION=${AE_COMPLETION:-completion/agent-exec.bash}
README=${AE_README:-README.md}

check "the manual page exists" test -s "$MAN"
check "the bash completion exists" test -s "$COMPLETION"

# ---- mandoc lint -----------------------------------------------------------

if command -v mandoc >/dev/null 2>&1; then
	capture mandoc -T lint -W warning "$MAN"
	if [ "$RC" = 0 ] && [ -z "$OUT$ERR" ]; then
		ok "mandoc -T lint -W warning $MAN: no message, exit 0"
	else
		not_ok "mandoc -T lint -W warning $MAN: no message, exit 0"
		echo "#   exit $RC"
		printf '%s\n%s\n' "$OUT" "$ERR" | grep . | head -n 20 | sed 's/^/#   /'
	fi
else
	echo "# skip: mandoc not installed (no lint of $MAN)"
fi

# ---- every command and long option of --help is in the manual -------------

# The commands, from the overview's "Commands:" list: the leading lower-case
# words of each line ("tag set JOB_ID ..." is "tag set").
"$AE_BIN" --help >"$TMP/overview" 2>&1
awk '/^Commands:/ { on = 1; next }
	on && /^[^ ]/ { exit }
	on && NF {
		name = $1
		for (i = 2; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++)
			name = name " " $i
		print name
	}' "$TMP/overview" >"$TMP/commands"
check_between "the overview lists the commands" \
	"$(wc -l <"$TMP/commands" | tr -d ' ')" 10 1000

# The long options any help text mentions: the overview's and each command's
# (--name, --name-more; "--since-*" counts as --since, an option too).
cp "$TMP/overview" "$TMP/help"
while IFS= read -r command; do
	# shellcheck disable=SC2086 # "tag set" is two words
	"$AE_BIN" $command --help >>"$TMP/help" 2>&1
done <"$TMP/commands"
grep -oE -e '--[a-z][a-z0-9]*(-[a-z0-9]+)*' "$TMP/help" | sort -u >"$TMP/options"
check_between "the help texts mention long options" \
	"$(wc -l <"$TMP/options" | tr -d ' ')" 20 1000
# The help does not show every option (--verbose, --stdin-file, ...): where
# the sources are here, the option table of cli.c ({ "name", O_..., ... })
# adds the rest.
if [ -f cli.c ]; then
	sed -n 's/^[[:space:]]*{ "\([a-z][a-z0-9-]*\)", O_.*/--\1/p' cli.c >"$TMP/table"
	check_between "cli.c's option table lists options" \
		"$(wc -l <"$TMP/table" | tr -d ' ')" 20 1000
	sort -u "$TMP/options" "$TMP/table" >"$TMP/all" && mv "$TMP/all" "$TMP/options"
else
	echo "# note: no cli.c here: only the options of --help are checked"
fi

# What the manual documents: the options that head a list item
# (".It Fl \-timeout Ar ms", ".It Fl h , Fl \-help"), and the command
# subsections (".Ss tag set").
sed -n 's/^\.It //p' "$MAN" | grep -oE 'Fl \\?-[a-z][a-z0-9-]*' |
	sed 's/^Fl \\*-/--/' | sort -u >"$TMP/man_options"
while IFS= read -r option; do
	if grep -qxF -e "$option" "$TMP/man_options"; then
		ok "the manual documents $option (an item of its own)"
	else
		not_ok "the manual documents $option (an item of its own)"
		printf '#   no ".It ... Fl \\%s" line in %s\n' "${option#-}" "$MAN"
	fi
done <"$TMP/options"

# each_listed WANTED FOUND DESC MACRO: every line of the file WANTED is a
# line of the file FOUND (what the manual has after MACRO)
each_listed() {
	while IFS= read -r _item; do
		if grep -qxF -e "$_item" "$2"; then
			ok "$3 $_item"
		else
			not_ok "$3 $_item"
			echo "#   no '$4 $_item' line in $MAN"
		fi
	done <"$1"
}

sed -n 's/^\.Ss  *//p' "$MAN" | sed 's/^"\(.*\)"$/\1/' >"$TMP/man_sections"
each_listed "$TMP/commands" "$TMP/man_sections" \
	"the manual has a section for the command" .Ss

# ---- every error code of README's table is in the manual --------------------

awk '/^\| Code \| Meaning \|/ { on = 1; next }
	on && !/^\|/ { exit }
	on' "$README" | sed -n 's/^| `\([a-z_]*\)` |.*/\1/p' >"$TMP/codes"
check_between "README's error table lists codes" \
	"$(wc -l <"$TMP/codes" | tr -d ' ')" 10 1000
sed -n 's/^\.It Er  *\([a-z_]*\).*/\1/p' "$MAN" >"$TMP/man_codes"
each_listed "$TMP/codes" "$TMP/man_codes" \
	"the manual documents the error code" ".It Er"

# The codes the sources raise (error_set/error_errno with a code; io_error
# is error_errno's default) must be in the manual too, where the sources are.
if ls ./*.c >/dev/null 2>&1; then
	{
		grep -ohE 'error_(set|errno)\([^,]*, *"[a-z_]+"' ./*.c |
			sed 's/.*"\([a-z_]*\)"$/\1/'
		echo io_error
	} | sort -u | grep -vxF -f "$TMP/codes" >"$TMP/source_codes"
	each_listed "$TMP/source_codes" "$TMP/man_codes" \
		"the manual documents the error code (raised in the sources)" ".It Er"
fi

# ---- the bash completion -----------------------------------------------------

if ! command -v bash >/dev/null 2>&1; then
	echo "# skip: bash not installed (no test of $COMPLETION)"
	exit 0
fi

# "agent-exec" on the simulated command line is the binary under test.
mkdir -p "$TMP/bin" "$TMP/home"
case $AE_BIN in
/*) ln -s "$AE_BIN" "$TMP/bin/agent-exec" ;;
*) ln -s "$PWD/$AE_BIN" "$TMP/bin/agent-exec" ;;
esac

# complete LINE: the candidates the completion function gives for LINE (the
# cursor at its end), one a line, in bash under set -u, as readline would
# call it. Its stderr goes to $TMP/complete.err.
complete_line() {
	PATH="$TMP/bin:$PATH" HOME="$TMP/home" bash -c '
		set -u
		. "$1" || exit 1
		COMP_LINE=$2
		COMP_POINT=${#COMP_LINE}
		read -r -a COMP_WORDS <<<"$COMP_LINE"
		case $COMP_LINE in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_TYPE=9
		COMP_KEY=9
		_agent_exec
		for word in ${COMPREPLY[@]+"${COMPREPLY[@]}"}; do
			printf "%s\n" "$word"
		done' bash "$COMPLETION" "$1" 2>>"$TMP/complete.err"
}
# candidates_are DESC LINE WANT: the candidates for LINE, sorted and joined
# with spaces, are WANT.
candidates_are() {
	check_eq "$1" "$(complete_line "$2" | sort | tr '\n' ' ' | sed 's/ $//')" "$3"
}
# candidates_include DESC LINE WORD...: each WORD is a candidate for LINE.
candidates_include() {
	_desc=$1
	_line=$2
	shift 2
	complete_line "$_line" >"$TMP/candidates"
	_missing=""
	for _word in "$@"; do
		grep -qxF -e "$_word" "$TMP/candidates" || _missing="$_missing $_word"
	done
	if [ -z "$_missing" ]; then
		ok "$_desc"
	else
		not_ok "$_desc"
		echo "#   missing:$_missing; got: $(tr '\n' ' ' <"$TMP/candidates" | head -c 400)"
	fi
}
: >"$TMP/complete.err"

candidates_are "completion: 'agent-exec st' gives start and status" \
	"agent-exec st" "start status"
# shellcheck disable=SC2046 # one argument a command
candidates_include "completion: 'agent-exec ' gives every command" \
	"agent-exec " $(cut -d' ' -f1 "$TMP/commands" | sort -u)
candidates_are "completion: 'agent-exec notify ' gives set and redeliver" \
	"agent-exec notify " "redeliver set"
candidates_are "completion: 'agent-exec run --ti' gives --timeout" \
	"agent-exec run --ti" "--timeout"
candidates_are "completion: 'agent-exec wait --' gives wait's and the global options" \
	"agent-exec wait --" "--any --exit-status --forever --help --lines --max-bytes --meta --poll --poll-ms --queue --root --state --tag --tail-lines --timeout-ms --until --verbose --version"
candidates_include "completion: 'agent-exec kill --signal ' includes TERM and KILL" \
	"agent-exec kill --signal " TERM KILL
candidates_are "completion: 'agent-exec list --state r' gives running" \
	"agent-exec list --state r" "running"
candidates_are "completion: 'agent-exec log --stream ' gives the streams" \
	"agent-exec log --stream " "full stderr stdout"
candidates_are "completion: '--output-match-type ' gives contains and regex" \
	"agent-exec notify set X --output-match-type " "contains regex"
candidates_are "completion: 'agent-exec write --timeout 1' gives durations" \
	"agent-exec write --timeout 1" "10s 1m 1s"
candidates_are "completion: after --env K=V, run's options still complete" \
	"agent-exec run --env A=B --kill" "--kill-after --kill-leftovers"

mkdir "$TMP/dir-one" "$TMP/dir-two"
: >"$TMP/dir-file"
candidates_are "completion: 'run --cwd DIR' completes directories only" \
	"agent-exec run --cwd $TMP/dir-" "$TMP/dir-one $TMP/dir-two"

first=$(job_id "$(ae run -- true)")
second=$(job_id "$(ae run -- true)")
check_match "two jobs to complete" "$first $second" '^[0-9A-Z]{26} [0-9A-Z]{26}$'
candidates_include "completion: 'agent-exec --root ROOT status ' lists both job ids" \
	"agent-exec --root \"$ROOT\" status " "$first" "$second"
candidates_include "completion: 'agent-exec status --root ROOT ' lists both job ids" \
	"agent-exec status --root $ROOT " "$first" "$second"
candidates_are "completion: without --root, not the ids of another root" \
	"agent-exec status " ""
candidates_are "completion: 'agent-exec start ' on ROOT: no created job, no id" \
	"agent-exec --root $ROOT start " ""

check_eq "completion: nothing on stderr under set -u" "$(cat "$TMP/complete.err")" ""
