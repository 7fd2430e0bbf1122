#!/bin/sh
# notifications, part 5: recovery. A job whose supervisor was killed (-9)
# is found failed/supervisor_lost by status, list --all or a blocked wait,
# and its job.finished event is then written and delivered; a supervisor
# killed while a slow sink delivers leaves the record pending, and the next
# status delivers it again (at least once, same event_id).
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ev"

# rec.sh FILE: append the event on stdin as one line
make_script "$TMP/rec.sh" <<'EOS'
{ cat; echo; } >>"$1"
EOS
# lose ID: kill -9 the job's supervisor once the job runs (the job itself
# is left running); print the job's pid
lose() {
	until_true 10 child_known "$1"
	_sup=$(record_num "$1" supervisor_pid)
	record_num "$1" pid
	kill -KILL "${_sup:-none}" 2>/dev/null
	until_true 5 proc_gone "${_sup:-0}"
}
# child_known ID: the job's child is recorded and has become `sleep`: until
# it execs, a forked child (qemu-user turns vfork into fork) still shares
# the supervisor's lock and the job looks alive a moment after the kill
child_known() {
	_p=$(record_num "$1" pid)
	[ -n "$_p" ] && [ "$_p" != "$(record_num "$1" supervisor_pid)" ] &&
		case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
		sleep*) true ;;
		*) false ;;
		esac
}
# check_lost_event DESC FILE ID: FILE's one line is the job's job.finished
# event, failed with supervisor_lost
check_lost_event() {
	_ev=$(cat "$2" 2>/dev/null)
	check_eq "$1: one line" "$(line_count "$2")" 1
	check_eq "$1: job.finished, failed, supervisor_lost" \
		"$(json_str event_type "$_ev") $(json_str state "$_ev") $(json_str error "$_ev")" \
		"job.finished failed supervisor_lost"
	check_eq "$1: event_id" "$(json_str event_id "$_ev")" "$3:job.finished"
	check_eq "$1: job_id" "$(json_str job_id "$_ev")" "$3"
}

# ---- found by status -------------------------------------------------------------------------

id=$(start_job --notify-file "$TMP/lost1.ndjson" \
	--notify-command "$TMP/rec.sh $TMP/lost1.cmd" -- sleep 30)
pid=$(lose "$id")
check "status path: the supervisor is gone, nothing delivered yet" \
	test ! -e "$TMP/lost1.ndjson"
out=$(ae status "$id")
check_eq "status after kill -9 of the supervisor: failed, supervisor_lost" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
wait_for "status path: the event reaches the file sink" 10 \
	has_lines "$TMP/lost1.ndjson" 1
check_lost_event "status path: file sink" "$TMP/lost1.ndjson" "$id"
wait_for "status path: the event reaches the command sink" 10 \
	has_lines "$TMP/lost1.cmd" 1
check "status path: both sinks got the same event" \
	cmp -s "$TMP/lost1.ndjson" "$TMP/lost1.cmd"
wait_for "status path: the record becomes delivered" 10 delivery_is "$id" delivered
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_contains "status path: the record says failed" "$rec" '"state": "failed"'
check_contains "status path: ... and supervisor_lost" "$rec" '"error": "supervisor_lost"'
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.status"
ae status "$id" >/dev/null
ae list --all >/dev/null
if until_true 1 has_lines "$TMP/lost1.ndjson" 2; then
	not_ok "a later status or list does not deliver it again"
else
	ok "a later status or list does not deliver it again"
fi
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null

# ---- found by list --all ---------------------------------------------------------------------

id=$(start_job --notify-file "$TMP/lost2.ndjson" -- sleep 30)
pid=$(lose "$id")
out=$(ae list --all)
check_match "list --all after kill -9 of the supervisor: the job is failed" "$out" \
	"\"job_id\":\"$id\",(\"name\":\"[^\"]*\",)?\"state\":\"failed\""
wait_for "list path: the event reaches the file sink" 10 \
	has_lines "$TMP/lost2.ndjson" 1
check_lost_event "list path" "$TMP/lost2.ndjson" "$id"
wait_for "list path: the record becomes delivered" 10 delivery_is "$id" delivered
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null

# ---- found by a blocked wait -----------------------------------------------------------------

id=$(start_job --notify-file "$TMP/lost3.ndjson" -- sleep 30)
"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/wait.out" 2>&1 &
waiter=$!
until_true 5 child_known "$id"
check "wait path: the wait blocks while the job runs" proc_running "$waiter"
pid=$(lose "$id")
wait_for "wait path: the blocked wait returns" 10 proc_gone "$waiter"
wait "$waiter"
out=$(cat "$TMP/wait.out")
check_eq "wait path: it reports failed, supervisor_lost" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
wait_for "wait path: the event reaches the file sink" 10 \
	has_lines "$TMP/lost3.ndjson" 1
