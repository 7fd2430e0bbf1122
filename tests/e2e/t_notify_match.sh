#!/bin/sh
# notifications, part 4: job.output.matched. A rule set with notify set
# fires for the very next matching line (never for lines printed before);
# contains vs regex (POSIX ERE); stream filters; changing and removing the
# rule; the event's keys; the record appended to notification_events.ndjson
# (with and without sinks); the command and file sinks of a rule; a failing
# rule sink; a long line.
. "$(dirname "$0")/lib.sh"

unset AGENT_EXEC_CALLBACK_SESSION AGENT_EXEC_CALLBACK_AGENT
mkdir -p "$TMP/ev"

# stepper.sh DIR: for N = 1, 2, ...: wait for DIR/N, print DIR/N.out on
# stdout and DIR/N.err on stderr, then "step-N" on both; exit after a step
# with DIR/N.end (or after 30 s without a step).
make_script "$TMP/stepper.sh" <<'EOS'
n=1
while :; do
	i=0
	while [ ! -e "$1/$n" ]; do
		sleep 0.02
		i=$((i + 1))
		[ $i -gt 1500 ] && exit 9
	done
	[ -e "$1/$n.out" ] && cat "$1/$n.out"
	[ -e "$1/$n.err" ] && cat "$1/$n.err" >&2
	echo "step-$n"
	echo "step-$n" >&2
	[ -e "$1/$n.end" ] && exit 0
	n=$((n + 1))
done
EOS
# step JOB DIR N OUT [ERR]: make the stepper print step N (OUT and ERR are
# printf formats, e.g. 'A\nB\n'), then wait until the job's supervisor has
# read it all (both step-N lines are in full.log).
# shellcheck disable=SC2059 # OUT and ERR are formats
step() {
	printf "$4" >"$2/$3.out"
	[ -n "${5:-}" ] && printf "$5" >"$2/$3.err"
	: >"$2/$3"
	until_true 10 stepped "$1" "$3" ||
		echo "# step $3 of $1 was not seen in full.log"
}
stepped() {
	[ "$(grep -c "\] step-$2\$" "$ROOT/$1/full.log" 2>/dev/null)" = 2 ]
}
# events ID: the job's notification_events.ndjson
events() { cat "$ROOT/$1/notification_events.ndjson" 2>/dev/null; }
# has_event ID LINE: a record with that line, for until_true
has_event() { events "$1" | grep -qF -e "\"line\":\"$2\""; }
# event_with ID LINE: the record with that line
event_with() { events "$1" | grep -F -e "\"line\":\"$2\"" | head -n 1; }
# lines_of ID STREAM: the matched lines of a stream, in order, joined by |
lines_of() {
	events "$1" | grep -F "\"stream\":\"$2\"" | sed 's/.*"line":"//; s/".*//' |
		tr '\n' '|'
}

# ---- rules changing while the job runs (no sinks) ------------------------------------------

S=$TMP/s1
mkdir -p "$S"
id=$(start_job --meta k=v -- "$TMP/stepper.sh" "$S")
step "$id" "$S" 1 'READY 0\n'
check "before any rule: no notification_events.ndjson" \
	test ! -e "$ROOT/$id/notification_events.ndjson"
out=$(ae notify set "$id" --output-pattern READY)
check_contains "notify set --output-pattern READY on the running job" "$out" \
	'"on_output_match":{"pattern":"READY","match_type":"contains","stream":"either"}'
step "$id" "$S" 2 'READY 1\n' 'READY e\n'
wait_for "the very next matching line fires (stdout)" 5 has_event "$id" "READY 1"
wait_for "... and on stderr too (stream either)" 5 has_event "$id" "READY e"
ev=$(event_with "$id" "READY 1")
case $ev in
'{"schema_version":"0.1","event_type":"job.output.matched","job_id":"'"$id"'","pattern":"READY","match_type":"contains","stream":"stdout","line":"READY 1",'*)
	ok "the record: schema_version, event_type, job_id, pattern, match_type, stream, line" ;;
*) not_ok "the record: schema_version, event_type, job_id, pattern, match_type, stream, line"
	echo "#   $(printf '%s' "$ev" | head -c 400)" ;;
