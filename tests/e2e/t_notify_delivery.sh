#!/bin/sh
# notifications, part 2: delivery. The record is persisted (pending) before
# the first attempt; failing sinks are retried with backoff and every
# attempt recorded; hanging sinks are killed (their whole group) at the
# timeout; exhausted retries end "failed" and the supervisor exits; a
# failing file sink; concurrent file-sink appends stay whole lines; and
# delivery never blocks the job (a slow sink while the job writes 100 MB).
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ev"
# now_ms has whole seconds where this shell's date has no %N (busybox):
# then bounds on times it measures are widened by a second
case $(date +%s%N) in *N) slack=1000 ;; *) slack=0 ;; esac
# ms_now_sh: the lines a sink script uses for now_ms (lib.sh is not there)
ms_now_sh='ns=$(date +%s%N); case $ns in *N|"") ms=$(( $(date +%s) * 1000 ));; *) ms=$((ns / 1000000));; esac'

# ---- persisted before the first attempt; the job's end is not delayed --------------------

# gate.sh DIR: keep stdin, then wait (10 s at most) for DIR/go
make_script "$TMP/gate.sh" <<'EOS'
mkdir -p "$1"
cat >"$1/stdin"
echo $$ >"$1/pid"
i=0
while [ ! -e "$1/go" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
EOS
capture ae run --wait --notify-command "$TMP/gate.sh $TMP/gate" -- sh -c 'echo hi'
id=$(job_id "$OUT")
check_eq "run --wait with a blocking sink: returns exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
wait_for "the blocking sink is running" 10 test -s "$TMP/gate/pid"
check "... and still running after run --wait returned" \
	proc_running "$(cat "$TMP/gate/pid" 2>/dev/null || echo 0)"
rec=$(json_flat "$ROOT/$id/completion_event.json" 2>/dev/null)
check_contains "while the first attempt runs: the record exists, pending" "$rec" \
	'"delivery_status": "pending"'
check_contains "... delivered false" "$rec" '"delivered": false'
check_contains "... delivery_results []" "$rec" '"delivery_results": []'
check_contains "... with the event" "$rec" "\"event_id\": \"$id:job.finished\""
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.pending"
check_eq "status of the job while its sink runs: exited" "$(state_of "$id")" exited
touch "$TMP/gate/go"
wait_for "released: the record becomes delivered" 10 delivery_is "$id" delivered
cp "$TMP/gate/stdin" "$TMP/ev/stdin.gate"

# ---- a sink failing twice, then succeeding -------------------------------------------------

# flaky.sh DIR: attempt N keeps DIR/stdin.N, DIR/env.N and its start and end
# times (ms); attempt 2 waits for DIR/go2 first; attempts 1 and 2 fail.
make_script "$TMP/flaky.sh" <<EOS
$ms_now_sh
EOS
cat >>"$TMP/flaky.sh" <<'EOS'
start=$ms
dir=$1
n=$AGENT_EXEC_DELIVERY_ATTEMPT
mkdir -p "$dir"
cat >"$dir/stdin.$n"
env | grep '^AGENT_EXEC_' | sort >"$dir/env.$n"
if [ "$n" = 2 ]; then
	i=0
	while [ ! -e "$dir/go2" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
fi
ns=$(date +%s%N); case $ns in *N|"") ms=$(( $(date +%s) * 1000 ));; *) ms=$((ns / 1000000));; esac
echo "$start $ms" >"$dir/time.$n"
[ "$n" -ge 3 ]
EOS
id=$(start_job --notify-command "$TMP/flaky.sh $TMP/flaky" --notify-retries 3 -- true)
wait_for "flaky sink: the second attempt starts" 10 test -e "$TMP/flaky/env.2"
rec=$(json_flat "$ROOT/$id/completion_event.json" 2>/dev/null)
check_contains "after attempt 1 the record is rewritten: still pending" "$rec" \
	'"delivery_status": "pending"'
check_match "... with attempt 1: failed, exited with status 1" "$rec" \
	'"delivery_results": \[\{"sink_type": "command","target": "[^"]*","success": false,"error": "exited with status 1","attempted_at": "[^"]*","attempt": 1,"duration_ms": [0-9]+\}\]'
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.retrying"
touch "$TMP/flaky/go2"
wait_for "flaky sink: delivered at the third attempt" 10 delivery_is "$id" delivered
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_eq "... three attempts recorded" \
	"$(printf '%s\n' "$rec" | sed 's/^.*"delivery_results"//' | grep -o '"attempt": [0-9]*' | tr '\n' ' ')" \
	'"attempt": 1 "attempt": 2 "attempt": 3 '
check_eq "... success false, false, true" \
	"$(printf '%s\n' "$rec" | grep -o '"success": [a-z]*' | tr '\n' ' ')" \
	'"success": false "success": false "success": true '
