#!/bin/sh
# Faults: SIGKILL of the supervisor at each stage of a job's life (before
# the job is spawned, while it runs, after it ended but before the terminal
# record, while a sink delivers), a stale "rebooted" job directory, a CLI
# killed in the middle of a record write, and a run killed mid-launch.
# After each: the truth is recorded (failed/supervisor_lost, or the real
# outcome), a blocked wait returns, the job.finished event is delivered,
# and every record still parses and matches the schema.
# AGENT_EXEC_TEST_STOP_AT makes the process stop itself at one stage.
. "$(dirname "$0")/lib.sh"
if emulated; then
	echo "# skip: t_faults finds supervisors by their process title, which the host cannot see under qemu"
	exit 0
fi
# whatever happens, processes left stopped by the hook are killed at the end
kill_at_exit

mkdir -p "$TMP/rec" "$TMP/ans"
# rec.sh FILE: a command sink appending the event on stdin as one line
make_script "$TMP/rec.sh" <<'EOS'
{ cat; echo; } >>"$1"
EOS
# lost_event FILE ID: FILE's first line is ID's job.finished, failed,
# supervisor_lost
lost_event() {
	_ev=$(head -n 1 "$1" 2>/dev/null)
	echo "$(json_str event_type "$_ev") $(json_str job_id "$_ev") $(json_str state "$_ev") $(json_str error "$_ev")"
}
# asleep PID: blocked in the kernel (a wait sleeping on the lock)
asleep() { [ "$(proc_field "$1" 3)" = S ]; }
# start_waiter ID NAME: a background wait on ID, answer in $TMP/ans/NAME;
# sets WAITER
start_waiter() {
	"$AE_BIN" --root "$ROOT" wait "$1" >"$TMP/ans/$2" 2>&1 &
	WAITER=$!
}
# marker NAME: a file holding one unique string, put in a job's command
# line so pids_with_text finds its processes
marker() { echo "ae-fault-$1-$$" >"$TMP/$1.marker"; echo "ae-fault-$1-$$"; }

# ---- supervisor-start: killed before the job is spawned --------------------------

mark=$(marker start)
ls "$ROOT" >"$TMP/before" 2>/dev/null
# (the binary itself in the background, not a function: $! is its pid)
AGENT_EXEC_TEST_STOP_AT=supervisor-start "$AE_BIN" --root "$ROOT" run --snapshot-after 0 \
	--notify-file "$TMP/rec/start.ndjson" \
	--notify-command "$TMP/rec.sh $TMP/rec/start.cmd" -- \
	sh -c 'sleep 30' "$mark" >"$TMP/ans/start.run" 2>&1 &
runner=$!
has_new_job() { [ -n "$(new_dirs "$TMP/before" "$ROOT" 2>/dev/null)" ]; }
until_true 10 has_new_job
id=$(new_dirs "$TMP/before" "$ROOT")
sup_known() { sup=$(supervisor_of "$id"); [ -n "$sup" ]; }
until_true 10 sup_known
[ -n "$sup" ] && kill_at_exit "$sup"
wait_for "supervisor-start: the supervisor stops before spawning the job" 10 \
	proc_stopped "${sup:-0}"
check "supervisor-start: run blocks, waiting for the supervisor" proc_running "$runner"
start_waiter "$id" start.wait
wait_for "supervisor-start: a wait blocks on the starting job" 5 asleep "$WAITER"
kill -KILL "${sup:-none}"
wait_status "$runner" 10
check_eq "supervisor-start, kill -9: run returns, exit 0" "$WAIT_STATUS" 0
out=$(cat "$TMP/ans/start.run")
check_eq "... answering failed, supervisor_lost" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
check_schema "... an answer of the schema" - "$TMP/ans/start.run"
wait_status "$WAITER" 10
check_eq "supervisor-start: the blocked wait returns failed, supervisor_lost" \
	"$WAIT_STATUS $(json_str state "$(cat "$TMP/ans/start.wait")") $(json_text error "$(cat "$TMP/ans/start.wait")")" \
	"0 failed supervisor_lost"
check_eq "supervisor-start: no job process was left" "$(pids_with_text "$TMP/start.marker")" ""
out=$(ae status "$id")
check_eq "supervisor-start: status agrees" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
wait_for "supervisor-start: the file sink gets job.finished" 10 \
	has_lines "$TMP/rec/start.ndjson" 1