check_lost_event "wait path" "$TMP/lost3.ndjson" "$id"
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null

# a lost job without sinks: no event
id=$(start_job -- sleep 30)
pid=$(lose "$id")
check_eq "a lost job without sinks: failed" "$(state_of "$id")" failed
check "... and no completion_event.json" test ! -e "$ROOT/$id/completion_event.json"
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null

# ---- the supervisor dies while a slow sink delivers --------------------------------------------

# slow.sh LOG: note "pid event_id(env) attempt event_id(stdin)", sleep 2 s
make_script "$TMP/slow.sh" <<'EOS'
ev=$(cat)
ev=${ev#*\"event_id\":\"}
echo "$$ $AGENT_EXEC_EVENT_ID $AGENT_EXEC_DELIVERY_ATTEMPT ${ev%%\"*}" >>"$1"
sleep 2
EOS
id=$(start_job --notify-command "$TMP/slow.sh $TMP/slow.log" -- sh -c 'echo done')
wait_for "slow sink: the first delivery starts" 10 has_lines "$TMP/slow.log" 1
sup=$(record_num "$id" supervisor_pid)
kill -KILL "${sup:-none}" 2>/dev/null
until_true 5 proc_gone "${sup:-0}"
check_eq "supervisor killed mid-delivery: the record stays pending" \
	"$(delivery_status "$id")" pending
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.pending"
out=$(ae status "$id")
check_eq "the next status: the job is still exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
wait_for "... and it delivers the event again: delivered" 15 delivery_is "$id" delivered
check_between "the sink ran at least twice" "$(line_count "$TMP/slow.log")" 2 10
bad=$(awk -v want="$id:job.finished" '$2 != want || $4 != want' "$TMP/slow.log")
check_eq "every delivery carried the same event_id (env and stdin)" "$bad" ""
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_contains "the final record has a successful command attempt" "$rec" \
	"\"sink_type\": \"command\",\"target\": \"$TMP/slow.sh $TMP/slow.log\",\"success\": true"
check_contains "... and delivered true" "$rec" '"delivered": true'
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.redelivered"
for p in $(cut -d' ' -f1 "$TMP/slow.log"); do
	until_true 5 proc_gone "$p" || kill -KILL "$p" 2>/dev/null
done

# ---- a pending event is never deleted undelivered ---------------------------------------------

# gate.sh DIR: note the attempt number; hold while DIR/hold exists;
# succeed only once DIR/open exists
make_script "$TMP/gate.sh" <<'EOS'
echo "$AGENT_EXEC_DELIVERY_ATTEMPT" >>"$1/attempts"
while [ -e "$1/hold" ]; do sleep 0.05; done
[ -e "$1/open" ]
EOS
# pending_job DIR: a job that exited 0, whose supervisor was killed while
# its sink was failing (between retries): its record stays pending
pending_job() {
	mkdir -p "$1"
	_id=$(start_job --notify-command "$TMP/gate.sh $1" --notify-retries 8 -- true)
	until_true 10 has_lines "$1/attempts" 1
	until_true 10 grep -q '"success": false' "$ROOT/$_id/completion_event.json"
	_sup=$(record_num "$_id" supervisor_pid)
	kill -KILL "${_sup:-none}" 2>/dev/null
	until_true 5 proc_gone "${_sup:-0}"
	echo "$_id"
}
# age ID: make the job look finished in 2020 (gc's cutoff is by finished_at)
age() {
	sed 's/"finished_at": "[^"]*"/"finished_at": "2020-01-01T00:00:00Z"/' \
		"$ROOT/$1/state.json" >"$TMP/aged" && cat "$TMP/aged" >"$ROOT/$1/state.json"
}
gid=$(pending_job "$TMP/gA")
check_eq "supervisor killed between a sink's retries: the record stays pending" \
	"$(delivery_status "$gid")" pending
age "$gid"
# (the delivery gc starts is held until gc has answered)
: >"$TMP/gA/open"
: >"$TMP/gA/hold"
capture ae gc --older-than 1d
check_contains "gc of the old job with a pending event: skipped, delivery_pending" "$OUT" \
	"{\"job_id\":\"$gid\",\"state\":\"exited\",\"action\":\"skipped\",\"reason\":\"delivery_pending\""
check "... the job is still there" test -e "$ROOT/$gid/completion_event.json"
rm -f "$TMP/gA/hold"
wait_for "... and gc started its delivery: delivered" 15 delivery_is "$gid" delivered
first=$(head -n 1 "$TMP/gA/attempts")
last=$(tail -n 1 "$TMP/gA/attempts")
check "... the recovered delivery numbers its attempts after the earlier ones ($first, then $last)" \
	test "$last" -gt "$first"
check_eq "... and the record says so" \
	"$(json_flat "$ROOT/$gid/completion_event.json" | grep -o '"attempt": [0-9]*' | tail -n 1 | tr -dc 0-9)" "$last"
capture ae gc --older-than 1d
check_contains "once delivered, the next gc deletes it" "$OUT" \
	"{\"job_id\":\"$gid\",\"state\":\"exited\",\"action\":\"deleted\""

lid=$(pending_job "$TMP/gL")
: >"$TMP/gL/open"
ae list --all >/dev/null
wait_for "list finishes the pending delivery of a job it did not recover: delivered" 15 \
	delivery_is "$lid" delivered

did=$(pending_job "$TMP/gD")
capture ae delete "$did"
check_eq "delete of a job whose event is pending: invalid_state" \
	"$RC $(json_str code "$OUT")" "1 invalid_state"
check_contains "... saying why and what to do" "$(json_text message "$OUT")" "not delivered yet"
check "... the job is still there" test -e "$ROOT/$did/meta.json"
: >"$TMP/gD/open"
wait_for "... the delivery it started delivers it" 15 delivery_is "$did" delivered
capture ae delete "$did"
check_eq "... then delete works" "$RC $(json_bool deleted "$OUT")" "0 true"
did=$(pending_job "$TMP/gF")
capture ae delete --force "$did"
check_eq "delete --force deletes it undelivered" "$RC $(json_bool deleted "$OUT")" "0 true"

# ---- no silent cap on the attempts a record lists ----------------------------------------------

# 260 failed redeliveries (the file sink is a directory), then one that works:
# the record keeps the first attempt and the latest, says how many it no
# longer lists, and numbers every attempt after the ones before.
mkdir -p "$TMP/sinkdir"
capture ae run --wait --notify-file "$TMP/sinkdir" --notify-retries 0 -- true
id=$(job_id "$OUT")
wait_for "a file sink that is a directory: the delivery fails" 10 delivery_is "$id" failed
# the supervisor holds DELIVERY until it exits
until_true 10 proc_gone "$(record_num "$id" supervisor_pid)"
i=1
busy=0
while [ $i -lt 260 ] && [ $busy -lt 50 ]; do
	if ae notify redeliver "$id" | grep -q '"ok":true'; then
		i=$((i + 1))
	else
		busy=$((busy + 1))	# "being delivered right now"
	fi
done
check_eq "260 failed attempts made (redeliveries refused meanwhile: $busy)" "$i" 260
ae notify set "$id" --file "$TMP/capped.ndjson" >/dev/null
capture ae notify redeliver "$id"
check_eq "the 261st attempt delivers: delivered true" \
	"$(json_bool delivered "$OUT")" true
check_eq "... the answer says 5 attempts are no longer listed" \
	"$(json_num delivery_results_omitted "$OUT")" 5
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_eq "... the record says so too" \
	"$(json_num delivery_results_omitted "$rec")" 5
check_eq "... it lists 256 attempts" \
	"$(printf '%s\n' "$rec" | sed 's/^.*"delivery_results"//' | grep -o '"attempt": [0-9]*' | wc -l | tr -d ' ')" 256
check_eq "... the first is attempt 1, the last attempt 261" \
	"$(printf '%s\n' "$rec" | sed 's/^.*"delivery_results"//' | grep -o '"attempt": [0-9]*' | sed -n '1p;$p' | tr -d '"a-z: ' | tr '\n' ' ')" "1 261 "
check_contains "... and the last is the success" \
	"$(printf '%s\n' "$rec" | sed 's/.*"sink_type"//')" '"success": true'
check_eq "... the sink saw one event" "$(line_count "$TMP/capped.ndjson")" 1
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.capped"

# ---- the schema --------------------------------------------------------------------------------

check_schema "the supervisor_lost events are job_finished_events" \
	job_finished_event --lines "$TMP/lost1.ndjson" "$TMP/lost2.ndjson" \
	"$TMP/lost3.ndjson" "$TMP/lost1.cmd"
check_schema "the recovered records are completion_records" completion_record \
	"$TMP"/ev/record.*