check_eq "... the two failures: exited with status 1" \
	"$(printf '%s\n' "$rec" | grep -o '"error": "[^"]*"' | tr '\n' ' ')" \
	'"error": "exited with status 1" "error": "exited with status 1" '
check_contains "... delivered true" "$rec" '"delivered": true'
check "... no fourth attempt" test ! -e "$TMP/flaky/env.4"
for n in 1 2 3; do
	check_contains "attempt $n: AGENT_EXEC_DELIVERY_ATTEMPT=$n" \
		"$(cat "$TMP/flaky/env.$n" 2>/dev/null)" "AGENT_EXEC_DELIVERY_ATTEMPT=$n"
	check_eq "attempt $n: the same event_id on stdin" \
		"$(json_str event_id "$(cat "$TMP/flaky/stdin.$n" 2>/dev/null)")" \
		"$id:job.finished"
	check_contains "attempt $n: the same AGENT_EXEC_EVENT_ID" \
		"$(cat "$TMP/flaky/env.$n" 2>/dev/null)" "AGENT_EXEC_EVENT_ID=$id:job.finished"
	cp "$TMP/flaky/stdin.$n" "$TMP/ev/stdin.flaky.$n" 2>/dev/null
done
# shellcheck disable=SC2046 # the times are separate words
set -- $(cat "$TMP/flaky/time.1" "$TMP/flaky/time.2" "$TMP/flaky/time.3" 2>/dev/null) \
	0 0 0 0 0 0
check_between "backoff before attempt 2: about 0.5 s (ms)" $(($3 - $2)) \
	$((490 - slack)) $((1500 + slack))
check_between "backoff before attempt 3: about 1 s (ms)" $(($5 - $4)) \
	$((990 - slack)) $((2000 + slack))
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.flaky"

# ---- retries exhausted ---------------------------------------------------------------------

make_script "$TMP/fail.sh" <<'EOS'
cat >/dev/null
echo x >>"$1"
exit 7
EOS
id=$(start_job --notify-command "$TMP/fail.sh $TMP/fail.count" --notify-retries 1 \
	-- sh -c 'exit 0')
wait_for "an always-failing sink with --notify-retries 1: failed" 10 \
	delivery_is "$id" failed
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_eq "... two attempts" "$(line_count "$TMP/fail.count")" 2
check_eq "... both recorded: exited with status 7" \
	"$(printf '%s\n' "$rec" | grep -o '"error": "[^"]*"' | tr '\n' ' ')" \
	'"error": "exited with status 7" "error": "exited with status 7" '
check_contains "... delivered false" "$rec" '"delivered": false'
sup=$(record_num "$id" supervisor_pid)
wait_for "... and the supervisor exits" 10 proc_gone "${sup:-0}"
check_eq "... the job stays exited 0" \
	"$(json_str state "$(ae status "$id")") $(json_num exit_code "$(ae status "$id")")" \
	"exited 0"
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.failed"

id=$(start_job --notify-command "$TMP/fail.sh $TMP/fail0.count" --notify-retries 0 -- true)
wait_for "--notify-retries 0: failed" 10 delivery_is "$id" failed
check_eq "... after a single attempt" "$(line_count "$TMP/fail0.count")" 1
check_eq "... one result" "$(grep -c '"attempted_at"' "$ROOT/$id/completion_event.json")" 1

# ---- a hanging sink ----------------------------------------------------------------------

# hang.sh DIR: ignores TERM, leaves a grandchild in its group, never ends
make_script "$TMP/hang.sh" <<'EOS'
trap '' TERM HUP INT
mkdir -p "$1"
sleep 60 &
echo "$$ $!" >>"$1/pids"
cat >/dev/null
wait
wait
EOS
t0=$(now_ms)
id=$(start_job --notify-command "$TMP/hang.sh $TMP/hang" --notify-timeout 300 \
	--notify-retries 1 -- true)
wait_for "a hanging sink: delivery failed" 10 delivery_is "$id" failed
took=$(($(now_ms) - t0))
check_between "... after 2 x 300 ms + 0.5 s backoff (ms)" "$took" $((1050 - slack)) 5000
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_eq "... both attempts: timed out after 300 ms (killed)" \
	"$(printf '%s\n' "$rec" | grep -o '"error": "[^"]*"' | tr '\n' ' ')" \
	'"error": "timed out after 300 ms (killed)" "error": "timed out after 300 ms (killed)" '
check_contains "... delivered false" "$rec" '"delivered": false'
for dur in $(printf "%s\n" "$rec" | sed "s/.*\"delivery_results\"//" | grep -o '"duration_ms": [0-9]*' | sed 's/.* //'); do
	check_between "... an attempt lasted about 300 ms" "$dur" 290 1300
done
check_eq "... two attempts started" "$(line_count "$TMP/hang/pids")" 2
for pid in $(cat "$TMP/hang/pids" 2>/dev/null); do
	wait_for "... sink process $pid (or its child) is killed" 5 proc_gone "$pid"
done
sup=$(record_num "$id" supervisor_pid)
wait_for "... and the supervisor exits" 10 proc_gone "${sup:-0}"
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.hang"
for pid in $(cat "$TMP/hang/pids" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done

# --notify-timeout 0: no limit (as --timeout 0): a sink that takes its time
# is not killed at once
id=$(start_job --notify-command "sleep 1; echo done >'$TMP/slow-sink'" \
	--notify-timeout 0 --notify-retries 0 -- true)
wait_for "--notify-timeout 0: a sink of a second is delivered, not killed" 15 \
	delivery_is "$id" delivered
check_eq "... its command ran to its end" "$(cat "$TMP/slow-sink" 2>/dev/null)" done

# ---- a failing file sink ---------------------------------------------------------------------

echo "a file" >"$TMP/afile"
id=$(start_job --notify-file "$TMP/afile/x.ndjson" --notify-retries 1 -- true)
wait_for "a file sink under a regular file: failed" 10 delivery_is "$id" failed
rec=$(json_flat "$ROOT/$id/completion_event.json")
check_match "... the result is a failed file attempt with an error" "$rec" \
	"\\{\"sink_type\": \"file\",\"target\": \"$TMP/afile/x.ndjson\",\"success\": false,\"error\": \"[^\"]+\""
check_eq "... retried once: two attempts" "$(grep -c '"sink_type"' "$ROOT/$id/completion_event.json")" 2
check_eq "... the file is untouched" "$(cat "$TMP/afile")" "a file"
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.badfile"

# ---- concurrent appends to one file ------------------------------------------------------------

ids=""
i=0
while [ $i -lt 10 ]; do
	id=$(start_job --notify-file "$TMP/shared/all.ndjson" -- sh -c \
		'while [ ! -e "$1" ]; do sleep 0.02; done; i=0; while [ $i -lt 40 ]; do
		printf "%0100d\n" $i; i=$((i + 1)); done' sh "$TMP/shared.go")
	ids="$ids $id"
	i=$((i + 1))
done
touch "$TMP/shared.go"
wait_for "10 jobs ending together: 10 lines in the shared file" 15 \
	has_lines "$TMP/shared/all.ndjson" 10
missing=""
for id in $ids; do
	[ "$(grep -c "\"job_id\":\"$id\"" "$TMP/shared/all.ndjson")" = 1 ] ||
		missing="$missing $id"
done
check_eq "... one line per job" "$missing" ""
check_schema "... every line a whole job_finished_event" job_finished_event --lines \
	"$TMP/shared/all.ndjson"

# ---- delivery never blocks the job -----------------------------------------------------------

# slow.sh DIR: note "pid start_ms", then sleep 5 s (or until DIR/stop)
make_script "$TMP/slow.sh" <<EOS
$ms_now_sh
EOS
cat >>"$TMP/slow.sh" <<'EOS'
mkdir -p "$1"
cat >"$1/stdin.$$"
echo "$$ $ms $AGENT_EXEC_EVENT_TYPE" >>"$1/started"
i=0
while [ ! -e "$1/stop" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
EOS
id=$(start_job -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done
	printf "MATCH 1\nMATCH 2\nMATCH 3\n"
	head -c 100000000 /dev/zero | tr "\0" x' sh "$TMP/big.go")
out=$(ae notify set "$id" --output-pattern MATCH \
	--output-command "$TMP/slow.sh $TMP/slow" --notify-retries 0)
check_contains "big job: notify set answers" "$out" '"type":"notify.set"'
t0=$(now_ms)
touch "$TMP/big.go"
out=$(ae wait --timeout-ms 20000 "$id")
t1=$(now_ms)
# shellcheck disable=SC2046 # "pid start_ms type" are separate words
set -- $(head -n 1 "$TMP/slow/started" 2>/dev/null) 0 0
check "big job: wait returns while the first sink (pid $1) still sleeps" \
	proc_running "$1"
check_between "... and that sink had started before wait returned" \
	$((t1 - $2)) $((0 - slack)) 20000
echo "# note: 100 MB job done $((t1 - t0)) ms after release; sink started $(($2 - t0)) ms after release"
check_between "big job: done before the sink's 5 s (ms)" $((t1 - t0)) 0 $((4500 + slack))
check_eq "big job: exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_eq "big job: stdout.log has every byte" "$(file_size "$ROOT/$id/stdout.log")" \
	100000024
check_eq "big job: the sink saw job.output.matched" "$3" job.output.matched
touch "$TMP/slow/stop"
wait_for "big job: all three matches recorded" 15 \
	has_lines "$ROOT/$id/notification_events.ndjson" 3
sup=$(record_num "$id" supervisor_pid)
wait_for "big job: the supervisor exits" 10 proc_gone "${sup:-0}"
check_eq "big job: one sink per match" "$(line_count "$TMP/slow/started")" 3
check_schema "big job: the records are notification_records" notification_record \
	--lines "$ROOT/$id/notification_events.ndjson"
check_schema "big job: the sinks got output_matched_events" output_matched_event \
	"$TMP"/slow/stdin.*

# ---- the schema ----------------------------------------------------------------------------

check_schema "every kept completion_event.json is a completion_record" \
	completion_record "$TMP"/ev/record.*
check_schema "every event a sink got is a job_finished_event" job_finished_event \
	"$TMP"/ev/stdin.*