check_eq "... failed, supervisor_lost" "$(lost_event "$TMP/rec/start.ndjson" "$id")" \
	"job.finished $id failed supervisor_lost"
wait_for "supervisor-start: the command sink gets it too" 10 has_lines "$TMP/rec/start.cmd" 1
wait_for "supervisor-start: the record becomes delivered" 10 delivery_is "$id" delivered
check_schema "supervisor-start: meta.json parses and matches" meta_record "$ROOT/$id/meta.json"
check_schema "supervisor-start: state.json parses and matches" state_record "$ROOT/$id/state.json"
check_schema "supervisor-start: completion_event.json parses and matches" \
	completion_record "$ROOT/$id/completion_event.json"

# ---- job-running: killed while the job prints -------------------------------------

mark=$(marker running)
capture ae_stop job-running run --snapshot-after 0 --notify-file "$TMP/rec/running.ndjson" \
	-- sh -c 'while :; do echo tick; done' "$mark"
id=$(job_id "$OUT")
check_out "job-running: run answers running" "$RC $(json_str state "$OUT")" "0 running"
sup=$(record_num "$id" supervisor_pid)
pid=$(record_num "$id" pid)
wait_for "job-running: the supervisor stops after recording running" 10 \
	proc_stopped "${sup:-0}"
check "job-running: the job runs (printing into its pipe)" proc_running "${pid:-0}"
start_waiter "$id" running.wait
wait_for "job-running: a wait blocks" 5 asleep "$WAITER"
kill -KILL "${sup:-none}"
wait_status "$WAITER" 10
out=$(cat "$TMP/ans/running.wait")
check_eq "job-running, kill -9: the blocked wait returns failed, supervisor_lost" \
	"$WAIT_STATUS $(json_str state "$out") $(json_text error "$out")" "0 failed supervisor_lost"
wait_for "job-running: the job, its pipe no longer read, ends (SIGPIPE)" 5 proc_gone "${pid:-0}"
check_eq "job-running: no job process left" "$(pids_with_text "$TMP/running.marker")" ""
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null
out=$(ae status "$id")
check_eq "job-running: status says failed, supervisor_lost" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
check_eq "job-running: stdout.log holds only whole lines the job printed" \
	"$(grep -cv '^tick$' "$ROOT/$id/stdout.log")" 0
wait_for "job-running: the file sink gets job.finished" 10 \
	has_lines "$TMP/rec/running.ndjson" 1
check_eq "... failed, supervisor_lost" "$(lost_event "$TMP/rec/running.ndjson" "$id")" \
	"job.finished $id failed supervisor_lost"
wait_for "job-running: the record becomes delivered" 10 delivery_is "$id" delivered
check_schema "job-running: state.json parses and matches" state_record "$ROOT/$id/state.json"
check_schema "job-running: completion_event.json parses and matches" \
	completion_record "$ROOT/$id/completion_event.json"

# ---- job-ended: killed after the job exited, before the terminal record --------------

capture ae_stop job-ended run --snapshot-after 0 --notify-file "$TMP/rec/ended.ndjson" \
	-- sh -c 'echo bye; exit 3'
id=$(job_id "$OUT")
sup=$(record_num "$id" supervisor_pid)
wait_for "job-ended: the supervisor stops after the job exited" 10 proc_stopped "${sup:-0}"
check_contains "job-ended: state.json still says running" \
	"$(json_flat "$ROOT/$id/state.json")" '"status": "running"'
start_waiter "$id" ended.wait
wait_for "job-ended: a wait blocks" 5 asleep "$WAITER"
kill -KILL "${sup:-none}"
wait_status "$WAITER" 10
out=$(cat "$TMP/ans/ended.wait")
check_eq "job-ended, kill -9: the blocked wait returns failed, supervisor_lost" \
	"$WAIT_STATUS $(json_str state "$out") $(json_text error "$out")" "0 failed supervisor_lost"
out=$(ae status "$id")
check_eq "job-ended: status records failed, supervisor_lost" \
	"$(json_str state "$out") $(json_text error "$out")" "failed supervisor_lost"
