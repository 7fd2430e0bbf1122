#!/bin/sh
# The supervisor: a lost supervisor is noticed (failed/supervisor_lost, and
# a blocked wait returns), timeout and kill-after, the one-second rule for
# descendants holding the pipes. Detachment is in t_detach.sh.
. "$(dirname "$0")/lib.sh"

# ---- a killed supervisor --------------------------------------------------------

id=$(start_job -- sleep 30)
pid=$(record_num "$id" pid)
sup=$(record_num "$id" supervisor_pid)
check_match "state.json names the supervisor" "$sup" '^[1-9][0-9]*$'
check "the supervisor runs" proc_running "$sup"
"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/wait.out" &
waiter=$!
# blocked = asleep in the kernel, not yet answered
asleep() { [ "$(proc_field "$waiter" 3)" = S ]; }
wait_for "a wait is blocked on the running job" 3 asleep
out=$(ae wait --timeout-ms 300 "$id")
check_eq "the job is running before the supervisor dies" \
	"$(json_str state "$out")" running
kill -KILL "$sup"
t0=$(now_ms)
wait_for "the blocked wait returns when the supervisor dies" 3 proc_gone "$waiter"
check_between "... within 3 s (ms)" $(($(now_ms) - t0)) 0 3000
wait "$waiter"
out=$(cat "$TMP/wait.out")
check_eq "the blocked wait answers failed" "$(json_str state "$out")" failed
check_eq "... because the supervisor was lost" "$(json_text error "$out")" \
	supervisor_lost
out=$(ae status "$id")
check_eq "status then says failed" "$(json_str state "$out")" failed
check_eq "status: error supervisor_lost" "$(json_text error "$out")" \
	supervisor_lost
check_hasnt "status: no exit_code" exit_code "$out"
check_match "status: finished_at" "$(json_str finished_at "$out")" "$TS_RE"
check_contains "state.json records it" "$(json_flat "$ROOT/$id/state.json")" \
	'"status": "failed"'
check_eq "list agrees" \
	"$(ae list --all --state failed | grep -o "\"job_id\":\"$id\"")" \
	"\"job_id\":\"$id\""
kill -KILL "-$pid" 2>/dev/null

# a supervisor lost without any reader: the next status notices
id=$(start_job -- sleep 30)
pid=$(record_num "$id" pid)
kill -KILL "$(record_num "$id" supervisor_pid)"
listed_failed() {
	ae list --all --state failed | grep -q "\"job_id\":\"$id\""
}
wait_for "list notices a lost supervisor" 3 listed_failed
check_eq "status agrees" "$(state_of "$id")" failed
out=$(ae wait "$id")
check_eq "a later wait returns at once: failed" "$(json_str state "$out")" failed
kill -KILL "-$pid" 2>/dev/null

# run --wait blocked on a job whose supervisor dies returns too
"$AE_BIN" --root "$ROOT" run --wait -- sleep 30 >"$TMP/runwait.out" &
runner=$!
job_of_runner() { ls "$ROOT" | while read -r dir; do
	grep -q '"status": *"running"' "$ROOT/$dir/state.json" 2>/dev/null &&
		[ "$dir" != "$id" ] && echo "$dir"
done | head -n 1; }
has_runner_job() { [ -n "$(job_of_runner)" ]; }
wait_for "run --wait started its job" 5 has_runner_job
id=$(job_of_runner)
pid=$(record_num "$id" pid)
kill -KILL "$(record_num "$id" supervisor_pid)"
wait_for "run --wait returns when the supervisor dies" 3 proc_gone "$runner"
out=$(cat "$TMP/runwait.out")
check_eq "... answering failed/supervisor_lost" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
kill -KILL "-$pid" 2>/dev/null

# ---- timeout and kill-after -------------------------------------------------------

t0=$(now_ms)
out=$(ae run --wait --timeout 500 -- sleep 30)
took=$(($(now_ms) - t0))
check_eq "--timeout 500 on sleep 30: killed" "$(json_str state "$out")" killed
check_eq "... by SIGTERM (15)" "$(json_str signal "$out")" 15
check_eq "... timed_out true" "$(json_bool timed_out "$out")" true
st=$(ae status "$(job_id "$out")")
check_between "... after about 0.5 s (duration_ms)" "$(json_num duration_ms "$st")" \
	400 3000
