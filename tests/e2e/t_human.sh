#!/bin/sh
# --human (-H) on list, ps, status and summary (issue 18): tables and
# "key  value" lines for a person, rendered from the JSON answer; control
# characters shown as '?'; errors on stderr; JSON otherwise, under a
# terminal too.
. "$(dirname "$0")/lib.sh"

done_id=$(job_id "$(ae run --wait -- sh -c 'exit 3')")
short=$(printf '%s' "$done_id" | cut -c21-26)
capture ae list -H
check_eq "list -H: exit 0, a header and one row" "$RC $OUT_LINES" "0 2"
check_match "... the header names the columns" "$(printf '%s\n' "$OUT" | head -n 1)" '^ID +STATE +EXIT +STARTED +COMMAND$'
check_match "... the row: short id, state, exit code, start, command" \
	"$(printf '%s\n' "$OUT" | sed -n 2p)" "^$short +exited +3 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +sh -c exit 3\$"
capture ae list --human --state running
check_eq "list --human with nothing to show: the header alone" "$OUT_LINES" 1

rm -f "$TMP/go"
run_id=$(start_job -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' w "$TMP/go")
capture ae ps -H
check_eq "ps -H: the running job alone" "$(printf '%s\n' "$OUT" | sed -n 2p | awk '{ print $1, $2 }')" \
	"$(printf '%s' "$run_id" | cut -c21-26) running"
check_eq "... two lines" "$OUT_LINES" 2
capture ae summary -H
check_eq "summary -H: the counts on one line" "$(printf '%s\n' "$OUT" | head -n 1)" "jobs: 1 running, 1 exited"
check_contains "... then the running job in a table" "$OUT" "$(printf '%s' "$run_id" | cut -c21-26)  running"
: >"$TMP/go"
wait_for "the job ends" 10 is_state "$run_id" exited

capture ae status -H "$done_id"
check_eq "status -H: exit 0" "$RC" 0
check_match "... a state line" "$OUT" "state +exited"
check_match "... an exit_code line" "$OUT" "exit_code +3"
check_match "... the command's words" "$OUT" "command +sh -c exit 3"
check_match "... an object's members as key.member" "$OUT" "notification\\.delivery +none"
check "... no JSON" sh -c 'case $1 in *"{\""*) exit 1 ;; esac' x "$OUT"

# control characters in the job's words never reach the terminal
esc=$(printf '\033')
ctl_id=$(job_id "$(ae run --wait -- echo "a${esc}[31mred")")
capture ae list -H
check_contains "control characters in a command show as ?" "$OUT" "echo a?[31mred"
check "... no escape character on stdout" sh -c 'case $1 in *"$2"*) exit 1 ;; esac' x "$OUT" "$esc"
capture ae status -H "$ctl_id"
check "... nor in status -H" sh -c 'case $1 in *"$2"*) exit 1 ;; esac' x "$OUT" "$esc"

capture ae status -H NOSUCHJOB
check_eq "status -H of an unknown job: exit 1, nothing on stdout" "$RC $OUT_BYTES" "1 0"
check_match "... one line on stderr with the message and the code" "$ERR" '^agent-exec: .* \(job_not_found\)$'
check_usage_error "-H on run: a usage error" "$AE_BIN" --root "$ROOT" run -H -- true

# never chosen by the terminal: under a pseudo-terminal, JSON
id=$(job_id "$(ae run --pty --wait -- "$AE_BIN" --root "$ROOT" list)")
check_match "list on a terminal without -H: JSON" "$(head -c 20 "$ROOT/$id/stdout.log")" '^\{"schema_version"'