check_contains "job-ended: ... in state.json" "$(json_flat "$ROOT/$id/state.json")" \
	'"status": "failed"'
check_eq "job-ended: the job's output is kept" "$(cat "$ROOT/$id/stdout.log")" bye
wait_for "job-ended: the file sink gets job.finished" 10 has_lines "$TMP/rec/ended.ndjson" 1
check_eq "... failed, supervisor_lost" "$(lost_event "$TMP/rec/ended.ndjson" "$id")" \
	"job.finished $id failed supervisor_lost"
wait_for "job-ended: the record becomes delivered" 10 delivery_is "$id" delivered
check_schema "job-ended: state.json parses and matches" state_record "$ROOT/$id/state.json"
check_schema "job-ended: completion_event.json parses and matches" \
	completion_record "$ROOT/$id/completion_event.json"

# ---- sink-started: killed while a sink delivers -----------------------------------

capture ae_stop sink-started run --snapshot-after 0 --notify-file "$TMP/rec/sink.ndjson" \
	--notify-command "$TMP/rec.sh $TMP/rec/sink.cmd" -- sh -c 'echo done; exit 5'
id=$(job_id "$OUT")
sup=$(record_num "$id" supervisor_pid)
wait_for "sink-started: the supervisor stops after starting a sink" 10 \
	proc_stopped "${sup:-0}"
check_eq "sink-started: the terminal record is already written: exited 5" \
	"$(json_str status "$(cat "$ROOT/$id/state.json")") $(json_num exit_code "$(cat "$ROOT/$id/state.json")")" \
	"exited 5"
check_eq "sink-started: completion_event.json exists, pending" "$(delivery_status "$id")" pending
cp "$ROOT/$id/completion_event.json" "$TMP/rec/sink.pending.json"
check_schema "sink-started: the pending record parses and matches" completion_record \
	"$TMP/rec/sink.pending.json"
kill -KILL "${sup:-none}"
until_true 5 proc_gone "${sup:-0}"
out=$(ae status "$id")
check_eq "sink-started, kill -9: status still says exited 5" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 5"
wait_for "sink-started: the next status finishes the delivery: delivered" 15 \
	delivery_is "$id" delivered
check_between "sink-started: the file sink got the event (at least once)" \
	"$(grep -c "\"event_id\":\"$id:job.finished\"" "$TMP/rec/sink.ndjson" 2>/dev/null)" 1 5
check_between "sink-started: the command sink got it (at least once)" \
	"$(grep -c "\"event_id\":\"$id:job.finished\"" "$TMP/rec/sink.cmd" 2>/dev/null)" 1 5
check_eq "sink-started: every event delivered is this job's, exited 5" \
	"$(grep -v '^$' "$TMP/rec/sink.ndjson" "$TMP/rec/sink.cmd" | grep -vc "\"job_id\":\"$id\",\"state\":\"exited\"")" 0
check_schema "sink-started: the delivered events are job_finished_events" \
	job_finished_event --lines "$TMP/rec/sink.ndjson"
check_schema "sink-started: completion_event.json parses and matches" \
	completion_record "$ROOT/$id/completion_event.json"
check_schema "sink-started: state.json parses and matches" state_record "$ROOT/$id/state.json"

# ---- the process finishing a lost job's delivery, killed too ----------------------

capture ae_stop job-running run --snapshot-after 0 --notify-file "$TMP/rec/finisher.ndjson" \
	-- sleep 30
id=$(job_id "$OUT")
pid=$(record_num "$id" pid)
sup=$(record_num "$id" supervisor_pid)
until_true 10 proc_stopped "${sup:-0}"
kill -KILL "${sup:-none}"
until_true 5 proc_gone "${sup:-0}"
kill -KILL "-${pid:-none}" 2>/dev/null
# the status that notices the loss starts a delivery process (a copy of
# itself); with the hook it stops once its sink has started
echo "$id" >"$TMP/finisher.marker"
capture ae_stop sink-started status "$id"
check_eq "a lost job's status: failed, supervisor_lost" \
	"$(json_str state "$OUT") $(json_text error "$OUT")" "failed supervisor_lost"