esac
check_eq "... stdout_log_path" "$(json_str stdout_log_path "$ev")" "$ROOT/$id/stdout.log"
check_eq "... stderr_log_path" "$(json_str stderr_log_path "$ev")" "$ROOT/$id/stderr.log"
check_match "... event_id <job_id>:job.output.matched:<n>" "$(json_str event_id "$ev")" \
	"^$id:job\\.output\\.matched:[0-9]+\$"
check_match "... matched_at" "$(json_str matched_at "$ev")" "$TS_RE"
check_contains "... meta" "$ev" '"meta":{"k":"v"}'
check_contains "... no sink: delivery_results []" "$ev" '"delivery_results":[]'
check_lacks "... and not pending" "$ev" '"delivery_status":"pending"'
check_eq "the stderr event says stream stderr" \
	"$(json_str stream "$(event_with "$id" "READY e")")" stderr
check_eq "the line printed before the rule is not replayed" \
	"$(events "$id" | grep -c '"line":"READY 0"')" 0

ae notify set "$id" --output-stream stderr >/dev/null
step "$id" "$S" 3 'READY 2\n' 'READY 3\n'
wait_for "--output-stream stderr: the stderr line fires" 5 has_event "$id" "READY 3"
ae notify set "$id" --output-stream stdout >/dev/null
step "$id" "$S" 4 'READY 4\n' 'READY 5\n'
wait_for "--output-stream stdout: the stdout line fires" 5 has_event "$id" "READY 4"

ae notify set "$id" --output-pattern '^ERR [0-9]+$' --output-match-type regex \
	--output-stream either >/dev/null
step "$id" "$S" 5 'ERR 12\nxERR 12\nERR 12x\nERR abc\nERR 7\n' 'ERR 99\n'
wait_for "regex '^ERR [0-9]+\$': ERR 12 fires" 5 has_event "$id" "ERR 12"
wait_for "... ERR 7 fires" 5 has_event "$id" "ERR 7"
wait_for "... ERR 99 on stderr fires" 5 has_event "$id" "ERR 99"
ev=$(event_with "$id" "ERR 7")
check_eq "... the event names the regex" \
	"$(json_str pattern "$ev") $(json_str match_type "$ev")" '^ERR [0-9]+$ regex'

ae notify set "$id" --output-pattern 'a.c' --output-match-type contains >/dev/null
step "$id" "$S" 6 'abc\nxa.cx\n'
wait_for "contains 'a.c': the literal text fires" 5 has_event "$id" "xa.cx"

ae notify set "$id" --output-pattern "" >/dev/null
step "$id" "$S" 7 'xa.cx again\nREADY 6\nERR 1\n' 'READY 7\n'
ae notify set "$id" --output-pattern BARRIER >/dev/null
: >"$S/8.end"
step "$id" "$S" 8 'BARRIER\n'
wait_for "a new rule after the removed one fires" 5 has_event "$id" BARRIER
out=$(ae wait --timeout-ms 10000 "$id")
check_eq "the stepping job ends" "$(json_str state "$out")" exited
sup=$(record_num "$id" supervisor_pid)
until_true 10 proc_gone "${sup:-0}"
check_eq "all matched stdout lines, in order (nothing else)" \
	"$(lines_of "$id" stdout)" 'READY 1|READY 4|ERR 12|ERR 7|xa.cx|BARRIER|'
check_eq "all matched stderr lines, in order (nothing else)" \
	"$(lines_of "$id" stderr)" 'READY e|READY 3|ERR 99|'
check_eq "event_ids are <job_id>:job.output.matched:1..9" \
	"$(events "$id" | sed 's/.*"event_id":"//; s/".*//' | sort -t: -k3n | tr '\n' ' ')" \
	"$(for n in 1 2 3 4 5 6 7 8 9; do printf '%s ' "$id:job.output.matched:$n"; done)"
check "no completion_event.json without a job.finished sink" \
	test ! -e "$ROOT/$id/completion_event.json"
check_schema "every record is a notification_record" notification_record --lines \
	"$ROOT/$id/notification_events.ndjson"

# ---- a rule with a command and a file sink ---------------------------------------------------

