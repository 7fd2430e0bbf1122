#!/bin/sh
# notifications, part 1: the --notify-* flags of run and create and how
# meta.json keeps them; the job.finished event of exited, killed, timed-out
# and failed jobs (launch failures too); what a command sink gets (stdin,
# environment, cwd, stdio) and what a file sink writes; tails; no event
# without a sink; how soon the sink starts; no shell injection through job
# output or metadata; every event and record against the schema.
. "$(dirname "$0")/lib.sh"

unset AGENT_EXEC_CALLBACK_SESSION AGENT_EXEC_CALLBACK_AGENT
mkdir -p "$TMP/d1" "$TMP/ev"
d1=$(cd "$TMP/d1" && pwd -P)
tmp_real=$(cd "$TMP" && pwd -P)

# rec.sh DIR: a command sink that keeps what each delivery got, as
# DIR/stdin.N, DIR/env.N, DIR/pwd.N, DIR/fd.N and DIR/record.N (the event
# file at AGENT_EXEC_EVENT_PATH while the sink runs), N the attempt.
make_script "$TMP/rec.sh" <<'EOS'
dir=$1
n=${AGENT_EXEC_DELIVERY_ATTEMPT:-x}
mkdir -p "$dir"
cat >"$dir/stdin.$n.tmp"
env | grep '^AGENT_EXEC_' | sort >"$dir/env.$n"
pwd -P >"$dir/pwd.$n"
fd1=$(readlink "/proc/$$/fd/1" 2>/dev/null)
fd2=$(readlink "/proc/$$/fd/2" 2>/dev/null)
echo "$fd1 $fd2" >"$dir/fd.$n"
cp "$AGENT_EXEC_EVENT_PATH" "$dir/record.$n" 2>/dev/null
mv "$dir/stdin.$n.tmp" "$dir/stdin.$n"
EOS

# ---- the flags and meta.json ------------------------------------------------------

capture sh -c 'cd "$1" && shift && "$@"' sh "$TMP" "$AE_BIN" --root "$ROOT" \
	create --notify-command 'echo "a b" >/dev/null' --notify-file rel/n.ndjson \
	--notify-timeout 1500 --notify-retries 2 -- true
id=$(job_id "$OUT")
check_eq "create with every --notify-* flag: exit 0" "$RC" 0
meta=$(json_flat "$ROOT/$id/meta.json")
check_contains "meta.json: notify_command as given" "$meta" \
	'"notify_command": "echo \"a b\" >/dev/null"'
check_contains "meta.json: a relative --notify-file is made absolute" "$meta" \
	"\"notify_file\": \"$tmp_real/rel/n.ndjson\""
check_contains "meta.json: notify_timeout_ms" "$meta" '"notify_timeout_ms": 1500'
check_contains "meta.json: notify_retries" "$meta" '"notify_retries": 2'
cp "$ROOT/$id/meta.json" "$TMP/ev/meta.create"

out=$(ae run --snapshot-after 0 --notify-file "$TMP/defaults.ndjson" -- true)
id=$(job_id "$out")
meta=$(json_flat "$ROOT/$id/meta.json")
check_contains "run --notify-file: notify_file" "$meta" \
	"\"notify_file\": \"$TMP/defaults.ndjson\""
check_contains "run: notify_timeout_ms defaults to 60000" "$meta" \
	'"notify_timeout_ms": 60000'
check_contains "run: notify_retries defaults to 3" "$meta" '"notify_retries": 3'
check_hasnt "run --notify-file only: no notify_command" notify_command "$meta"
cp "$ROOT/$id/meta.json" "$TMP/ev/meta.run"
wait_for "run --notify-file: the event line is appended" 10 \
	has_lines "$TMP/defaults.ndjson" 1

id=$(start_job -- true)
check_hasnt "a job without --notify-*: no notification in meta.json" \
	notification "$(cat "$ROOT/$id/meta.json")"
sup=$(record_num "$id" supervisor_pid)
until_true 10 proc_gone "${sup:-0}"
check_eq "a job without sinks ends ..." "$(state_of "$id")" exited
check "... and writes no completion_event.json" \
	test ! -e "$ROOT/$id/completion_event.json"

check_usage_error "--notify-timeout abc: usage error" \
	ae run --notify-timeout abc -- true
check_usage_error "--notify-retries -1: usage error" \
	ae create --notify-retries -1 -- true
check_usage_error "--notify-timeout without a value: usage error" \
	ae run --notify-timeout