# stopped_finisher: the pid of the stopped delivery process (if any)
stopped_finisher() {
	for _p in $(pids_with_text "$TMP/finisher.marker"); do
		proc_stopped "$_p" && echo "$_p"
	done
}
finisher_known() { finisher=$(stopped_finisher | head -n 1); [ -n "$finisher" ]; }
wait_for "the delivery process stops after starting its sink" 10 finisher_known
[ -n "$finisher" ] && kill_at_exit "$finisher"
kill -KILL "${finisher:-none}" 2>/dev/null
until_true 5 proc_gone "${finisher:-0}"
check_match "delivery process killed (-9): the record is pending or delivered, never lost" \
	"$(delivery_status "$id")" '^(pending|delivered)$'
check_schema "... completion_event.json parses and matches" completion_record \
	"$ROOT/$id/completion_event.json"
ae status "$id" >/dev/null
wait_for "the next status delivers it: delivered" 15 delivery_is "$id" delivered
check_between "... the file sink got job.finished (at least once)" \
	"$(grep -c "\"event_id\":\"$id:job.finished\"" "$TMP/rec/finisher.ndjson" 2>/dev/null)" 1 5

# ---- start (of a created job) killed at supervisor-start --------------------------

id=$(job_id "$(ae create -- sleep 30)")
AGENT_EXEC_TEST_STOP_AT=supervisor-start "$AE_BIN" --root "$ROOT" start "$id" \
	>"$TMP/ans/start2" 2>&1 &
starter=$!
sup_known() { sup=$(supervisor_of "$id"); [ -n "$sup" ]; }
until_true 10 sup_known
[ -n "$sup" ] && kill_at_exit "$sup"
until_true 10 proc_stopped "${sup:-0}"
kill -KILL "${sup:-none}"
wait_status "$starter" 10
out=$(cat "$TMP/ans/start2")
check_eq "start, supervisor killed before the job: failed, supervisor_lost" \
	"$WAIT_STATUS $(json_str state "$out") $(json_text error "$out")" "0 failed supervisor_lost"
check_eq "... status agrees" "$(state_of "$id")" failed

# ---- a stale "rebooted" job directory ---------------------------------------------

id=$(start_job -- sleep 30)
pid=$(record_num "$id" pid)
sup=$(record_num "$id" supervisor_pid)
reboot="$TMP/reboot"
mkdir -p "$reboot"
# a copy of a running job: state running, a lock file nobody holds, and a
# supervisor_pid that is alive (it is the original's): pids must not count
cp -R "$ROOT/$id" "$reboot/$id"
check_contains "reboot: the copied record says running" \
	"$(json_flat "$reboot/$id/state.json")" '"status": "running"'
capture "$AE_BIN" --root "$reboot" status "$id"
check_eq "reboot: status of the copy: failed, supervisor_lost" \
	"$RC $(json_str state "$OUT") $(json_text error "$OUT")" "0 failed supervisor_lost"
check "... although its recorded supervisor_pid is alive (pids are not trusted)" \
	proc_running "${sup:-0}"
check_eq "... and the original job still runs" "$(state_of "$id")" running
capture "$AE_BIN" --root "$reboot" wait "$id"
check_eq "reboot: wait on it returns at once: failed" "$RC $(json_str state "$OUT")" "0 failed"
# the same without a lock file at all
id2=01M7Z0000000000000000000R2
mkdir -p "$reboot/$id2"
chmod 700 "$reboot/$id2"
sed "s/$id/$id2/" "$ROOT/$id/meta.json" >"$reboot/$id2/meta.json"
sed "s/$id/$id2/" "$ROOT/$id/state.json" >"$reboot/$id2/state.json"
capture "$AE_BIN" --root "$reboot" status "$id2"
check_eq "reboot, no lock file: status says failed, supervisor_lost" \
	"$RC $(json_str state "$OUT") $(json_text error "$OUT")" "0 failed supervisor_lost"
