#!/bin/sh
# Whose stdin a job reads (issue 18): by default never this command's own
# (a read loop keeps its lines, an open pipe never holds run); --stdin - on
# a terminal is stdin_required at once; --stdin-auto and
# AGENT_EXEC_STDIN=auto forward a piped stdin and nothing else.
. "$(dirname "$0")/lib.sh"

count_dirs() { find "$ROOT" -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | wc -l | tr -d ' '; }
# on_terminal CMD...: run CMD inside a job on a pseudo-terminal (its stdin
# a terminal), print what it printed there (the job's stdout.log).
on_terminal() {
	_id=$(job_id "$(ae run --pty --wait -- "$@")")
	cat "$ROOT/$_id/stdout.log"
}

# ---- the default: this command's stdin is left alone ----

printf 'h1\nh2\nh3\n' >"$TMP/hosts"
: >"$TMP/seen"
while read -r host; do
	echo "$host" >>"$TMP/seen"
	ae run --wait -- sh -c 'cat; echo end' >/dev/null
done <"$TMP/hosts"
check_eq "a read loop around run keeps every line" "$(tr '\n' ' ' <"$TMP/seen")" "h1 h2 h3 "
capture sh -c 'echo piped | "$1" --root "$2" run --wait -- cat' x "$AE_BIN" "$ROOT"
check_eq "a piped stdin is not forwarded by default" "$(json_str stdout_tail "$OUT")" ""
mkfifo "$TMP/fifo"
# read-write: a pipe that never reaches end of file
capture timeout 20 "$AE_BIN" --root "$ROOT" run --wait -- echo quick <>"$TMP/fifo"
check_eq "an open pipe on stdin never holds run" "$RC $(json_str stdout_tail "$OUT")" "0 quick"

# ---- --stdin - on a terminal ----

before=$(count_dirs)
out=$(on_terminal "$AE_BIN" --root "$ROOT" run --stdin - -- cat)
check_contains "--stdin - on a terminal: stdin_required at once" "$out" '"code":"stdin_required"'
check_contains "... the message says to pipe the input in" "$out" "pipe the input in"
check_eq "... nothing created (only the outer job)" "$(count_dirs)" "$((before + 1))"
id=$(start_job --interactive -- cat)
out=$(on_terminal "$AE_BIN" --root "$ROOT" write --stdin "$id")
check_contains "write --stdin on a terminal: stdin_required" "$out" '"code":"stdin_required"'
ae kill --signal KILL "$id" >/dev/null
out=$(on_terminal "$AE_BIN" --root "$ROOT" run --wait --stdin-auto -- sh -c 'cat; echo got-eof')
check_contains "--stdin-auto on a terminal: no input (the job reads end of file)" "$out" "got-eof"
check_contains "... and runs (ok:true)" "$out" '"ok":true'

# ---- --stdin-auto, AGENT_EXEC_STDIN ----

capture sh -c 'printf "one\ntwo\n" | "$1" --root "$2" run --wait --stdin-auto -- cat' x "$AE_BIN" "$ROOT"
check_eq "--stdin-auto forwards a piped stdin" "$(json_str stdout_tail "$OUT")" 'one\ntwo'
capture ae run --wait --stdin-auto -- cat <"$TMP/hosts"
check_eq "--stdin-auto forwards a file on stdin" "$(json_str stdout_tail "$OUT")" 'h1\nh2\nh3'
capture ae run --wait --stdin-auto -- sh -c 'cat; echo eof' </dev/null
check_eq "--stdin-auto from /dev/null: no input" "$(json_str stdout_tail "$OUT")" eof
capture sh -c 'echo viaenv | AGENT_EXEC_STDIN=auto "$1" --root "$2" run --wait -- cat' x "$AE_BIN" "$ROOT"
check_eq "AGENT_EXEC_STDIN=auto forwards a piped stdin" "$(json_str stdout_tail "$OUT")" viaenv
capture sh -c 'echo piped | AGENT_EXEC_STDIN=auto "$1" --root "$2" run --wait --stdin given -- cat' x "$AE_BIN" "$ROOT"
check_eq "... an input option of the command wins" "$(json_str stdout_tail "$OUT")" given
capture sh -c 'echo piped | AGENT_EXEC_STDIN=none "$1" --root "$2" run --wait -- cat' x "$AE_BIN" "$ROOT"
check_eq "AGENT_EXEC_STDIN=none: no input" "$(json_str stdout_tail "$OUT")" ""
before=$(count_dirs)
AGENT_EXEC_STDIN=bogus
export AGENT_EXEC_STDIN
check_error "AGENT_EXEC_STDIN=bogus: invalid_config" invalid_config \
	ae run -- true
unset AGENT_EXEC_STDIN
check_contains "... naming the variable and the value" "$OUT" 'AGENT_EXEC_STDIN: invalid value \"bogus\"'
check_eq "... nothing created" "$(count_dirs)" "$before"
check_usage_error "--stdin-auto with --stdin: a usage error" \
	"$AE_BIN" --root "$ROOT" run --stdin-auto --stdin x -- cat
check_usage_error "--stdin-auto with --pty: a usage error" \
	"$AE_BIN" --root "$ROOT" run --stdin-auto --pty -- cat
id=$(job_id "$(echo later | ae create --stdin-auto -- cat)")
capture ae start --wait "$id"
check_eq "create --stdin-auto keeps the piped bytes for start" "$(json_str stdout_tail "$OUT")" later