check_usage_error "--notify-command without a value: usage error" \
	ae create --notify-command
check_eq "no job was made by the usage errors" \
	"$(ls "$ROOT" | wc -l | tr -d ' ')" 3

# ---- job.finished: an exited job, both sinks --------------------------------------

capture ae run --snapshot-after 0 --cwd "$TMP/d1" --meta k=v \
	--callback-session sess --callback-agent agent \
	--notify-command "$TMP/rec.sh $TMP/got" \
	--notify-file "$TMP/deep/er/events.ndjson" \
	-- sh -c 'seq 1 100; seq 1 50 | sed "s/^/e/" >&2; exit 3'
id=$(job_id "$OUT")
wait_for "exited job: the completion record reaches delivered" 10 \
	delivery_is "$id" delivered
ev=$(cat "$TMP/got/stdin.1" 2>/dev/null)
case $ev in
'{"schema_version":"0.1","event_type":"job.finished","job_id":"'"$id"'",'*)
	ok "command sink stdin: schema_version, event_type, job_id first" ;;
*) not_ok "command sink stdin: schema_version, event_type, job_id first"
	echo "#   $(printf '%s' "$ev" | head -c 300)" ;;
esac
check_eq "command sink stdin: one compact line without a trailing newline" \
	"$(wc -l <"$TMP/got/stdin.1" 2>/dev/null | tr -d ' ')" 0
check_eq "event: state exited, exit_code 3" \
	"$(json_str state "$ev") $(json_num exit_code "$ev")" "exited 3"
check_contains "event: command is the argv" "$ev" \
	'"command":["sh","-c","seq 1 100; seq 1 50 | sed \"s/^/e/\" >&2; exit 3"]'
check_eq "event: cwd is the job's" "$(json_str cwd "$ev")" "$d1"
check_match "event: started_at" "$(json_str started_at "$ev")" "$TS_RE"
check_match "event: finished_at" "$(json_str finished_at "$ev")" "$TS_RE"
check_match "event: duration_ms" "$(json_num duration_ms "$ev")" '^[0-9]+$'
check_hasnt "event: no signal for an exited job" signal "$ev"
check_hasnt "event: no error for an exited job" error "$ev"
check_eq "event: stdout_log_path" "$(json_str stdout_log_path "$ev")" \
	"$ROOT/$id/stdout.log"
check_eq "event: stderr_log_path" "$(json_str stderr_log_path "$ev")" \
	"$ROOT/$id/stderr.log"
check_eq "event: event_id is <job_id>:job.finished" \
	"$(json_str event_id "$ev")" "$id:job.finished"
check_eq "event: stdout_tail is the last 40 lines" \
	"$(json_str stdout_tail "$ev")" "$(seq 61 100 | join_lines)"
check_eq "event: stderr_tail is the last 40 lines" \
	"$(json_str stderr_tail "$ev")" "$(seq 11 50 | sed 's/^/e/' | join_lines)"
check_eq "event: timed_out false" "$(json_bool timed_out "$ev")" false
check_contains "event: tags, [] without any" "$ev" '"tags":[]'
check_eq "event: host is uname's nodename" "$(json_str host "$ev")" \
	"$(uname -n)"
check_match "event: usage" "$ev" \
	'"usage":\{"user_cpu_ms":[0-9]+,"sys_cpu_ms":[0-9]+,"max_rss_kib":[0-9]+\}'
check_eq "event: callback_session and callback_agent at the top level" \
	"$(json_str callback_session "$ev") $(json_str callback_agent "$ev")" \
	"sess agent"
check_match "event: meta holds the caller's metadata" "$ev" '"meta":\{[^}]*"k":"v"'

env_got=$(cat "$TMP/got/env.1" 2>/dev/null)
for pair in "AGENT_EXEC_EVENT_PATH=$ROOT/$id/completion_event.json" \
	"AGENT_EXEC_JOB_ID=$id" AGENT_EXEC_EVENT_TYPE=job.finished \
	"AGENT_EXEC_EVENT_ID=$id:job.finished" AGENT_EXEC_DELIVERY_ATTEMPT=1 \
	AGENT_EXEC_CALLBACK_SESSION=sess AGENT_EXEC_CALLBACK_AGENT=agent; do
	if printf '%s\n' "$env_got" | grep -qxF -e "$pair"; then
		ok "command sink env: $pair"
	else
		not_ok "command sink env: $pair"
		echo "#   got: $(printf '%s' "$env_got" | tr '\n' ' ')"
	fi