# a hand-written running record naming pid 1 (always alive) as the supervisor
id3=01M7Z0000000000000000000R3
mkdir -p "$reboot/$id3"
sed "s/$id/$id3/" "$ROOT/$id/meta.json" >"$reboot/$id3/meta.json"
cat >"$reboot/$id3/state.json" <<EOF
{"job":{"id":"$id3","status":"running","started_at":"2020-01-01T00:00:00Z"},
"result":{"exit_code":null,"signal":null,"duration_ms":null},
"pid":1,"supervisor_pid":1,"updated_at":"2020-01-01T00:00:00Z"}
EOF
: >"$reboot/$id3/lock"
capture "$AE_BIN" --root "$reboot" list --all
check_match "reboot: list --all finds the hand-written running job failed" "$OUT" \
	"\"job_id\":\"$id3\",(\"name\":\"[^\"]*\",)?\"state\":\"failed\""
check_eq "reboot: list --all: all three failed, none skipped" \
	"$(printf '%s' "$OUT" | grep -o '"state":"failed"' | wc -l | tr -d ' ') $(json_num skipped "$OUT")" "3 0"
check_schema "reboot: the recovered state.json files parse and match" state_record \
	"$reboot/$id/state.json" "$reboot/$id2/state.json" "$reboot/$id3/state.json"
kill -KILL "-${pid:-none}" 2>/dev/null
kill -KILL "${sup:-none}" 2>/dev/null

# ---- the CLI killed in the middle of a record write ---------------------------------

id=$(job_id "$(ae run --wait -- true)")
ae tag set "$id" --tag old >/dev/null
cp "$ROOT/$id/meta.json" "$TMP/meta.before"
AGENT_EXEC_TEST_STOP_AT=record-written "$AE_BIN" --root "$ROOT" tag set "$id" --tag new \
	>/dev/null 2>&1 &
writer=$!
wait_for "tag set: stops after writing its temp file, before the rename" 10 \
	proc_stopped "$writer"
tmp_files() { ls -a "$ROOT/$id" | grep -c '^\.tmp-'; }
check_eq "... the temp file .tmp-* is there" "$(tmp_files)" 1
kill -KILL "$writer"
wait "$writer" 2>/dev/null
check "tag set killed mid-write: meta.json is the previous record, byte for byte" \
	cmp -s "$TMP/meta.before" "$ROOT/$id/meta.json"
check_schema "... it parses and matches" meta_record "$ROOT/$id/meta.json"
out=$(ae status "$id")
check_eq "... status shows the old tags" "$(printf '%s' "$out" | grep -o '"tags":\[[^]]*\]')" \
	'"tags":["old"]'
note_tmp=$(tmp_files)
echo "# note: $note_tmp temp file(s) left by the killed tag set"
capture ae list --all
check_eq "... list ignores the temp file: skipped 0" "$RC $(json_num skipped "$OUT")" "0 0"
check_eq "... list shows the job once" "$(printf '%s' "$OUT" | grep -o "\"job_id\":\"$id\"" | wc -l | tr -d ' ')" 1
capture ae gc --dry-run --older-than 0s
check_eq "... gc --dry-run ignores it: nothing unreadable, nothing named .tmp" \
	"$RC $(printf '%s' "$OUT" | grep -c 'state_unreadable') $(printf '%s' "$OUT" | grep -c '\.tmp-')" "0 0 0"
check_eq "... and lists each job directory once" \
	"$(printf '%s' "$OUT" | grep -o '"job_id"' | wc -l | tr -d ' ')" "$(job_dirs)"
capture ae tag set "$id" --tag newer
check_eq "... a later tag set works" "$RC $(printf '%s' "$OUT" | grep -o '"tags":\[[^]]*\]')" \
	'0 "tags":["newer"]'
check_schema "... and meta.json parses and matches" meta_record "$ROOT/$id/meta.json"

# notify set, the same way
ae notify set "$id" --command "true old" >/dev/null
cp "$ROOT/$id/meta.json" "$TMP/meta.before"
AGENT_EXEC_TEST_STOP_AT=record-written "$AE_BIN" --root "$ROOT" notify set "$id" \
	--command "true new" >/dev/null 2>&1 &
writer=$!
until_true 10 proc_stopped "$writer"
kill -KILL "$writer"
wait "$writer" 2>/dev/null
check "notify set killed mid-write: meta.json is the previous record, byte for byte" \
	cmp -s "$TMP/meta.before" "$ROOT/$id/meta.json"
check_eq "... still the old notify_command" \
	"$(json_str notify_command "$(cat "$ROOT/$id/meta.json")")" "true old"
