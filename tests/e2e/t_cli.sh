#!/bin/sh
# The command line: help, version, usage errors (exit 2, empty stdout),
# global options anywhere, --opt=value, -v on stderr only, root resolution.
. "$(dirname "$0")/lib.sh"

# ---- help and version ------------------------------------------------------

for args in --help -h help "help run" "run --help" "status -h" "tag --help" \
	"notify -h"; do
	# shellcheck disable=SC2086 # word splitting of args is wanted
	capture "$AE_BIN" $args
	if [ "$RC" = 0 ] && [ "$OUT_BYTES" -gt 0 ] &&
		printf '%s\n' "$OUT" | grep -q 'Usage'; then
		ok "'$args' prints help on stdout, exit 0"
	else
		not_ok "'$args' prints help on stdout, exit 0"
		echo "#   exit $RC, stdout: $(printf '%s' "$OUT" | head -c 200)"
	fi
done
capture "$AE_BIN" help run
check_contains "help run describes run's options" "$OUT" "--snapshot-after"
capture "$AE_BIN" run --help
check_contains "run --help describes run's options" "$OUT" "--snapshot-after"
capture "$AE_BIN" --help
check_contains "--help lists the commands" "$OUT" "status"

# the overview: every command with a one-line description; each command's
# help ends with an example of that command
capture "$AE_BIN" help
printf '%s\n' "$OUT" | awk '/^Commands:/ { on = 1; next } on && !NF { exit }
	on { print }' >"$TMP/commands"
check_eq "help lists 24 commands (ps and rm, the newer names, among them)" "$(wc -l <"$TMP/commands" | tr -d ' ')" 24
check_eq "... each with a description (a capitalised sentence)" \
	"$(grep -cvE '^  [a-z][a-z -]* +[A-Z].{10,}$' "$TMP/commands")" 0
for command in run create start status tail write log events wait kill list \
	"tag set" "notify set" "notify redeliver" gc delete schema install-skills help; do
	# shellcheck disable=SC2086 # "tag set" is two words
	last=$("$AE_BIN" help $command | tail -n 1)
	case $last in
	"\$ agent-exec $command"*) ok "help $command ends with an example" ;;
	*) not_ok "help $command ends with an example"; echo "#   last line: $last" ;;
	esac
done

capture "$AE_BIN" tag --help
check_contains "tag --help is the help of tag set" "$OUT" "agent-exec tag set JOB_ID"

# each help example typed as shown (in a scratch directory, with a root
# and a HOME of its own) is no usage error (exit 2): ids that name no job
# are answered job_not_found, what follows is stopped after 3 s
ex=$TMP/examples
mkdir -p "$ex/home"
for command in run create start restart status tail write log events wait \
	kill list "tag set" "notify set" "notify redeliver" gc delete schema \
	install-skills summary help; do
	# shellcheck disable=SC2086 # "tag set" is two words
	"$AE_BIN" help $command | sed -n 's/^\$ agent-exec //p'
done >"$ex/lines"
while IFS= read -r line; do
	(cd "$ex" && HOME=$ex/home exec sh -c "exec \"\$0\" --root \"\$1\" $line" \
		"$AE_BIN" "$ex/root" </dev/null >/dev/null 2>"$ex/err") &
	wait_status $! 3
	case $WAIT_STATUS in
	2) not_ok "help's example 'agent-exec $line' is a usage error"
		echo "#   $(head -n 1 "$ex/err")" ;;
	*) ok "help's example 'agent-exec $line' parses (exit $WAIT_STATUS)" ;;
	esac
done <"$ex/lines"
check_eq "... every command's help has one" "$(wc -l <"$ex/lines" | tr -d ' ')" 21

capture "$AE_BIN" --version
check_eq "--version exits 0" "$RC" 0
check_match "--version prints 'agent-exec <version>'" "$OUT" \
	'^agent-exec [0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$'
check_eq "--version prints one line" "$OUT_LINES" 1

# ---- usage errors ------------------------------------------------------------

check_usage_error "no arguments: usage error" "$AE_BIN"
check_usage_error "unknown command" ae frobnicate
check_usage_error "unknown option of status" ae status --bogus 01ABC
check_usage_error "unknown option of run" ae run --bogus -- true
check_usage_error "an option of another command (run --signal)" \
	ae run --signal TERM -- true
check_usage_error "an unknown short option" ae -x list

# a slip gets the nearest name, and the hint names the command's help
check_usage_error "a misspelt command" ae stauts 01ABC
check_contains "stauts: did you mean status" "$ERR" \
	'unknown command "stauts" (did you mean "status"?)'