done
check_eq "command sink cwd: the job's cwd" "$(cat "$TMP/got/pwd.1" 2>/dev/null)" "$d1"
if [ -d /proc/self/fd ]; then
	check_eq "command sink stdout and stderr: /dev/null" \
		"$(cat "$TMP/got/fd.1" 2>/dev/null)" "/dev/null /dev/null"
fi
rec_then=$(json_flat "$TMP/got/record.1" 2>/dev/null)
check_contains "the record exists before the first attempt (seen by the sink)" \
	"$rec_then" "\"event_id\": \"$id:job.finished\""
check_contains "... with delivery_status pending" "$rec_then" \
	'"delivery_status": "pending"'
check_contains "... and delivered false" "$rec_then" '"delivered": false'
check "only one delivery ran" test ! -e "$TMP/got/stdin.2"

check_eq "file sink: parent directories created, one line" \
	"$(line_count "$TMP/deep/er/events.ndjson")" 1
printf '%s\n' "$ev" >"$TMP/ev.expected"
check "file sink: the line is the event, as the command sink got it" \
	cmp -s "$TMP/deep/er/events.ndjson" "$TMP/ev.expected"

rec=$(json_flat "$ROOT/$id/completion_event.json")
check_between "completion_event.json is pretty (several lines)" \
	"$(line_count "$ROOT/$id/completion_event.json")" 10 1000
check_contains "completion_event.json: the event" "$rec" \
	"\"event_id\": \"$id:job.finished\""
check_contains "completion_event.json: delivered true" "$rec" '"delivered": true'
results=$(printf '%s\n' "$rec" | sed 's/.*"delivery_results": \[//')
check_match "delivery_results: the command sink succeeded, attempt 1" "$results" \
	"\\{\"sink_type\": \"command\",\"target\": \"$TMP/rec.sh $TMP/got\",\"success\": true,\"attempted_at\": \"[^\"]*\",\"attempt\": 1,\"duration_ms\": [0-9]+\\}"
check_match "delivery_results: the file sink succeeded, attempt 1" "$results" \
	"\\{\"sink_type\": \"file\",\"target\": \"$TMP/deep/er/events.ndjson\",\"success\": true,\"attempted_at\": \"[^\"]*\",\"attempt\": 1,\"duration_ms\": [0-9]+\\}"
check_eq "delivery_results: two entries" \
	"$(printf '%s\n' "$results" | grep -o '"sink_type"' | wc -l | tr -d ' ')" 2
st=$(cat "$ROOT/$id/state.json")
check_eq "the job's state is untouched by delivery: exited 3" \
	"$(json_str status "$st") $(json_num exit_code "$st")" "exited 3"
cp "$TMP/got/stdin.1" "$TMP/ev/stdin.exited"
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.exited"
cp "$ROOT/$id/meta.json" "$TMP/ev/meta.exited"

# without callback metadata: no AGENT_EXEC_CALLBACK_* variables, meta {}
id=$(start_job --notify-command "$TMP/rec.sh $TMP/plain" -- true)
wait_for "a plain job's event is delivered" 10 delivery_is "$id" delivered
check_lacks "no AGENT_EXEC_CALLBACK_* without --callback-*" \
	"$(cat "$TMP/plain/env.1" 2>/dev/null)" AGENT_EXEC_CALLBACK_
ev=$(cat "$TMP/plain/stdin.1" 2>/dev/null)
check_contains "event without metadata: meta {}" "$ev" '"meta":{}'
check_hasnt "event without metadata: no callback_session" callback_session "$ev"
cp "$TMP/plain/stdin.1" "$TMP/ev/stdin.plain"

# tails are bounded to 4096 bytes
id=$(start_job --notify-file "$TMP/long.ndjson" -- awk 'BEGIN {
	for (i = 1; i <= 60; i++) { s = sprintf("%03d", i)
		while (length(s) < 200) s = s "y"; print s } }')
wait_for "long lines: the event is delivered" 10 has_lines "$TMP/long.ndjson" 1
tail_text=$(json_str stdout_tail "$(cat "$TMP/long.ndjson")")
check_between "stdout_tail of 60 lines of 200 bytes: at most 4096 bytes" \
	"$(printf '%s' "$tail_text" | sed 's/\\n/N/g' | wc -c | tr -d ' ')" 3000 4096
check_match "... ending with the last line" "$tail_text" '060y{197}$'

