#!/bin/sh
# notifications, part 3: notify set (answers, merge rules, bad values,
# invalid regexes, other meta.json keys kept, no sink run for a finished
# job, 30 concurrent notify set + tag set) and notify redeliver (failed,
# fixed, delivered and --force, running, no event, unknown job).
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans" "$TMP/d1"
tmp_real=$(cd "$TMP" && pwd -P)
d1=$(cd "$TMP/d1" && pwd -P)
# keep_answer NAME CMD...: capture CMD and keep its answer as $TMP/ans/NAME
keep_answer() {
	_name=$1
	shift
	capture "$@"
	printf '%s\n' "$OUT" >"$TMP/ans/$_name"
}
# notif_of ID: meta.json's notification object, flattened ("" if none)
notif_of() {
	json_flat "$ROOT/$1/meta.json" | grep -o '"notification": {.*' |
		sed 's/}, *"[a-z_]*": .*/}/'
}
# set_ok DESC ID FLAGS...: notify set ID FLAGS succeeds; leaves OUT
set_ok() {
	_desc=$1
	shift
	keep_answer "set.$(ls "$TMP/ans" | wc -l | tr -d ' ')" ae notify set "$@"
	case $OUT in
	'{"schema_version":"0.1","ok":true,"type":"notify.set","job_id":"'"$1"'","notification":{'*'}}')
		[ "$RC" = 0 ] && { ok "$_desc"; return; } ;;
	esac
	not_ok "$_desc"
	echo "#   exit $RC: $(printf '%s' "$OUT" | head -c 400)"
}
# notification_of JSON: the answer's notification object
notification_of() { printf '%s\n' "$1" | sed 's/.*"notification"://; s/}$//'; }

# ---- answers and merge rules ---------------------------------------------------------------

id=$(job_id "$(ae create --tag a --tag b --meta k=v --timeout 5000 -- true)")
cp "$ROOT/$id/meta.json" "$TMP/meta.before"
set_ok "notify set with no flags: ok" "$id"
check_eq "... notification {}" "$(notification_of "$OUT")" '{}'
check_hasnt "... and meta.json has no notification" notification \
	"$(cat "$ROOT/$id/meta.json")"

set_ok "notify set --command: ok" "$id" --command 'echo "x y"'
check_contains "... the answer has notify_command" "$OUT" \
	'"notify_command":"echo \"x y\""'
check_contains "... meta.json has notify_command" "$(notif_of "$id")" \
	'"notify_command": "echo \"x y\""'
check_match "... meta.json stays pretty: notification's members indented as run writes them" \
	"$(grep -A1 '^  "notification": {$' "$ROOT/$id/meta.json" | sed -n 2p)" \
	'^    "notify_command": '
set_ok "notify set --file (relative): ok" "$id" --file rel/f.ndjson
check_contains "... --file keeps notify_command" "$OUT" '"notify_command":"echo \"x y\""'
out=$(cd "$TMP" && ae notify set "$id" --file rel/f.ndjson)
check_contains "... a relative --file is made absolute (from the caller's cwd)" \
	"$out" "\"notify_file\":\"$tmp_real/rel/f.ndjson\""
set_ok "notify set --command C2 replaces the command" "$id" --command C2
check_contains "... notify_command C2" "$OUT" '"notify_command":"C2"'
check_contains "... notify_file kept" "$OUT" "\"notify_file\":\"$tmp_real/rel/f.ndjson\""
set_ok "notify set --command '': ok" "$id" --command ""
check_hasnt "... notify_command cleared" notify_command "$OUT"
check_contains "... notify_file kept" "$OUT" '"notify_file"'

set_ok "notify set --output-command X without a rule: ok" "$id" --output-command X
check_hasnt "... no rule is made without a pattern" on_output_match "$OUT"
set_ok "notify set --output-pattern P: ok" "$id" --output-pattern P
check_contains "... the rule: P, contains, either" "$OUT" \
	'"on_output_match":{"pattern":"P","match_type":"contains","stream":"either"}'