check_between "... and run --wait returned soon after (ms)" "$took" 0 3000
check_eq "status: killed, 15, timed out" \
	"$(json_str state "$st") $(json_str signal "$st") $(json_bool timed_out "$st")" \
	"killed 15 true"

t0=$(now_ms)
out=$(ae run --wait --timeout 500 --kill-after 1000 -- \
	sh -c 'trap "" TERM; sleep 30')
took=$(($(now_ms) - t0))
check_eq "TERM ignored: killed" "$(json_str state "$out")" killed
check_eq "... by SIGKILL (9) after kill-after" "$(json_str signal "$out")" 9
check_eq "... timed_out true" "$(json_bool timed_out "$out")" true
check_between "... after timeout + kill-after, about 1.5 s (duration_ms)" \
	"$(json_num duration_ms "$(ae status "$(job_id "$out")")")" 1400 9000
check_between "... and run --wait returned well under 10 s (ms)" "$took" \
	0 9000

# timed_out JSON: "timed-out" if the answer says so
timed_out() { [ "$(json_bool timed_out "$1")" = true ] && echo timed-out; }
# the largest timeouts mean "never": no overflow into an instant kill
ae run --wait --timeout 9223372036854775807 -- sleep 1 >"$TMP/big.out" &
big=$!
out=$(ae run --wait --timeout 18446744073709551615 -- sleep 1)
check_eq "--timeout 18446744073709551615: the job runs to its end" \
	"$(json_str state "$out") $(json_num exit_code "$out") $(timed_out "$out")" \
	"exited 0 "
wait "$big"
out=$(cat "$TMP/big.out")
check_eq "--timeout 9223372036854775807: the job runs to its end" \
	"$(json_str state "$out") $(json_num exit_code "$out") $(timed_out "$out")" \
	"exited 0 "

out=$(ae run --wait --timeout 5000 -- sh -c 'exit 2')
check_eq "a job ending before its timeout: exited 2" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 2"
check "... not timed out" test "$(json_bool timed_out "$out")" != true

t0=$(now_ms)
out=$(ae run --wait --timeout 500 --kill-after 10000 -- sleep 30)
check_between "kill-after is not waited for when TERM was enough (ms)" \
	$(($(now_ms) - t0)) 0 4000
check_eq "... killed by 15" "$(json_str signal "$out")" 15

# ---- the one-second rule -----------------------------------------------------------

t0=$(now_ms)
out=$(ae run --wait -- sh -c 'sleep 30 & echo $!')
took=$(($(now_ms) - t0))
check_eq "a background descendant holding the pipes: the job exited" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_between "... within about 1 s of the main process (ms)" "$took" 0 4000
lingering=$(json_str stdout_tail "$out")
check "the descendant is still running" proc_running "$lingering"
kill -KILL "$lingering" 2>/dev/null

out=$(ae run --wait -- sh -c '(sleep 2; echo late; echo "late err" >&2) & echo early')
id=$(job_id "$out")
check_eq "the job ends before its lingering descendant" \
	"$(json_str state "$out") $(json_str stdout_tail "$out")" "exited early"
late_out() { grep -q '^late$' "$ROOT/$id/stdout.log"; }
late_err() { grep -q '^late err$' "$ROOT/$id/stderr.log"; }
late_full() { grep -q '\[STDOUT\] late$' "$ROOT/$id/full.log"; }
wait_for "late output of the descendant still reaches stdout.log" 6 late_out
wait_for "... and stderr.log" 3 late_err
wait_for "... and full.log" 3 late_full
check_eq "the job's record is unchanged by late output" "$(state_of "$id")" exited

# ---- readers racing the end of short jobs never see a lost supervisor -------------

# (their own root: these jobs end by themselves)
race() { "$AE_BIN" --root "$TMP/race" "$@"; }
n=0
while [ "$n" -lt 30 ]; do
	race_id=$(job_id "$(race run --snapshot-after 0 -- \
		sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i + 1)); done')")
	for reader in 1 2 3; do
		race status "$race_id" >/dev/null &
	done
	race wait --timeout-ms 50 "$race_id" >/dev/null &
	n=$((n + 1))
done
wait
none_running() { ! race list --all --state running | grep -q '"job_id"'; }
until_true 10 none_running
out=$(race list --all)
check_eq "30 short jobs read by others as they end: all exited 0" \
	"$(printf '%s' "$out" | grep -o '"state":"exited","exit_code":0,' | wc -l | tr -d ' ')" 30
check_lacks "... none recorded as supervisor_lost" "$out" supervisor_lost