# ---- job.finished: killed, timed out, failed --------------------------------------------

id=$(start_job --tag ci --tag build.x --notify-file "$TMP/killed.ndjson" -- sleep 30)
ae kill "$id" >/dev/null
wait_for "killed job: the event is delivered" 10 has_lines "$TMP/killed.ndjson" 1
ev=$(cat "$TMP/killed.ndjson")
check_eq "killed event: state killed, signal 15, timed_out false" \
	"$(json_str state "$ev") $(json_str signal "$ev") $(json_bool timed_out "$ev")" \
	"killed 15 false"
check_eq "killed event: signal_name SIGTERM" "$(json_str signal_name "$ev")" SIGTERM
check_contains "killed event: the job's tags" "$ev" '"tags":["ci","build.x"]'
check_schema "killed event: a job_finished_event" job_finished_event \
	"$TMP/killed.ndjson"
check_hasnt "killed event: no exit_code" exit_code "$ev"
check_eq "killed event: exactly one line" "$(line_count "$TMP/killed.ndjson")" 1

id=$(start_job --timeout 500 --notify-file "$TMP/timeout.ndjson" -- sleep 30)
wait_for "timed-out job: the event is delivered" 10 has_lines "$TMP/timeout.ndjson" 1
ev=$(cat "$TMP/timeout.ndjson")
check_eq "timed-out event: state killed, timed_out true, signal 15" \
	"$(json_str state "$ev") $(json_bool timed_out "$ev") $(json_str signal "$ev")" \
	"killed true 15"
check_eq "timed-out event: its job_id" "$(json_str job_id "$ev")" "$id"

id=$(start_job --notify-file "$TMP/nocmd.ndjson" \
	--notify-command "$TMP/rec.sh $TMP/nocmd" -- nosuchcommand-xyz --flag)
wait_for "launch failure (missing command): the event is delivered" 10 \
	delivery_is "$id" delivered
ev=$(cat "$TMP/nocmd.ndjson" 2>/dev/null)
check_eq "missing command event: state failed" "$(json_str state "$ev")" failed
check_contains "missing command event: an error naming the command" \
	"$(json_text error "$ev")" nosuchcommand-xyz
check "missing command: the command sink ran too" test -s "$TMP/nocmd/stdin.1"
check "missing command: the sinks got the same event" \
	test "$(cat "$TMP/nocmd/stdin.1" 2>/dev/null)" = "$ev"
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.nocmd"

id=$(start_job --cwd "$TMP/none" --notify-file "$TMP/nocwd.ndjson" -- true)
wait_for "launch failure (bad --cwd): the event is delivered" 10 \
	has_lines "$TMP/nocwd.ndjson" 1
ev=$(cat "$TMP/nocwd.ndjson")
check_eq "bad --cwd event: state failed" "$(json_str state "$ev")" failed
check_contains "bad --cwd event: the error names the directory" \
	"$(json_text error "$ev")" none
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.nocwd"

# a created job notifies when started
id=$(job_id "$(ae create --notify-file "$TMP/created.ndjson" -- echo hi)")
check "a created job has not notified yet" test ! -e "$TMP/created.ndjson"
ae start --wait "$id" >/dev/null
wait_for "the started job's event is delivered" 10 has_lines "$TMP/created.ndjson" 1
check_eq "... for that job, exited, with its output" \
	"$(json_str job_id "$(cat "$TMP/created.ndjson")") $(json_str state "$(cat "$TMP/created.ndjson")") $(json_str stdout_tail "$(cat "$TMP/created.ndjson")")" \
	"$id exited hi"

# ---- the command runs through the job's shell wrapper ----------------------------------

make_script "$TMP/wrap.sh" <<EOS
printf '%s\n' "\$*" >>"$TMP/wrap.log"
exec sh "\$@"
EOS
id=$(start_job --shell-wrapper "$TMP/wrap.sh -c" \
	--notify-command "cat >$TMP/w.tmp && mv $TMP/w.tmp $TMP/w.ev" -- \
	sh -c 'echo wrapped')
wait_for "a notify command with shell syntax ran" 10 test -s "$TMP/w.ev"
check_contains "... through the job's --shell-wrapper" \
	"$(cat "$TMP/wrap.log" 2>/dev/null)" "-c cat >$TMP/w.tmp && mv $TMP/w.tmp $TMP/w.ev"