check_contains "... meta.json has the rule" "$(notif_of "$id")" \
	'"on_output_match": {"pattern": "P","match_type": "contains","stream": "either"}'
set_ok "notify set --output-match-type regex: ok" "$id" --output-match-type regex
check_contains "... only match_type changes" "$OUT" \
	'"on_output_match":{"pattern":"P","match_type":"regex","stream":"either"}'
set_ok "notify set --output-stream stderr: ok" "$id" --output-stream stderr
check_contains "... only stream changes" "$OUT" \
	'"on_output_match":{"pattern":"P","match_type":"regex","stream":"stderr"}'
out=$(cd "$TMP/d1" && ae notify set "$id" --output-command OC --output-file m.ndjson)
check_contains "notify set --output-command --output-file: both added" "$out" \
	"\"on_output_match\":{\"pattern\":\"P\",\"match_type\":\"regex\",\"stream\":\"stderr\",\"command\":\"OC\",\"file\":\"$d1/m.ndjson\"}"
set_ok "notify set --output-pattern Q: ok" "$id" --output-pattern Q
check_contains "... only the pattern changes" "$OUT" \
	"\"on_output_match\":{\"pattern\":\"Q\",\"match_type\":\"regex\",\"stream\":\"stderr\",\"command\":\"OC\",\"file\":\"$d1/m.ndjson\"}"
set_ok "notify set --output-command '': ok" "$id" --output-command ""
check_contains "... the rule without command" "$OUT" \
	"\"on_output_match\":{\"pattern\":\"Q\",\"match_type\":\"regex\",\"stream\":\"stderr\",\"file\":\"$d1/m.ndjson\"}"
set_ok "notify set --output-file '': ok" "$id" --output-file ""
check_contains "... the rule without file" "$OUT" \
	'"on_output_match":{"pattern":"Q","match_type":"regex","stream":"stderr"}'
check_contains "... the job.finished sinks untouched" "$OUT" '"notify_file"'
set_ok "notify set --output-stream stdout --output-match-type contains" "$id" \
	--output-stream stdout --output-match-type contains
check_contains "... both change" "$OUT" \
	'"on_output_match":{"pattern":"Q","match_type":"contains","stream":"stdout"}'
cp "$ROOT/$id/meta.json" "$TMP/ans/meta.rule"

# bad values: usage errors, nothing changed
cp "$ROOT/$id/meta.json" "$TMP/meta.now"
check_usage_error "--output-match-type glob: usage error" \
	ae notify set "$id" --output-match-type glob
check_usage_error "--output-stream both: usage error" \
	ae notify set "$id" --output-stream both
check_usage_error "--notify-timeout x: usage error" \
	ae notify set "$id" --notify-timeout x
check_usage_error "--notify-retries -2: usage error" \
	ae notify set "$id" --notify-retries -2
check_usage_error "notify set --tag (not a notify flag): usage error" \
	ae notify set "$id" --tag x
check_usage_error "notify set without an id: usage error" ae notify set
check_usage_error "notify alone: usage error" ae notify
check_usage_error "notify bogus: usage error" ae notify bogus "$id"
check "after the usage errors meta.json is unchanged" \
	cmp -s "$ROOT/$id/meta.json" "$TMP/meta.now"

# invalid regexes
check_error "--output-pattern 'a(' --output-match-type regex: invalid_regex" \
	invalid_regex ae notify set "$id" --output-pattern 'a(' --output-match-type regex
cp "$TMP/.capture.out" "$TMP/ans/error.regex"
check_contains "... the message names the pattern" "$OUT" 'a('
check "... meta.json unchanged" cmp -s "$ROOT/$id/meta.json" "$TMP/meta.now"
set_ok "'a(' as a contains pattern is fine" "$id" --output-pattern 'a('
check_contains "... stored" "$OUT" '"pattern":"a(","match_type":"contains"'
cp "$ROOT/$id/meta.json" "$TMP/meta.now"
check_error "switching that rule to regex: invalid_regex" invalid_regex \
	ae notify set "$id" --output-match-type regex
