#!/bin/sh
# --notify-on (issue 18): which ends wake job.finished's sinks: finished
# (all, the default), failure (any end but exit 0), success (exit 0); on
# run, create and notify set; other ends are logged, never delivered.
. "$(dirname "$0")/lib.sh"

# delivered FILE ID: the file sink FILE got job.finished for ID.
delivered() { grep -q "\"job_id\":\"$2\"" "$1" 2>/dev/null; }
# settled ID: the job's delivery has nothing left to do.
settled() { ! json_has completion_event "$(cat "$ROOT/$1/state.json")" ||
	[ "$(json_str delivery "$(ae status "$1")")" != pending ]; }

S=$TMP/sink.ndjson
ok_fail=$(job_id "$(ae run --wait --notify-on failure --notify-file "$S" -- true)")
bad_fail=$(job_id "$(ae run --wait --notify-on failure --notify-file "$S" -- sh -c 'exit 2')")
ok_succ=$(job_id "$(ae run --wait --notify-on success --notify-file "$S" -- true)")
bad_succ=$(job_id "$(ae run --wait --notify-on success --notify-file "$S" -- false)")
killed=$(job_id "$(ae run --wait --notify-on failure --notify-file "$S" -- sh -c 'kill -TERM $$')")
all=$(job_id "$(ae run --wait --notify-file "$S" -- false)")
wait_for "--notify-on failure: a job that exited 2 is delivered" 10 delivered "$S" "$bad_fail"
wait_for "... and one a signal killed" 10 delivered "$S" "$killed"
wait_for "--notify-on success: a job that exited 0 is delivered" 10 delivered "$S" "$ok_succ"
wait_for "the default (finished): every end is delivered" 10 delivered "$S" "$all"
for id in $ok_fail $bad_succ; do until_true 10 settled "$id"; done
check "--notify-on failure: a job that exited 0 is not delivered" sh -c '! grep -q "$2" "$1"' x "$S" "$ok_fail"
check "--notify-on success: a job that exited 1 is not delivered" sh -c '! grep -q "$2" "$1"' x "$S" "$bad_succ"
check "... its state says no completion event was due" \
	sh -c '! grep -q "\"completion_event\": true" "$1"' x "$ROOT/$bad_succ/state.json"
check_contains "... the event log still has its job.finished" \
	"$(ae events --job "$bad_succ" --type job.finished)" "\"job_id\":\"$bad_succ\""
check_contains "the policy is recorded in meta.json" "$(cat "$ROOT/$ok_fail/meta.json")" '"notify_on": "failure"'
check "the default is not written" sh -c '! grep -q notify_on "$1"' x "$ROOT/$all/meta.json"

# create, then start: the policy goes with the definition
id=$(job_id "$(ae create --notify-on success --notify-file "$S" -- sh -c 'exit 4')")
ae start --wait "$id" >/dev/null
until_true 10 settled "$id"
check "create --notify-on success; start: a failure is not delivered" sh -c '! grep -q "$2" "$1"' x "$S" "$id"

# notify set changes it on a running job
rm -f "$TMP/go"
id=$(start_job --notify-file "$S" -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' x "$TMP/go")
capture ae notify set "$id" --notify-on failure
check_contains "notify set --notify-on: the answer shows it" "$OUT" '"notify_on":"failure"'
keep_answer notify_set
: >"$TMP/go"
wait_for "the job ends" 10 is_state "$id" exited
until_true 10 settled "$id"
check "... its success is then not delivered" sh -c '! grep -q "$2" "$1"' x "$S" "$id"
capture ae notify set "$id" --notify-on finished
check "notify set --notify-on finished: back to the default (not written)" \
	sh -c 'case $1 in *notify_on*) exit 1 ;; esac' x "$OUT"
capture ae notify redeliver "$id"
check_contains "... and redeliver then delivers it" "$OUT" '"delivered":true'
wait_for "... to the sink" 10 delivered "$S" "$id"

check_usage_error "--notify-on bogus: a usage error" \
	"$AE_BIN" --root "$ROOT" run --notify-on bogus -- true
check_contains "... naming the words" "$ERR" "(finished, failure or success)"
check_schema "notify set's answers match" notify_set --lines "$TMP/answers.notify_set"