check_eq "... and it got the event on stdin" \
	"$(json_str job_id "$(cat "$TMP/w.ev" 2>/dev/null)") $(json_str stdout_tail "$(cat "$TMP/w.ev" 2>/dev/null)")" \
	"$id wrapped"
cp "$TMP/w.ev" "$TMP/ev/stdin.wrapped" 2>/dev/null

# ---- the sink starts soon after the job ends -------------------------------------------

make_script "$TMP/clock.sh" <<'EOS'
date +%s%N >"$1.tmp" && mv "$1.tmp" "$1"
EOS
id=$(start_job --notify-command "$TMP/clock.sh $TMP/t.sink" -- \
	sh -c 'sleep 0.2; date +%s%N >"$1"; echo last' sh "$TMP/t.job")
wait_for "timing: the sink ran" 10 test -s "$TMP/t.sink"
t_job=$(cat "$TMP/t.job" 2>/dev/null)
t_sink=$(cat "$TMP/t.sink" 2>/dev/null)
case $t_job$t_sink in
*[!0-9]* | "")
	# no %N (date printed "SECONDS%N"): whole seconds only
	check_between "timing: the sink starts within a second of the job's end (s)" \
		"$(( ${t_sink%%[!0-9]*} - ${t_job%%[!0-9]*} ))" 0 1 ;;
*)
	gap=$(( (t_sink - t_job) / 1000000 ))
	echo "# note: the sink started $gap ms after the job's last output"
	check_between "timing: the sink starts within 1000 ms of the job's end (ms)" \
		"$gap" 0 1000 ;;
esac

# ---- no injection through output or metadata ---------------------------------------------

make_script "$TMP/sec.sh" <<'EOS'
cat >"$1.tmp"
printf "%s|%s\n" "$AGENT_EXEC_CALLBACK_SESSION" "$AGENT_EXEC_CALLBACK_AGENT" >"$1.env"
mv "$1.tmp" "$1"
EOS
id=$(start_job --meta x="\$(touch $TMP/pwned3)" \
	--callback-session "\`touch $TMP/pwned4\`" --callback-agent "; touch $TMP/pwned5" \
	--notify-command "$TMP/sec.sh $TMP/sec.out" --notify-file "$TMP/sec.ndjson" -- \
	printf '%s\n' "\$(touch $TMP/pwned)" "; touch $TMP/pwned2" "'\"; touch $TMP/pwned6")
wait_for "injection: the event is delivered" 10 delivery_is "$id" delivered
for n in "" 2 3 4 5 6; do
	check "injection: no $TMP/pwned$n" test ! -e "$TMP/pwned$n"
done
check_contains "injection: the sink got the output as text" \
	"$(cat "$TMP/sec.out" 2>/dev/null)" "\$(touch $TMP/pwned)"
check_contains "injection: the sink got the metadata as text" \
	"$(cat "$TMP/sec.out" 2>/dev/null)" "\"x\":\"\$(touch $TMP/pwned3)\""
check_contains "injection: the callback variables hold the text" \
	"$(cat "$TMP/sec.out.env" 2>/dev/null)" "\`touch $TMP/pwned4\`|; touch $TMP/pwned5"
cp "$TMP/sec.out" "$TMP/ev/stdin.sec"
cp "$ROOT/$id/completion_event.json" "$TMP/ev/record.sec"

# ---- the schema -----------------------------------------------------------------------------

cp "$TMP/nocmd/stdin.1" "$TMP/ev/stdin.nocmd" 2>/dev/null
check_schema "command sink stdin: every event is a job_finished_event" \
	job_finished_event "$TMP"/ev/stdin.*
check_schema "the record a sink saw while it ran is a completion_record" \
	completion_record "$TMP/got/record.1"
check_schema "file sink lines are job_finished_events" job_finished_event --lines \
	"$TMP/deep/er/events.ndjson" "$TMP/long.ndjson" "$TMP/killed.ndjson" \
	"$TMP/timeout.ndjson" "$TMP/nocmd.ndjson" "$TMP/nocwd.ndjson" \
	"$TMP/created.ndjson" "$TMP/sec.ndjson" "$TMP/defaults.ndjson"
for dir in "$ROOT"/*/; do
	[ -f "$dir/completion_event.json" ] &&
		cp "$dir/completion_event.json" "$(mktemp "$TMP/ev/record.XXXXXX")"
done
check_schema "every completion_event.json is a completion_record" \
	completion_record "$TMP"/ev/record.*
check_schema "meta.json with notification is a meta_record" meta_record \
	"$TMP"/ev/meta.*
