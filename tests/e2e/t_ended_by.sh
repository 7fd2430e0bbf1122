#!/bin/sh
# ended_by (issue 18): job.finished and state.json say who ended the job:
# self (an exit, or a signal of its own faults), timeout, kill (agent-exec:
# kill, delete --force), signal (another process), dependency (a failed
# --after-ok), supervisor_lost.
. "$(dirname "$0")/lib.sh"

S=$TMP/sink.ndjson
# ended ID: "STATE ENDED_BY" of job ID's job.finished, as the sink got it.
ended() {
	_l=$(grep "\"job_id\":\"$1\"" "$S" 2>/dev/null | head -n 1)
	echo "$(json_str state "$_l") $(json_str ended_by "$_l")"
}
has_event() { grep -q "\"job_id\":\"$1\"" "$S" 2>/dev/null; }
# check_ended DESC ID WANT
check_ended() {
	until_true 15 has_event "$2"
	check_eq "$1" "$(ended "$2")" "$3"
}

id=$(job_id "$(ae run --wait --notify-file "$S" -- sh -c 'exit 3')")
check_ended "an exit: ended_by self" "$id" "exited self"
check_eq "... state.json says so too" "$(json_str ended_by "$(cat "$ROOT/$id/state.json")")" self
id=$(job_id "$(ae run --wait --notify-file "$S" -- sh -c 'kill -SEGV $$')")
check_ended "a fault of its own (SIGSEGV): self" "$id" "killed self"
id=$(job_id "$(ae run --wait --notify-file "$S" --timeout 1s -- sleep 30)")
check_ended "its --timeout: timeout" "$id" "killed timeout"

id=$(start_job --notify-file "$S" -- sleep 30)
ae kill "$id" >/dev/null
check_ended "agent-exec kill: kill" "$id" "killed kill"
check "... the mark it left is in the job directory" test -e "$ROOT/$id/kill_request"

id=$(start_job --notify-file "$S" -- sleep 30)
pid=$(record_num "$id" pid)
kill -TERM "$pid"
check_ended "another process's SIGTERM: signal" "$id" "killed signal"

id=$(start_job --notify-file "$S" -- sleep 30)
ae delete --force "$id" >/dev/null
check_eq "delete --force: the job is gone (its event is kill)" \
	"$(ended "$id")" "killed kill"

# a queued job taken out of line by kill
qrun --queue eb --slots 1 -- sleep 30
blocker=$ID
qrun --queue eb --notify-file "$S" -- true
queued=$ID
until_true 10 is_state "$queued" queued
ae kill "$queued" >/dev/null
check_ended "kill of a queued job: kill" "$queued" "killed kill"
ae kill --signal KILL "$blocker" >/dev/null

# a failed --after-ok
dep=$(job_id "$(ae run --wait -- false)")
id=$(job_id "$(ae run --wait --after-ok "$dep" --notify-file "$S" -- true)")
check_ended "a failed --after-ok: dependency" "$id" "failed dependency"

# a lost supervisor
id=$(start_job --notify-file "$S" -- sleep 30)
sup=$(record_num "$id" supervisor_pid)
kill -KILL "$sup"
wait_for "the loss is recorded" 15 is_state "$id" failed
check_eq "a lost supervisor: state.json says supervisor_lost" \
	"$(json_str ended_by "$(cat "$ROOT/$id/state.json")")" supervisor_lost

# restart: the mark goes with the attempt it was for
id=$(start_job --notify-file "$S" -- sh -c 'sleep 30; exit 0')
ae kill "$id" >/dev/null
until_true 15 is_state "$id" killed
ae restart --no-wait "$id" >/dev/null
check "restart: the mark moved with the first attempt" test ! -e "$ROOT/$id/kill_request"
pid=$(record_num "$id" pid)
until_true 10 sh -c '[ -n "$1" ]' x "$pid"
kill -TERM "$(record_num "$id" pid)"
wait_for "the second attempt ends" 15 is_state "$id" killed
check_eq "... its end by another process is signal, not kill" \
	"$(json_str ended_by "$(cat "$ROOT/$id/state.json")")" signal

grep '"event_type":"job.finished"' "$S" >"$TMP/events"
check_schema "every job.finished with ended_by matches" job_finished_event --lines "$TMP/events"
