#!/bin/sh
# wait: answers for finished jobs, --timeout-ms, waking up at once when the
# job ends (no polling delay), --poll-ms, run --wait.
. "$(dirname "$0")/lib.sh"

# ---- finished jobs -----------------------------------------------------------------

id=$(job_id "$(ae run --wait -- sh -c 'exit 7')")
capture ae wait "$id"
check_eq "wait on a finished job exits 0, one line" "$RC $OUT_LINES" "0 1"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"wait","job_id":"'"$id"'","state":"exited",'*)
	ok "wait: envelope, job_id, state" ;;
*) not_ok "wait: envelope, job_id, state"; echo "#   $OUT" ;;
esac
check_eq "wait: exit_code" "$(json_num exit_code "$OUT")" 7
check_eq "wait: timed_out false" "$(json_bool timed_out "$OUT")" false
out=$(ae wait --timeout-ms 1000 "$id")
check_eq "wait --timeout-ms on a finished job: not timed out" \
	"$(json_bool timed_out "$out") $(json_num exit_code "$out")" "false 7"

id=$(job_id "$(ae run --wait --cwd "$TMP/none" -- true)")
out=$(ae wait "$id")
check_eq "wait on a failed job: failed, no exit_code" \
	"$(json_str state "$out") $(json_has exit_code "$out" && echo code)" "failed "

# ---- --timeout-ms ------------------------------------------------------------------

id=$(start_job -- sleep 30)
t0=$(now_ms)
capture ae wait --timeout-ms 1000 "$id"
took=$(($(now_ms) - t0))
check_between "wait --timeout-ms 1000 returns after about 1 s (ms)" "$took" \
	950 3000
check_eq "timed-out wait exits 0" "$RC" 0
check_eq "timed-out wait: timed_out true" "$(json_bool timed_out "$OUT")" true
check_eq "timed-out wait: state running" "$(json_str state "$OUT")" running
check_hasnt "timed-out wait: no exit_code" exit_code "$OUT"
check_eq "the job is untouched by the timed-out wait" "$(state_of "$id")" running

# the largest timeouts mean "wait": no overflow into an instant timeout
id=$(start_job -- sleep 1)
"$AE_BIN" --root "$ROOT" wait --timeout-ms 9223372036854775807 "$id" >"$TMP/wait.big" &
big=$!
out=$(ae wait --timeout-ms 18446744073709551615 "$id")
check_eq "wait --timeout-ms 18446744073709551615 waits for the end" \
	"$(json_str state "$out") $(json_bool timed_out "$out")" "exited false"
wait "$big"
out=$(cat "$TMP/wait.big")
check_eq "wait --timeout-ms 9223372036854775807 waits for the end" \
	"$(json_str state "$out") $(json_bool timed_out "$out")" "exited false"

# ---- a blocked wait wakes up when the job ends --------------------------------------

id=$(start_job -- sh -c 'sleep 2; exit 5')
t0=$(now_ms)
"$AE_BIN" --root "$ROOT" wait --poll-ms 60000 "$id" >"$TMP/wait1.out" &
wait1=$!
"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/wait2.out" &
wait2=$!
wait_for "a blocked wait returns when the job ends" 6 proc_gone "$wait1"
check_between "... within about 4 s of the start of a 2 s job (ms)" \
	$(($(now_ms) - t0)) 1000 4000
wait "$wait1"
out=$(cat "$TMP/wait1.out")
check_eq "the blocked wait reports exited 5" \
	"$(json_str state "$out") $(json_num exit_code "$out") $(json_bool timed_out "$out")" \
	"exited 5 false"
wait_for "a second concurrent wait returns too" 3 proc_gone "$wait2"
check_eq "... with the same answer" "$(cat "$TMP/wait2.out")" "$out"

# run --wait wakes up at once too, whatever --wait-poll-ms says
t0=$(now_ms)
out=$(ae run --wait --wait-poll-ms 60000 -- sleep 2)
check_between "run --wait --wait-poll-ms 60000 on sleep 2 (ms)" \
	$(($(now_ms) - t0)) 1000 4000
check_eq "run --wait: exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"

# a wait blocked on a job that is killed
id=$(start_job -- sleep 30)
"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/wait3.out" &
wait3=$!
ae kill --signal KILL "$id" >/dev/null
wait_for "a wait returns when the job is killed" 4 proc_gone "$wait3"
out=$(cat "$TMP/wait3.out")
check_eq "... and reports killed, no exit_code" \
	"$(json_str state "$out") $(json_has exit_code "$out" && echo code)" "killed "

# ---- --poll-ms and errors --------------------------------------------------------------

id=$(job_id "$(ae run --wait -- true)")
out=$(ae wait --poll-ms 10 "$id")
check_eq "--poll-ms is accepted" "$(json_str state "$out")" exited
out=$(ae wait --poll-ms 0 "$id")
check_eq "--poll-ms 0 is accepted" "$(json_str state "$out")" exited
check_error "wait on an unknown id: job_not_found" job_not_found \
	ae wait 01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_error "wait --timeout-ms on an unknown id: job_not_found" job_not_found \
	ae wait --timeout-ms 100 01ZZZZZZZZZZZZZZZZZZZZZZZZ