capture ae notify set "$id" --command "true newer"
check_eq "... a later notify set works" \
	"$RC $(json_str notify_command "$(cat "$ROOT/$id/meta.json")")" "0 true newer"
check_eq "... and the tags survived all this" \
	"$(json_flat "$ROOT/$id/meta.json" | grep -o '"tags": \[[^]]*\]')" '"tags": ["newer"]'

# run killed while writing meta.json (before anything was launched): a job
# directory without meta.json; a root of its own
midw="$TMP/midwrite"
AGENT_EXEC_TEST_STOP_AT=record-written "$AE_BIN" --root "$midw" run --snapshot-after 0 \
	-- sleep 30 >/dev/null 2>&1 &
writer=$!
until_true 10 proc_stopped "$writer"
kill -KILL "$writer"
wait "$writer" 2>/dev/null
mid_id=$(ls "$midw")
check_error "run killed writing meta.json: status is corrupt_record" corrupt_record \
	"$AE_BIN" --root "$midw" status "$mid_id"
check_contains "... naming meta.json" "$OUT" "$mid_id/meta.json"
capture "$AE_BIN" --root "$midw" list --all
check_eq "... list counts it in skipped" "$RC $(json_num skipped "$OUT")" "0 1"
capture "$AE_BIN" --root "$midw" gc
check_eq "... gc (30d) deletes nothing" "$RC $(json_num deleted "$OUT")" "0 0"
check "... no process was launched" test -z "$(supervisor_of "$mid_id")"

# ---- run killed mid-launch: the job still runs to its end ----------------------------

ls "$ROOT" >"$TMP/before"
AGENT_EXEC_TEST_STOP_AT=supervisor-start "$AE_BIN" --root "$ROOT" run --snapshot-after 0 \
	-- sh -c 'sleep 1; echo done; exit 4' >/dev/null 2>&1 &
runner=$!
until_true 10 has_new_job
id=$(new_dirs "$TMP/before" "$ROOT")
until_true 10 sup_known
[ -n "$sup" ] && kill_at_exit "$sup"
until_true 10 proc_stopped "${sup:-0}"
kill -KILL "$runner"
wait "$runner" 2>/dev/null
kill -CONT "${sup:-none}"
out=$(ae wait --timeout-ms 10000 "$id")
check_eq "run killed (-9) mid-launch: the job still runs to its end: exited 4" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 4"
check_eq "... with its output" "$(cat "$ROOT/$id/stdout.log")" "done"
check_hasnt "... not supervisor_lost" error "$out"

# ---- a job dies with its supervisor ------------------------------------------------------