check "... meta.json unchanged" cmp -s "$ROOT/$id/meta.json" "$TMP/meta.now"
set_ok "'^ERR [0-9]+\$' as a regex: ok" "$id" --output-pattern '^ERR [0-9]+$' \
	--output-match-type regex
check_contains "... stored as given" "$OUT" '"pattern":"^ERR [0-9]+$","match_type":"regex"'

set_ok "notify set --output-pattern '': ok" "$id" --output-pattern ""
check_hasnt "... the rule is removed" on_output_match "$OUT"
check_hasnt "... also from meta.json" on_output_match "$(cat "$ROOT/$id/meta.json")"
set_ok "notify set --file '': ok" "$id" --file ""
check_eq "... nothing configured: notification {}" "$(notification_of "$OUT")" '{}'
check_hasnt "... and meta.json has no notification" notification \
	"$(cat "$ROOT/$id/meta.json")"
check "after all that, meta.json is as created" \
	cmp -s "$ROOT/$id/meta.json" "$TMP/meta.before"
after=$(json_flat "$ROOT/$id/meta.json")
check_contains "other keys kept: tags" "$after" '"tags": ["a","b"]'
check_contains "other keys kept: meta" "$after" '"meta": {"k": "v"}'
check_contains "other keys kept: timeout_ms" "$after" '"timeout_ms": 5000'

# timeout and retries
id2=$(job_id "$(ae create --notify-command C --notify-timeout 100 -- true)")
set_ok "notify set --notify-timeout 1234 --notify-retries 5" "$id2" \
	--notify-timeout 1234 --notify-retries 5
check_contains "... notify_timeout_ms 1234" "$OUT" '"notify_timeout_ms":1234'
check_contains "... notify_retries 5" "$OUT" '"notify_retries":5'
check_contains "... meta.json: notify_timeout_ms" "$(notif_of "$id2")" \
	'"notify_timeout_ms": 1234'
check_contains "... the sink kept" "$OUT" '"notify_command":"C"'

# a job created with sinks (and so the default timeout and retries), cleared
id2=$(job_id "$(ae create --notify-command C --notify-file "$TMP/f.ndjson" -- true)")
set_ok "clearing the sinks of a job created with them: ok" "$id2" \
	--command "" --file ""
check_eq "... nothing configured: notification {}" "$(notification_of "$OUT")" '{}'
check_hasnt "... and meta.json has no notification" notification \
	"$(cat "$ROOT/$id2/meta.json")"

check_error "notify set on an unknown job: job_not_found" job_not_found \
	ae notify set 01ZZZZZZZZZZZZZZZZZZZZZZZZ --command x
cp "$TMP/.capture.out" "$TMP/ans/error.notfound"

# ---- notify set on a finished job runs no sink -------------------------------------------

id=$(start_job --notify-file "$TMP/done.ndjson" -- true)
wait_for "a finished job delivered its event" 10 has_lines "$TMP/done.ndjson" 1
sup=$(record_num "$id" supervisor_pid)
until_true 10 proc_gone "${sup:-0}"
set_ok "notify set on the finished job: ok" "$id" --command "touch $TMP/ran" \
	--output-pattern x --output-command "touch $TMP/ran2"
set_ok "... and again with a new file" "$id" --file "$TMP/done2.ndjson"
if until_true 1 test -e "$TMP/ran" -o -e "$TMP/ran2" -o -e "$TMP/done2.ndjson"; then
	not_ok "notify set on a finished job runs no sink"
else
	ok "notify set on a finished job runs no sink"
fi
check_eq "... and adds nothing to the old file" "$(line_count "$TMP/done.ndjson")" 1

# ---- 30 concurrent notify set and tag set ---------------------------------------------------