check_usage_error "a misspelt option" ae run --wiat -- true
check_contains "--wiat: did you mean --wait" "$ERR" \
	'unknown option --wiat (did you mean --wait?)'
check_contains "the hint names 'help run'" "$ERR" "Try 'agent-exec help run'"
check_usage_error "a misspelt option of tail" ae tail --tail-line 3 01ABC
check_contains "--tail-line: did you mean --tail-lines" "$ERR" \
	"did you mean --tail-lines?"
check_usage_error "a misspelt group" ae notfy set 01ABC
check_contains "notfy: did you mean notify" "$ERR" '(did you mean "notify"?)'
check_usage_error "a word far from every command" ae frobnicate
check_lacks "no suggestion when nothing is near" "$ERR" "did you mean"
check_contains "the hint names 'help'" "$ERR" "Try 'agent-exec help'"
check_usage_error "an unknown option with a value" ae run --bogus=s3cret -- true
check_lacks "the value of an unknown option is not echoed" "$ERR" s3cret
check_usage_error "missing value at the end (tail --tail-lines)" \
	ae tail 01ABC --tail-lines
check_usage_error "missing value of --root" "$AE_BIN" list --root
check_usage_error "negative number (--tail-lines -1)" \
	ae run --tail-lines -1 -- true
check_usage_error "non-numeric number (--snapshot-after abc)" \
	ae run --snapshot-after abc -- true
check_usage_error "fractional number (wait --timeout-ms 1.5)" \
	ae wait --timeout-ms 1.5 01ABC
check_usage_error "empty number (list --limit '')" ae list --limit ''
check_usage_error "number with a sign (--max-bytes +5)" \
	ae tail --max-bytes +5 01ABC
check_usage_error "single-valued option twice (--timeout 1 --timeout 2)" \
	ae run --timeout 1 --timeout 2 -- true
check_usage_error "flag twice (--wait --wait)" ae run --wait --wait -- true
check_usage_error "flag with a value (--wait=yes)" ae run --wait=yes -- true
check_usage_error "--inherit-env with --no-inherit-env" \
	ae run --inherit-env --no-inherit-env -- true
check_usage_error "list --all --cwd" ae list --all --cwd /tmp
check_usage_error "list --state bogus" ae list --state bogus
check_usage_error "run without a command" ae run
check_usage_error "run with options but no command" ae run --wait --
check_usage_error "status without an id" ae status
check_usage_error "status with two ids" ae status a b
check_usage_error "kill --signal without a value" ae kill 01ABC --signal
check_usage_error "help for an unknown command" ae help frobnicate
check_usage_error "list takes no positional argument" ae list extra
check "usage errors did not create the root" test ! -e "$ROOT"
capture ae list --all
check_eq "usage errors created no job" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"list","root":"'"$ROOT"'","cwd_scope":null,"jobs":[],"truncated":false,"skipped":0}'

# ---- global options anywhere, --opt=value, trailing command --------------

id=$(job_id "$(ae run --wait -- sh -c 'echo one; echo two')")
check_match "a job to ask about" "$id" "$ID_RE"
capture "$AE_BIN" --root "$ROOT" status "$id"
before=$OUT
check_eq "--root before the command" \
	"$(json_str job_id "$OUT") $(json_str state "$OUT")" "$id exited"
capture "$AE_BIN" status "$id" --root "$ROOT"
check_eq "--root after the command answers the same" "$OUT" "$before"
capture "$AE_BIN" status --root="$ROOT" "$id"
check_eq "--root=PATH form" "$OUT" "$before"
capture "$AE_BIN" --root="$ROOT" tail --tail-lines=1 "$id"
check_eq "--tail-lines=1 form" "$(json_str stdout_tail "$OUT")" two
out=$(ae run --snapshot-after=0 --wait-poll-ms=5 -- true)
check_eq "run --snapshot-after=0 form (waited_ms 0)" \
	"$(json_num waited_ms "$out")" 0
capture ae status "$id"
check_eq "a successful command writes nothing on stderr" "$ERR" ""

# words after the command's first word belong to the command
out=$(ae run --wait -- echo --root /nowhere -v --help)
check_eq "options after the command words belong to the command" \
	"$(json_str stdout_tail "$out")" "--root /nowhere -v --help"
out=$(ae run --wait -- -v x)
check_eq "after --, a word starting with - is the command" \
	"$(json_str state "$out")" failed