# job_procs ID: the live processes whose environment marks them as ID's
job_procs() {
	for _e in /proc/[0-9]*/environ; do
		{ tr '\0' '\n' <"$_e"; } 2>/dev/null | grep -qx "AGENT_EXEC_JOB_ID=$1" || continue
		_p=${_e#/proc/}
		_p=${_p%/environ}
		[ "$(proc_field "$_p" 3)" = Z ] || echo "$_p"
	done
}
no_job_procs() { [ -z "$(job_procs "$1")" ]; }
has_job_procs() { [ "$(job_procs "$1" | wc -l | tr -d ' ')" = "$2" ]; }
id=$(start_job --timeout 1500 -- sleep 300)
jpid=$(record_num "$id" pid)
sup=$(record_num "$id" supervisor_pid)
kill -KILL "${sup:-none}"
wait_for "supervisor killed (-9): the job's process dies with it" 10 proc_gone "${jpid:-0}"
check_eq "... status says failed, supervisor_lost" \
	"$(json_str state "$(ae status "$id")") $(json_text error "$(ae status "$id")")" \
	"failed supervisor_lost"
# a job whose processes fork: the children outlive the main process
id=$(start_job -- sh -c 'sleep 300 & sleep 301 & wait')
wait_for "a job with two children: three processes of it run" 10 has_job_procs "$id" 3
sup=$(record_num "$id" supervisor_pid)
kill -KILL "${sup:-none}"
until_true 5 proc_gone "${sup:-0}"
capture ae status "$id"
check_eq "... its supervisor killed: status says failed, supervisor_lost" \
	"$(json_str state "$OUT") $(json_text error "$OUT")" "failed supervisor_lost"
wait_for "... and whoever recorded the loss killed what the job left: no process of it runs" \
	10 no_job_procs "$id"
capture ae kill "$id"
check_eq "kill on the lost job: an answer, failed" "$RC $(json_str state "$OUT")" "0 failed"
capture ae delete --force "$id"
check_eq "delete --force on it: deleted" "$RC $(json_bool deleted "$OUT")" "0 true"

# a running job whose record names another process: never signalled
setsid sleep 300 </dev/null >/dev/null 2>&1 &
stranger=$!
until_true 5 process_alive "$stranger"
id=$(start_job -- sleep 300)
jpid=$(record_num "$id" pid)
sed "s/\"pid\": $jpid,/\"pid\": $stranger,/" "$ROOT/$id/state.json" >"$TMP/planted" &&
	cat "$TMP/planted" >"$ROOT/$id/state.json"
check_eq "a running record naming a stranger's pid (planted)" "$(record_num "$id" pid)" "$stranger"
ae kill --signal KILL "$id" >/dev/null
check "... kill never signals the stranger: it lives" process_alive "$stranger"
kill -KILL "$stranger" "$jpid" 2>/dev/null
wait "$stranger" 2>/dev/null

# ---- the lock file removed under a live supervisor (a tmp cleaner) --------------------

G="$TMP/gone-lock"
mkdir -p "$G"
id=$(start_job --notify-file "$G/events.ndjson" -- sh -c \
	'while [ ! -e "$1/go" ]; do sleep 0.05; done; echo finished; exit 3' sh "$G")
sup=$(record_num "$id" supervisor_pid)
"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/ans/gone-lock.wait" 2>&1 &
waiter=$!
until_true 10 asleep "$waiter"
# stopped, the supervisor cannot renew its lock file: readers must vouch for it
kill -STOP "${sup:-none}"
rm -f "$ROOT/$id/lock"
capture ae status "$id"
check_eq "lock file removed, supervisor stopped: status still says running" \
	"$(json_str state "$OUT")" running
check_hasnt "... no supervisor_lost" error "$OUT"
capture ae list --all
check_contains "... list agrees" "$OUT" "\"job_id\":\"$id\","
check_eq "... and nobody recorded a loss" "$(json_flat "$ROOT/$id/state.json" | grep -c supervisor_lost)" 0
check "... the blocked wait is still waiting" process_alive "$waiter"
kill -CONT "${sup:-none}"
wait_for "the supervisor makes a new lock file" 10 test -e "$ROOT/$id/lock"
capture ae status "$id"
check_eq "... status: running" "$(json_str state "$OUT")" running
: >"$G/go"
wait_for "the wait returns when the job ends" 10 proc_gone "$waiter"
wait "$waiter" 2>/dev/null
out=$(cat "$TMP/ans/gone-lock.wait")
check_eq "... with the real end: exited 3" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 3"
check_eq "... status agrees, and it is final" "$(state_of "$id")" exited
wait_for "... its job.finished is delivered" 10 has_lines "$G/events.ndjson" 1
check_eq "... once: one line in the sink" "$(line_count "$G/events.ndjson")" 1
check_eq "... one job.finished in the event log" \
	"$(ae events --job "$id" --type job.finished | wc -l | tr -d ' ')" 1
# removed while the supervisor runs (it renews the file at once)
capture ae run --snapshot-after 0 -- sh -c \
	'while [ ! -e "$1/go2" ]; do sleep 0.05; done; exit 5' sh "$G"
id=$(job_id "$OUT")
rm -f "$ROOT/$id/lock"
capture ae status "$id"
check_eq "lock file removed under a running supervisor: status says running" \
	"$(json_str state "$OUT")" running
: >"$G/go2"
out=$(ae wait --timeout-ms 10000 "$id")
check_eq "... and the job ends with its real exit code: exited 5" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 5"

# ---- every record in the roots ------------------------------------------------------

check_schema "every meta.json parses and matches meta_record" meta_record \
	"$ROOT"/*/meta.json "$reboot"/*/meta.json
check_schema "every state.json parses and matches state_record" state_record \
	"$ROOT"/*/state.json "$reboot"/*/state.json
check_schema "every completion_event.json parses and matches completion_record" \
	completion_record "$ROOT"/*/completion_event.json