id=$(job_id "$(ae create --meta k=v -- true)")
i=0
pids=""
while [ $i -lt 30 ]; do
	"$AE_BIN" --root "$ROOT" notify set "$id" --command "C$i" \
		--output-pattern "P$i" >"$TMP/cn.$i" 2>&1 &
	pids="$pids $!"
	"$AE_BIN" --root "$ROOT" tag set "$id" --tag "t$i" >"$TMP/ct.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
check_eq "30 concurrent notify set: all ok" \
	"$(cat "$TMP"/cn.* | grep -c '"type":"notify.set"')" 30
check_eq "30 concurrent tag set: all ok" \
	"$(cat "$TMP"/ct.* | grep -c '"ok":true')" 30
check_schema "... meta.json is still a valid meta_record" meta_record \
	"$ROOT/$id/meta.json"
meta=$(json_flat "$ROOT/$id/meta.json")
check_match "... it has one full notify set result" "$meta" \
	'"notification": \{"notify_command": "C([0-9]+)",.*"on_output_match": \{"pattern": "P[0-9]+","match_type": "contains","stream": "either"\}'
c=$(json_str notify_command "$meta")
check_eq "... command and pattern from the same call" \
	"$(json_str pattern "$meta")" "P${c#C}"
check_match "... and one tag set's tags" "$meta" '"tags": \["t[0-9]+"\]'
check_contains "... other keys kept" "$meta" '"meta": {"k": "v"}'

# ---- notify redeliver ---------------------------------------------------------------------

make_script "$TMP/good.sh" <<'EOS'
cat >>"$1"
echo >>"$1"
EOS
check_error "redeliver of an unknown job: job_not_found" job_not_found \
	ae notify redeliver 01ZZZZZZZZZZZZZZZZZZZZZZZZ
id=$(start_job --notify-command "$TMP/good.sh $TMP/run.out" -- sleep 30)
check_error "redeliver of a running job: invalid_state" invalid_state \
	ae notify redeliver "$id"
cp "$TMP/.capture.out" "$TMP/ans/error.running"
check_error "redeliver --force of a running job: invalid_state" invalid_state \
	ae notify redeliver --force "$id"
ae kill --signal KILL "$id" >/dev/null
id=$(job_id "$(ae run --wait -- true)")
check_error "redeliver of a job with no event and no sink: invalid_state" \
	invalid_state ae notify redeliver "$id"
check_error "... also with --force" invalid_state ae notify redeliver --force "$id"
id=$(job_id "$(ae create --notify-file "$TMP/never.ndjson" -- true)")
check_error "redeliver of a created job: invalid_state" invalid_state \
	ae notify redeliver "$id"
check "... which wrote nothing" test ! -e "$TMP/never.ndjson"

# a failed delivery, redelivered to the same failing sink, then fixed
id=$(start_job --notify-command "exit 4" --notify-retries 0 -- sh -c 'echo hi')
wait_for "a job whose only sink fails: delivery failed" 10 delivery_is "$id" failed
sup=$(record_num "$id" supervisor_pid)
until_true 10 proc_gone "${sup:-0}"
keep_answer redeliver.1 ae notify redeliver "$id"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"notify.redeliver","job_id":"'"$id"'","event_id":"'"$id"':job.finished","delivered":false,"delivery_results":['*)
	ok "redeliver to the still-failing sink: ok, delivered false" ;;
*) not_ok "redeliver to the still-failing sink: ok, delivered false"
	echo "#   $(printf '%s' "$OUT" | head -c 400)" ;;
esac
check_eq "... exit 0" "$RC" 0
check_eq "... two attempts in all" \
	"$(printf '%s\n' "$OUT" | grep -o '"error":"exited with status 4"' | wc -l | tr -d ' ')" 2
check_eq "... the record says failed" "$(delivery_status "$id")" failed
set_ok "fix the sink with notify set --command" "$id" --command "$TMP/good.sh $TMP/fixed.out"
keep_answer redeliver.2 ae notify redeliver "$id"
check_contains "redeliver after the fix: delivered true" "$OUT" '"delivered":true'
check_match "... all attempts, the earlier ones first" "$OUT" \
	"\"delivery_results\":\\[\\{[^]]*\"error\":\"exited with status 4\"[^]]*\\},\\{[^]]*\"error\":\"exited with status 4\"[^]]*\\},\\{\"sink_type\":\"command\",\"target\":\"$TMP/good.sh $TMP/fixed.out\",\"success\":true,[^]]*\\}\\]\\}\$"