# mrec.sh DIR: keep stdin and the AGENT_EXEC_ variables of each delivery
make_script "$TMP/mrec.sh" <<'EOS'
mkdir -p "$1"
cat >"$1/stdin.$$"
env | grep '^AGENT_EXEC_' | sort >"$1/env.$$"
EOS
S=$TMP/s2
mkdir -p "$S"
id=$(start_job --meta k=v --callback-session cs --callback-agent ca -- \
	"$TMP/stepper.sh" "$S")
step "$id" "$S" 1 'HIT 0\n'
out=$(ae notify set "$id" --output-pattern HIT \
	--output-command "$TMP/mrec.sh $TMP/m" --output-file "$TMP/mf/matches.ndjson")
step "$id" "$S" 2 'HIT 1\nmiss\n'
wait_for "a rule with sinks: the match is recorded" 5 has_event "$id" "HIT 1"
ev=$(event_with "$id" "HIT 1")
check_contains "... command sink delivered" "$ev" \
	"{\"sink_type\":\"command\",\"target\":\"$TMP/mrec.sh $TMP/m\",\"success\":true,"
check_contains "... file sink delivered" "$ev" \
	"{\"sink_type\":\"file\",\"target\":\"$TMP/mf/matches.ndjson\",\"success\":true,"
check_match "... delivered true, status delivered" "$ev" \
	'"delivered":true,"delivery_status":"delivered"\}$'
check_contains "... callback_session in the event" "$ev" '"callback_session":"cs"'
got=$(cat "$TMP"/m/stdin.* 2>/dev/null)
check_eq "the command sink got the event" "$(json_str line "$got")" "HIT 1"
check_eq "... its event_id is the record's" "$(json_str event_id "$got")" \
	"$(json_str event_id "$ev")"
check_contains "... and the record is the event plus the delivery" "$ev" \
	"${got%\}},\"delivery_results\":["
env_got=$(cat "$TMP"/m/env.* 2>/dev/null)
for pair in AGENT_EXEC_EVENT_TYPE=job.output.matched "AGENT_EXEC_JOB_ID=$id" \
	"AGENT_EXEC_EVENT_ID=$(json_str event_id "$ev")" AGENT_EXEC_DELIVERY_ATTEMPT=1 \
	AGENT_EXEC_CALLBACK_SESSION=cs AGENT_EXEC_CALLBACK_AGENT=ca; do
	if printf '%s\n' "$env_got" | grep -qxF -e "$pair"; then
		ok "output-match command sink env: $pair"
	else
		not_ok "output-match command sink env: $pair"
		echo "#   got: $(printf '%s' "$env_got" | tr '\n' ' ')"
	fi
done
echo "# note: $(printf '%s\n' "$env_got" | grep AGENT_EXEC_EVENT_PATH)"
check_eq "the file sink: parent created, one line" \
	"$(line_count "$TMP/mf/matches.ndjson")" 1
printf '%s\n' "$got" >"$TMP/got.expected"
check "... the line is the event the command sink got" \
	cmp -s "$TMP/mf/matches.ndjson" "$TMP/got.expected"
cp "$TMP"/m/stdin.* "$TMP/ev/" 2>/dev/null

# the record is appended once the delivery is done
make_script "$TMP/gate.sh" <<'EOS'
cat >/dev/null
: >"$1.started"
i=0
while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
EOS
ae notify set "$id" --output-command "$TMP/gate.sh $TMP/gate" >/dev/null
step "$id" "$S" 3 'HIT g\n'
wait_for "a blocking rule sink starts" 10 test -e "$TMP/gate.started"
check "... while it runs, the job's output is still captured" stepped "$id" 3
check_eq "... while it runs, the match is not recorded yet" \
	"$(events "$id" | grep -c '"line":"HIT g"')" 0
: >"$TMP/gate"
wait_for "... once it ends, the match is recorded" 10 has_event "$id" "HIT g"

# a failing rule sink (no retries), then a 10000-byte line
ae notify set "$id" --output-command "exit 3" --notify-retries 0 >/dev/null
step "$id" "$S" 4 'HIT 2\n'
wait_for "a failing rule sink: the match is still recorded" 5 has_event "$id" "HIT 2"
ev=$(event_with "$id" "HIT 2")
check_contains "... the command attempt failed: exited with status 3" "$ev" \
	'"sink_type":"command","target":"exit 3","success":false,"error":"exited with status 3"'
