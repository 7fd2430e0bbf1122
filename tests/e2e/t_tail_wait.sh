#!/bin/sh
# Reading output as it arrives: tail --cursor C --wait-ms N blocks until
# new bytes come, the job ends, or N ms pass (no polling by the caller);
# tail --follow streams the raw output until the job has ended.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"
# a job that prints one line each time it is released (go.1, go.2), then
# ends when go.end appears
id=$(start_job -- sh -c "
	while [ ! -e '$TMP/go.1' ]; do sleep 0.02; done; echo one
	while [ ! -e '$TMP/go.2' ]; do sleep 0.02; done; echo two >&2
	while [ ! -e '$TMP/go.end' ]; do sleep 0.02; done")
cursor=$(json_str cursor "$(ae status "$id")")
check_eq "a running job that printed nothing: cursor 0:0" "$cursor" 0:0

# blocks until new output arrives
( ae tail --cursor "$cursor" --wait-ms 20000 "$id" >"$TMP/wait.1"; now_ms >"$TMP/wait.1.at" ) &
t0=$(now_ms)
# (the tail is blocked meanwhile: in 2 s it has not answered)
until_true 2 test -s "$TMP/wait.1"
check "tail --wait-ms does not answer before output comes" test ! -s "$TMP/wait.1"
touch "$TMP/go.1"
wait_for "... then answers once the job prints" 15 test -s "$TMP/wait.1.at"
out=$(cat "$TMP/wait.1")
cp "$TMP/wait.1" "$TMP/ans/tail.1"
check_eq "... with the new bytes" "$(json_str stdout_tail "$out")" 'one\n'
check_eq "... a new cursor" "$(json_str cursor "$out")" 4:0
check_eq "... the job still running" "$(json_str state "$out")" running
check_between "... well before its 20 s (ms after the release)" \
	"$(( $(cat "$TMP/wait.1.at") - t0 ))" 0 15000

# the --since-* form, and stderr
( ae tail --since-stdout 4 --since-stderr 0 --wait-ms 20000 "$id" >"$TMP/wait.2" ) &
touch "$TMP/go.2"
wait_for "tail --since-* --wait-ms wakes on stderr too" 15 test -s "$TMP/wait.2"
check_eq "... with it" "$(json_str stderr_tail "$(cat "$TMP/wait.2")")" 'two\n'

# nothing new: the wait's time passes
t0=$(now_ms)
capture ae tail --cursor 4:4 --wait-ms 1500 "$id"
elapsed=$(( $(now_ms) - t0 ))
check_eq "nothing new within --wait-ms: the answer, no bytes, still running" \
	"$RC $(json_str stdout_tail "$OUT")|$(json_str stderr_tail "$OUT") $(json_str state "$OUT")" \
	"0 | running"
check_between "... after the wait's time (ms)" "$elapsed" 1000 20000

# the job ends while a tail waits: it answers with the final state
( ae tail --cursor 4:4 --wait-ms 20000 "$id" >"$TMP/wait.3" ) &
touch "$TMP/go.end"
wait_for "the job ends during a wait: tail answers" 15 test -s "$TMP/wait.3"
check_eq "... saying exited" "$(json_str state "$(cat "$TMP/wait.3")")" exited
t0=$(now_ms)
capture ae tail --cursor 4:4 --wait-ms 20000 "$id"
check_between "a wait on a finished job answers at once (ms)" \
	"$(( $(now_ms) - t0 ))" 0 10000
cp "$TMP/wait.3" "$TMP/ans/tail.3"
check_schema "the waited tails are tail answers" tail "$TMP/ans/tail.1" "$TMP/ans/tail.3"
wait

check_usage_error "--wait-ms without a cursor or --since-*: a usage error" \
	ae tail --wait-ms 100 "$id"
check_usage_error "--follow with --tail-lines: a usage error" \
	ae tail --follow --tail-lines 5 "$id"

# ---- tail --follow ---------------------------------------------------------------------

rm -f "$TMP/go.1" "$TMP/go.2" "$TMP/go.end"
id=$(start_job -- sh -c "
	echo first; echo err-first >&2
	while [ ! -e '$TMP/go.1' ]; do sleep 0.02; done
	echo second; echo err-second >&2")
( ae tail --follow "$id" >"$TMP/follow.out" 2>"$TMP/follow.err"; echo "$?" >"$TMP/follow.rc" ) &
wait_for "tail --follow prints the output so far, raw" 15 \
	grep -q first "$TMP/follow.out"
check "... and keeps following while the job runs" test ! -e "$TMP/follow.rc"
touch "$TMP/go.1"
wait_for "... ends once the job has ended" 15 test -s "$TMP/follow.rc"
check_eq "... exit 0" "$(cat "$TMP/follow.rc")" 0
check_eq "... stdout: every line, raw" "$(cat "$TMP/follow.out")" "first
second"
check_eq "... stderr on stderr" "$(cat "$TMP/follow.err")" "err-first
err-second"
capture ae tail --follow "$id"
check_eq "--follow of a finished job prints its output and exits 0" \
	"$RC $OUT" "0 first
second"
check_error "--follow of an unknown job: the JSON error" job_not_found \
	ae tail --follow 7ZZZZZZZZZZZZZZZZZZZZZZZZZ
capture ae tail --follow --cursor 6:10 "$id"
check_eq "--follow --cursor: on from an earlier read's cursor (stdout)" "$RC $OUT" "0 second"
check_eq "... and stderr" "$ERR" "err-second"
capture ae tail --follow --since-stdout 6 "$id"
check_eq "--follow --since-stdout N: stdout from N, all of stderr" "$OUT|$ERR" "second|err-first
err-second"