for verbose in -v -vv; do
	capture "$AE_BIN" "$verbose" --root "$ROOT" status "$id"
	check_eq "$verbose before the command: stdout unchanged" "$OUT" "$before"
	check_eq "$verbose before the command: one line on stdout" \
		"$OUT_LINES" 1
	capture "$AE_BIN" --root "$ROOT" status "$id" "$verbose"
	check_eq "$verbose after the command: stdout unchanged" "$OUT" "$before"
done
capture "$AE_BIN" -vv --root "$ROOT" status "$id"
check "-vv writes diagnostics on stderr" test -n "$ERR"
capture "$AE_BIN" -v -v --root "$ROOT" status "$id"
check_eq "-v -v (counted flag) is accepted" "$RC" 0
capture "$AE_BIN" -vv --root "$ROOT" status 01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_eq "-vv keeps a JSON error on stdout" \
	"$(json_str code "$OUT") $OUT_LINES" "job_not_found 1"

# ---- root resolution ---------------------------------------------------------

mkdir -p "$TMP/home" "$TMP/cwd"
# list_root ENV-ASSIGNMENTS...: the root that list --all reports.
list_root() {
	(
		unset AGENT_EXEC_ROOT XDG_DATA_HOME
		for assignment in "$@"; do
			export "${assignment?}"
		done
		cd "$TMP/cwd" && "$AE_BIN" list --all
	) | sed -n 's/^.*"root":"\([^"]*\)".*$/\1/p'
}
check_eq "\$AGENT_EXEC_ROOT is used" \
	"$(list_root AGENT_EXEC_ROOT="$TMP/envroot" XDG_DATA_HOME="$TMP/xdg" HOME="$TMP/home")" \
	"$TMP/envroot"
check_eq "\$XDG_DATA_HOME/agent-exec/jobs comes next" \
	"$(list_root XDG_DATA_HOME="$TMP/xdg" HOME="$TMP/home")" \
	"$TMP/xdg/agent-exec/jobs"
check_eq "an empty \$AGENT_EXEC_ROOT is ignored" \
	"$(list_root AGENT_EXEC_ROOT= XDG_DATA_HOME="$TMP/xdg" HOME="$TMP/home")" \
	"$TMP/xdg/agent-exec/jobs"
check_eq "\$HOME/.local/share/agent-exec/jobs is last" \
	"$(list_root HOME="$TMP/home")" \
	"$TMP/home/.local/share/agent-exec/jobs"
check_eq "an empty \$XDG_DATA_HOME is ignored" \
	"$(list_root XDG_DATA_HOME= HOME="$TMP/home")" \
	"$TMP/home/.local/share/agent-exec/jobs"
out=$(
	cd "$TMP/cwd" &&
		AGENT_EXEC_ROOT="$TMP/envroot" "$AE_BIN" --root "$TMP/flagroot" list --all
)
check_eq "--root wins over \$AGENT_EXEC_ROOT" "$(json_str root "$out")" \
	"$TMP/flagroot"
out=$(cd "$TMP/cwd" && "$AE_BIN" --root rel/jobs list --all)
check_eq "a relative --root is shown verbatim" "$(json_str root "$out")" \
	rel/jobs

# the resolved root is really where jobs go
out=$(cd "$TMP/cwd" && AGENT_EXEC_ROOT="$TMP/envroot" "$AE_BIN" run --wait -- true)
env_id=$(job_id "$out")
check "a job run with \$AGENT_EXEC_ROOT lives there" \
	test -f "$TMP/envroot/$env_id/meta.json"
out=$(cd "$TMP/cwd" && AGENT_EXEC_ROOT="$TMP/envroot" "$AE_BIN" status "$env_id")
check_eq "status finds it through \$AGENT_EXEC_ROOT" "$(json_str state "$out")" \
	exited
out=$(
	cd "$TMP/cwd" && unset AGENT_EXEC_ROOT XDG_DATA_HOME &&
		HOME="$TMP/home" "$AE_BIN" run --wait -- true
)
check "a job run with only \$HOME lives under ~/.local/share" \
	test -d "$TMP/home/.local/share/agent-exec/jobs/$(job_id "$out")"
out=$(cd "$TMP/cwd" && "$AE_BIN" --root rel/jobs run --wait -- true)
rel_id=$(job_id "$out")
check "a relative root is relative to the caller's directory" \
	test -f "$TMP/cwd/rel/jobs/$rel_id/meta.json"
case $(json_str stdout_log_path "$out") in
/*/rel/jobs/"$rel_id"/stdout.log) ok "log paths are absolute with a relative root" ;;
*) not_ok "log paths are absolute with a relative root"
	echo "#   $(json_str stdout_log_path "$out")" ;;
esac