check_eq "... the record is delivered" "$(delivery_status "$id")" delivered
check_contains "... the record keeps every attempt" \
	"$(json_flat "$ROOT/$id/completion_event.json")" '"error": "exited with status 4"'
check_eq "... the fixed sink got the event once" "$(line_count "$TMP/fixed.out")" 1
ev=$(head -n 1 "$TMP/fixed.out")
check_eq "... with the same event_id" "$(json_str event_id "$ev")" "$id:job.finished"
check_eq "... and the job's output" "$(json_str stdout_tail "$ev")" hi
check_error "redeliver of a delivered event: invalid_state" invalid_state \
	ae notify redeliver "$id"
check_eq "... which ran no sink" "$(line_count "$TMP/fixed.out")" 1
keep_answer redeliver.3 ae notify redeliver --force "$id"
check_contains "redeliver --force: delivered true" "$OUT" '"delivered":true'
check_eq "... the sink got it again" "$(line_count "$TMP/fixed.out")" 2
check_eq "... the same event_id again" \
	"$(json_str event_id "$(sed -n 2p "$TMP/fixed.out")")" "$id:job.finished"
set_ok "add a file sink" "$id" --file "$TMP/later.ndjson"
keep_answer redeliver.4 ae notify redeliver --force "$id"
check_contains "redeliver --force with a command and a file: delivered" "$OUT" \
	'"delivered":true'
check_eq "... the file sink got one line" "$(line_count "$TMP/later.ndjson")" 1
check_eq "... the line is the same event" \
	"$(json_str event_id "$(cat "$TMP/later.ndjson")")" "$id:job.finished"
cp "$ROOT/$id/completion_event.json" "$TMP/ans/record.redelivered"

# a redelivery typed while the supervisor still delivers: it waits (up to
# 2 s) for that delivery to settle, then delivers; refused, retryable, when
# the other delivery goes on longer
id=$(start_job --notify-command "while [ ! -e '$TMP/release' ]; do sleep 0.05; done" \
	-- true)
wait_for "a supervisor delivering until released" 10 \
	process_alive "$(record_num "$id" supervisor_pid)"
until_true 10 test -e "$ROOT/$id/completion_event.json"
capture ae notify redeliver --force "$id"
check_eq "redeliver during a long delivery: invalid_state, retryable" \
	"$RC $(json_str code "$OUT") $(json_bool retryable "$OUT")" "1 invalid_state true"
check_contains "... the message says to try again" "$OUT" "try again when"
printf '%s\n' "$OUT" >"$TMP/ans/error.busy"
touch "$TMP/release"
capture ae notify redeliver --force "$id"
check_eq "redeliver as that delivery settles: waits for it, then delivers" \
	"$RC $(json_bool delivered "$OUT")" "0 true"

# ---- the schema ----------------------------------------------------------------------------

check_schema "every notify set answer is a notify_set" notify_set "$TMP"/ans/set.*
check_schema "... and matches the schema's answers" - "$TMP"/ans/set.*
check_schema "every redeliver answer is a notify_redeliver" notify_redeliver \
	"$TMP"/ans/redeliver.*
check_schema "... and matches the schema's answers" - "$TMP"/ans/redeliver.*
check_schema "the error answers are errors" error "$TMP"/ans/error.*
check_schema "meta.json with an output rule is a meta_record" meta_record \
	"$TMP/ans/meta.rule"
check_schema "the redelivered record is a completion_record" completion_record \
	"$TMP/ans/record.redelivered"
check_schema "the redelivered events are job_finished_events" job_finished_event \
	--lines "$TMP/fixed.out" "$TMP/later.ndjson"