check_contains "... delivered false" "$ev" '"delivered":false'
check_contains "... status failed" "$ev" '"delivery_status":"failed"'
ae notify set "$id" --output-command "" >/dev/null
long=$(awk 'BEGIN { while (length(s) < 9990) s = s "z"; printf "%s HIT-LONG", s }')
: >"$S/5.end"
step "$id" "$S" 5 "$long\\n"
wait_for "a 10000-byte line fires whole" 5 has_event "$id" "$long"
ae wait --timeout-ms 10000 "$id" >/dev/null
check_eq "the file sink has one line per match" "$(line_count "$TMP/mf/matches.ndjson")" 4
check_eq "... in order" \
	"$(sed 's/.*"line":"//; s/".*//' "$TMP/mf/matches.ndjson" | cut -c1-8 | tr '\n' '|')" \
	'HIT 1|HIT g|HIT 2|zzzzzzzz|'
check_eq "HIT 0, printed before the rule, never fired" \
	"$(events "$id" | grep -c '"line":"HIT 0"')" 0

# ---- more matches than the queue holds: counted and told, never silently gone ---------------

# 600 matching lines while every sink is held at a gate: 256 wait, the
# other 344 are given to no sink, and the records and the event log say so.
Q="$TMP/queue"
mkdir -p "$Q"
make_script "$Q/sink.sh" <<EOS
while [ ! -e "$Q/gate" ]; do sleep 0.05; done
EOS
capture ae run --snapshot-after 0 -- sh -c '
	while [ ! -e "$1/go" ]; do sleep 0.05; done
	i=1
	while [ $i -le 600 ]; do echo "QHIT $i"; i=$((i + 1)); done
	while [ ! -e "$1/end" ]; do sleep 0.05; done' sh "$Q"
qid=$(job_id "$OUT")
ae notify set "$qid" --output-pattern QHIT --output-command "$Q/sink.sh" >/dev/null
: >"$Q/go"
all_read() { [ "$(grep -c 'QHIT' "$ROOT/$qid/full.log" 2>/dev/null)" = 600 ]; }
wait_for "600 matching lines, every sink held: the supervisor reads them all" 20 all_read
: >"$Q/gate"
records_done() { [ "$(line_count "$ROOT/$qid/notification_events.ndjson")" = 257 ]; }
wait_for "... once the sinks are let go: 256 records and one job.output.dropped" 60 records_done
: >"$Q/end"
ae wait --timeout-ms 20000 "$qid" >/dev/null
dropped=$(grep '"event_type":"job.output.dropped"' "$ROOT/$qid/notification_events.ndjson")
check_eq "... it counts the 344 matches no sink was given" "$(json_num dropped "$dropped")" 344
check_eq "... from the 257th to the 600th" \
	"$(json_str first_event_id "$dropped") $(json_str last_event_id "$dropped")" \
	"$qid:job.output.matched:257 $qid:job.output.matched:600"
check_contains "... its status is dropped" "$dropped" '"delivery_status":"dropped"'
check_eq "... the delivered matches are the first 256" \
	"$(grep -c '"delivery_status":"delivered"' "$ROOT/$qid/notification_events.ndjson")" 256
ae events --job "$qid" >"$TMP/queue.events"
check_eq "the event log tells the same: a job.output.dropped of 344" \
	"$(json_num dropped "$(grep '"job.output.dropped"' "$TMP/queue.events")")" 344
check_eq "... and job.finished counts them: output_matches_dropped 344" \
	"$(json_num output_matches_dropped "$(grep '"job.finished"' "$TMP/queue.events")")" 344
check_schema "... every line of the log is an event_line" event_line --lines "$TMP/queue.events"
check_schema "every line of the record is a notification_line" notification_line \
	--lines "$ROOT/$qid/notification_events.ndjson"

# ---- the schema ------------------------------------------------------------------------------

check_schema "the rule's records are notification_records" notification_record \
	--lines "$ROOT/$id/notification_events.ndjson"
check_schema "the file sink lines are output_matched_events" output_matched_event \
	--lines "$TMP/mf/matches.ndjson"
check_schema "what the command sink got is an output_matched_event" \
	output_matched_event "$TMP"/ev/stdin.*
