#!/bin/sh
# events: the root's event log as NDJSON (cursor, time, event_type, job_id
# and the event), in order; --since (a cursor, end), --job, --type; the
# segments under <root>/.events; --follow: new events at once, ends cleanly
# on SIGINT, SIGTERM and a closed pipe; 20 jobs writing at once.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"
# types FILE: the event_types of the lines, space-separated
types() { sed 's/.*"event_type":"//; s/".*//' "$1" | tr '\n' ' ' | sed 's/ $//'; }
# cursors FILE: the cursors of the lines, one a line
cursors() { sed 's/^{"cursor":"//; s/".*//' "$1"; }
# last_cursor FILE: the cursor of the last line
last_cursor() { tail -n 1 "$1" | sed 's/^{"cursor":"//; s/".*//'; }
# cursor_check FILE: "ok" when the first cursor is 0 and each next one is
# the one before plus the bytes of its line (newline included), else the
# first line where that fails.
cursor_check() {
	LC_ALL=C awk '{
		c = $0; sub(/^\{"cursor":"/, "", c); sub(/".*/, "", c)
		if (c != want + 0) { print "line " NR ": cursor " c ", want " want; bad = 1; exit }
		want = c + length($0) + 1
	} END { if (!bad) print "ok" }' "$1"
}
# strip FILE: the lines without their cursor and time
strip() { sed 's/^{"cursor":"[0-9]*","time":"[^"]*",/{/' "$1"; }
# waiting PID: the process sleeps (blocked, e.g. in poll) or is gone, for
# until_true
waiting() { [ "$(proc_field "$1" 3)" = S ] || proc_gone "$1"; }
# seen_ms FILE PATTERN SECONDS: poll FILE every 10 ms; print the time in
# ms when a line matches PATTERN (fixed string), or "never".
seen_ms() {
	_until=$(($(date +%s) + $3))
	while :; do
		if grep -qF -e "$2" "$1" 2>/dev/null; then now_ms; return; fi
		[ "$(date +%s)" -gt "$_until" ] && { echo never; return; }
		sleep 0.01
	done
}

# ---- a root with no events yet ------------------------------------------------------------------

capture ae events
check_eq "events on a root that does not exist yet: exit 0, nothing" "$RC $OUT_BYTES" "0 0"
"$AE_BIN" --root "$ROOT" events --follow >"$TMP/fresh.out" 2>"$TMP/fresh.err" &
fpid=$!
until_true 5 waiting "$fpid"
id0=$(job_id "$(ae run --wait -- true)")
wait_for "events --follow started before the root existed shows the first job" 5 \
	grep -q "\"event_type\":\"job.finished\",\"job_id\":\"$id0\"" "$TMP/fresh.out"
kill -INT "$fpid" 2>/dev/null
wait_status "$fpid" 5
check_eq "... and ends with 0 (SIGINT)" "$WAIT_STATUS" 0

# ---- one job ------------------------------------------------------------------------------------

id=$(job_id "$(ae run --wait -- sh -c 'echo out; echo err >&2; exit 3')")
capture ae events --job "$id"
printf '%s\n' "$OUT" >"$TMP/one.ndjson"
check_eq "events --job ID: exit 0, 3 lines" "$RC $OUT_LINES" "0 3"
check_eq "... created, started, finished, in order" "$(types "$TMP/one.ndjson")" \
	"job.created job.started job.finished"
check_eq "... each line starts with cursor and time" \
	"$(grep -cE '^\{"cursor":"[0-9]+","time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",' "$TMP/one.ndjson")" 3
check_eq "... and names the job" "$(grep -c "\"job_id\":\"$id\"" "$TMP/one.ndjson")" 3
check_schema "... each line is an event_line" event_line --lines "$TMP/one.ndjson"
# --job takes an id as every command does: its short id, a prefix, any case
lower_prefix=$(printf '%s' "$id" | cut -c1-12 | tr 'A-Z' 'a-z')
short=$(printf '%s' "$id" | cut -c21-)
check_eq "events --job SHORT_ID and --job lower-case-prefix: the same 3 lines" \
	"$(ae events --job "$short" | cmp -s - "$TMP/one.ndjson" && echo same) $(ae events --job "$lower_prefix" | cmp -s - "$TMP/one.ndjson" && echo same)" \
	"same same"
check_error "events --job of a job that is not there: job_not_found (not an empty stream)" \
	job_not_found ae events --job 01NOSUCHJOBNOSUCHJOBNOSUCH
ae events --follow --job NOPE >"$TMP/follow-nope.out" 2>&1 &
wait_status $! "$(bound 10)"
check_eq "... nor --follow waiting on it forever: exit 1, job_not_found" \
	"$WAIT_STATUS $(json_str code "$(cat "$TMP/follow-nope.out")")" "1 job_not_found"
created=$(sed -n 1p "$TMP/one.ndjson")
check_contains "job.created: the command" "$created" \
	'"command":["sh","-c","echo out; echo err >&2; exit 3"]'
check_contains "job.created: the cwd" "$created" "\"cwd\":\"$(pwd -P)\""
check_eq "job.started: the job's pid" "$(json_num pid "$(sed -n 2p "$TMP/one.ndjson")")" \
	"$(record_num "$id" pid)"
finished=$(sed -n 3p "$TMP/one.ndjson")
check_eq "job.finished: state exited, exit_code 3" \
	"$(json_str state "$finished") $(json_num exit_code "$finished")" "exited 3"
check_eq "... stdout_tail, stderr_tail" \
	"$(json_str stdout_tail "$finished") $(json_str stderr_tail "$finished")" "out err"
check_eq "... event_id" "$(json_str event_id "$finished")" "$id:job.finished"
strip "$TMP/one.ndjson" | sed -n 3p >"$TMP/finished.json"
check_schema "... without cursor and time, it is a whole job_finished_event" \
	job_finished_event "$TMP/finished.json"

id2=$(start_job -- sleep 30)
ae kill "$id2" >/dev/null
ae wait --timeout-ms 5000 "$id2" >/dev/null
finished=$(ae events --job "$id2" --type job.finished)
check_eq "a killed job: job.finished says killed, signal 15" \
	"$(json_str state "$finished") $(json_str signal "$finished")" "killed 15"
id3=$(job_id "$(ae create -- true)")
ae events --job "$id3" >"$TMP/c.ndjson"
check_eq "a created job: job.created only" "$(types "$TMP/c.ndjson")" job.created
ae start --wait "$id3" >/dev/null
ae events --job "$id3" >"$TMP/c.ndjson"
check_eq "... once started: started and finished follow" "$(types "$TMP/c.ndjson")" \
	"job.created job.started job.finished"

# ---- notifications ------------------------------------------------------------------------------

idn=$(job_id "$(ae run --wait --notify-file "$TMP/n.ndjson" -- true)")
until_true 10 delivery_is "$idn" delivered
ae events --job "$idn" --type delivery.attempted >"$TMP/d.ndjson"
d=$(cat "$TMP/d.ndjson")
check_eq "a file sink: one delivery.attempted line" "$(line_count "$TMP/d.ndjson")" 1
check_contains "... for the job.finished event, file sink, success" "$d" \
	"\"event_id\":\"$idn:job.finished\",\"sink_type\":\"file\",\"target\":\"$TMP/n.ndjson\",\"success\":true"
check_eq "... attempt 1" "$(json_num attempt "$d")" 1
check "... after the job.finished line" \
	test "$(cursors "$TMP/d.ndjson")" -gt "$(json_str cursor "$(ae events --job "$idn" --type job.finished)")"
idf=$(job_id "$(ae run --wait --notify-command 'exit 3' --notify-retries 0 -- true)")
until_true 10 delivery_is "$idf" failed
d=$(ae events --job "$idf" --type delivery.attempted)
check_contains "a failing command sink: delivery.attempted, success false" "$d" \
	'"sink_type":"command","target":"exit 3","success":false,"error":"exited with status 3"'

flag=$TMP/ready.flag
idm=$(start_job -- sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done; echo "READY now"; echo other' sh "$flag")
ae notify set "$idm" --output-pattern READY >/dev/null
: >"$flag"
ae wait --timeout-ms 10000 "$idm" >/dev/null
until_true 5 has_lines "$ROOT/$idm/notification_events.ndjson" 1
ae events --job "$idm" --type job.output.matched >"$TMP/m.ndjson"
check_eq "an output match: one job.output.matched line" "$(line_count "$TMP/m.ndjson")" 1
check_eq "... with the line" "$(json_str line "$(cat "$TMP/m.ndjson")")" "READY now"
strip "$TMP/m.ndjson" >"$TMP/m.json"
check_schema "... without cursor and time, an output_matched_event" output_matched_event \
	"$TMP/m.json"

# ---- the whole log, cursors, segments -------------------------------------------------------------

capture ae events
printf '%s\n' "$OUT" >"$TMP/all.ndjson"
check_eq "events: exit 0" "$RC" 0
check_schema "every line is an event_line" event_line --lines "$TMP/all.ndjson"
check_eq "cursors: 0, then each the one before plus its line's bytes" \
	"$(cursor_check "$TMP/all.ndjson")" ok
jobs_now=$(job_dirs)
check_eq "one job.created per job" "$(grep -c '"event_type":"job.created"' "$TMP/all.ndjson")" \
	"$jobs_now"
check "the log lives in <root>/.events" test -d "$ROOT/.events"
names=$(for f in "$ROOT"/.events/*; do
	[ "${f##*/}" = lock ] || printf '%s ' "${f##*/}"
done)
check_match "... in segments named by 20-digit offsets" "$names" \
	'^([0-9]{20}\.ndjson )+$'
check "... the first is 00000000000000000000.ndjson" \
	test -f "$ROOT/.events/00000000000000000000.ndjson"
check "... which holds the lines events printed" \
	cmp -s "$ROOT/.events/00000000000000000000.ndjson" "$TMP/all.ndjson"
out=$(ae list --all)
check_eq "list ignores .events: every job, nothing skipped" \
	"$(printf '%s' "$out" | grep -o '"job_id"' | wc -l | tr -d ' ') $(json_num skipped "$out")" \
	"$jobs_now 0"

# ---- --since --------------------------------------------------------------------------------------

total=$(line_count "$TMP/all.ndjson")
for n in 1 2 $((total / 2)) $((total - 1)); do
	c=$(sed -n "${n}p" "$TMP/all.ndjson" | sed 's/^{"cursor":"//; s/".*//')
	ae events --since "$c" >"$TMP/since.ndjson"
	sed "1,${n}d" "$TMP/all.ndjson" >"$TMP/since.want"
	check "--since the cursor of line $n: exactly the lines after it" \
		cmp -s "$TMP/since.ndjson" "$TMP/since.want"
done
capture ae events --since "$(last_cursor "$TMP/all.ndjson")"
check_eq "--since the last cursor: nothing" "$RC $OUT_BYTES" "0 0"
capture ae events --since end
check_eq "--since end: nothing old" "$RC $OUT_BYTES" "0 0"
check_error "--since abc: invalid_cursor" invalid_cursor ae events --since abc
printf '%s\n' "$OUT" >"$TMP/ans/error"
check_error "--since 12abc: invalid_cursor" invalid_cursor ae events --since 12abc
# a cursor past the end of the log is another root's (or of a log since
# removed): reading from there would lose the events to come
past=$(($(wc -c <"$ROOT/.events/00000000000000000000.ndjson") + 1000))
check_error "--since past the end of the log: invalid_cursor" invalid_cursor \
	ae events --since "$past"
check_contains "... the message says what is expected" "$OUT" "a cursor from an event of this root"
ae events --follow --since "$past" >"$TMP/follow-past.out" 2>&1 &
wait_status $! "$(bound 10)"
check_eq "... --follow from it too: exit 1 at once, not a silent wait" \
	"$WAIT_STATUS $(json_str code "$(cat "$TMP/follow-past.out")")" "1 invalid_cursor"
check_schema "... the error is an answer" - "$TMP/ans/error"

# resume from the last cursor while jobs are being run
(for n in 1 2 3 4 5 6 7 8; do ae run --wait -- true >/dev/null; done) &
gen=$!
: >"$TMP/resumed.ndjson"
cursor=$(last_cursor "$TMP/all.ndjson")
reads=0
until_done=$(($(date +%s) + 15))
while :; do
	gen_done=0
	proc_gone "$gen" && gen_done=1
	ae events --since "$cursor" >"$TMP/part.ndjson"
	reads=$((reads + 1))
	if [ -s "$TMP/part.ndjson" ]; then
		cat "$TMP/part.ndjson" >>"$TMP/resumed.ndjson"
		cursor=$(last_cursor "$TMP/part.ndjson")
	elif [ $gen_done = 1 ] && has_lines "$TMP/resumed.ndjson" 24; then
		break	# and this read found nothing more
	elif [ "$(date +%s)" -gt "$until_done" ]; then
		break
	else
		sleep 0.02
	fi
done
wait_status "$gen" 5
ae events >"$TMP/all2.ndjson"
sed "1,${total}d" "$TMP/all2.ndjson" >"$TMP/resumed.want"
echo "# note: $(line_count "$TMP/resumed.ndjson") new lines in $reads reads"
check_eq "resuming from each last cursor while 8 jobs run: 24 new lines" \
	"$(line_count "$TMP/resumed.ndjson")" 24
check "... exactly the full listing's (no loss, no duplicate)" \
	cmp -s "$TMP/resumed.ndjson" "$TMP/resumed.want"

# ---- filters ----------------------------------------------------------------------------------------

ae events --job "$id" >"$TMP/f1"
check "--job ID: that job's lines" cmp -s "$TMP/f1" "$TMP/one.ndjson"
ae events --job "$(printf '%s' "$id" | cut -c1-20)" >"$TMP/f2"
check "--job with an id prefix: the same" cmp -s "$TMP/f2" "$TMP/one.ndjson"
ae events --type job.finished >"$TMP/f3"
grep '"event_type":"job.finished"' "$TMP/all2.ndjson" >"$TMP/f3.want"
check "--type job.finished: those lines only" cmp -s "$TMP/f3" "$TMP/f3.want"
ae events --type 'job.*' >"$TMP/f4"
grep -v '"event_type":"delivery\.' "$TMP/all2.ndjson" >"$TMP/f4.want"
check "--type 'job.*': every job.* line, no delivery.attempted" cmp -s "$TMP/f4" "$TMP/f4.want"
ae events --type delivery.attempted >"$TMP/f5"
check_eq "--type delivery.attempted: the 2 deliveries" "$(types "$TMP/f5")" \
	"delivery.attempted delivery.attempted"
ae events --job "$id" --type job.started >"$TMP/f6"
check_eq "--job and --type together: one line" "$(types "$TMP/f6") $(grep -c "$id" "$TMP/f6")" \
	"job.started 1"
# an unknown type is a usage error, not an empty stream --follow waits on
check_usage_error "--type job.finish (a slip): usage error" ae events --type job.finish
check_contains "... which names the known types" "$ERR" "job.output.dropped delivery.attempted"
check_usage_error "--type 'foo.*' (no such namespace): usage error" \
	ae events --follow --type 'foo.*'
check_usage_error "--type '*': usage error" ae events --type '*'
capture ae events --type 'job.output.*'
check_eq "--type 'job.output.*' is accepted" "$RC" 0

# ---- --follow ------------------------------------------------------------------------------------

start_cursor=$(last_cursor "$TMP/all2.ndjson")
"$AE_BIN" --root "$ROOT" events --follow --since "$start_cursor" >"$TMP/follow.out" 2>"$TMP/follow.err" &
fpid=$!
until_true 5 waiting "$fpid" || echo "# the follower did not settle"
flag=$TMP/end.flag
# the job notes its start and end in ms (whole seconds where date has no %N)
make_script "$TMP/timed.sh" <<'EOS'
ms() {
	ns=$(date +%s%N)
	case $ns in *N | "") echo "$(($(date +%s) * 1000))" ;; *) echo "$((ns / 1000000))" ;; esac
}
ms >"$1.start"
while [ ! -e "$1" ]; do sleep 0.01; done
ms >"$1.end"
exit 0
EOS
idl=$(start_job -- "$TMP/timed.sh" "$flag")
seen_started=$(seen_ms "$TMP/follow.out" "\"event_type\":\"job.started\",\"job_id\":\"$idl\"" 5)
until_true 5 test -s "$flag.start"
: >"$flag"
seen_finished=$(seen_ms "$TMP/follow.out" "\"event_type\":\"job.finished\",\"job_id\":\"$idl\"" 5)
lat_started=never
lat_finished=never
[ "$seen_started" != never ] && lat_started=$((seen_started - $(cat "$flag.start")))
[ "$seen_finished" != never ] && lat_finished=$((seen_finished - $(cat "$flag.end")))
echo "# note: --follow latency: job.started ${lat_started} ms, job.finished ${lat_finished} ms"
# a clock in whole seconds can add up to a second to what is measured
bound=999
case $(date +%N) in *N | "") bound=1999; echo "# note: date has no %N: bound ${bound} ms" ;; esac
check_between "--follow shows job.started promptly (ms)" "$lat_started" -1000 "$bound"
check_between "--follow shows job.finished promptly (ms)" "$lat_finished" -1000 "$bound"
check_eq "... the follower's lines: this job's created, started, finished" \
	"$(types "$TMP/follow.out")" "job.created job.started job.finished"
check_schema "... event_lines" event_line --lines "$TMP/follow.out"
kill -INT "$fpid" 2>/dev/null
wait_status "$fpid" 5
check_eq "--follow ends with 0 on SIGINT" "$WAIT_STATUS" 0
check_eq "... having printed whole lines only" "$(tail -c 1 "$TMP/follow.out" | od -An -c | tr -d ' ')" '\n'
check_eq "... nothing on stderr" "$(file_size "$TMP/follow.err")" 0

"$AE_BIN" --root "$ROOT" events --follow >"$TMP/follow2.out" &
fpid=$!
until_true 5 has_lines "$TMP/follow2.out" 3
until_true 5 waiting "$fpid"
kill -TERM "$fpid" 2>/dev/null
wait_status "$fpid" 5
check_eq "--follow ends with 0 on SIGTERM" "$WAIT_STATUS" 0

"$AE_BIN" --root "$ROOT" events --follow --since end >"$TMP/follow3.out" &
fpid=$!
until_true 5 waiting "$fpid"
idc=$(job_id "$(ae create -- true)")
wait_for "--follow --since end: the new job.created shows" 5 has_lines "$TMP/follow3.out" 1
check_eq "... and nothing older" "$(types "$TMP/follow3.out") $(grep -c "$idc" "$TMP/follow3.out")" \
	"job.created 1"
kill -TERM "$fpid" 2>/dev/null
wait_status "$fpid" 5

# a closed pipe ends it
mkfifo "$TMP/pipe1"
head -n 1 <"$TMP/pipe1" >"$TMP/head1.out" &
hpid=$!
"$AE_BIN" --root "$ROOT" events --follow >"$TMP/pipe1" &
epid=$!
wait_status "$epid" 5
check_eq "events --follow | head -n 1, with events: ends promptly, status 0" "$WAIT_STATUS" 0
wait_status "$hpid" 5
check_eq "... head got the first line" "$(cut -c1-13 "$TMP/head1.out")" '{"cursor":"0"'

mkfifo "$TMP/pipe2"
head -n 1 <"$TMP/pipe2" >"$TMP/head2.out" &
hpid=$!
"$AE_BIN" --root "$ROOT" events --follow --since "$(last_cursor "$TMP/follow3.out")" >"$TMP/pipe2" &
epid=$!
until_true 5 waiting "$epid"
ae create -- true >/dev/null
wait_status "$hpid" 5
check_eq "events --follow | head -n 1, one new event: head ends" "$WAIT_STATUS" 0
wait_status "$epid" 5
check_eq "... and so does events, with 0, with no later event" "$WAIT_STATUS" 0

# ---- 20 jobs at once ----------------------------------------------------------------------------

R2=$TMP/conc
pids=""
for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	"$AE_BIN" --root "$R2" run --wait -- sh -c "echo job $n" >/dev/null 2>&1 &
	pids="$pids $!"
done
codes=""
for pid in $pids; do
	wait_status "$pid" 15
	codes="$codes$WAIT_STATUS"
done
check_eq "20 jobs run at once" "$codes" 00000000000000000000
# (a job's job.finished line may follow the end of its run --wait)
all_finished() {
	[ "$("$AE_BIN" --root "$R2" events --type job.finished | wc -l)" -ge 20 ]
}
until_true 5 all_finished
"$AE_BIN" --root "$R2" events >"$TMP/conc.ndjson"
check_eq "... the log has 60 lines" "$(line_count "$TMP/conc.ndjson")" 60
check_schema "... each well formed (event_line)" event_line --lines "$TMP/conc.ndjson"
check_eq "... cursors from 0, each the one before plus its line's bytes" \
	"$(cursor_check "$TMP/conc.ndjson")" ok
check_eq "... strictly increasing" "$(cursors "$TMP/conc.ndjson" | sort -n -c 2>&1 && cursors "$TMP/conc.ndjson" | sort -u | wc -l | tr -d ' ')" 60
check_eq "... 20 jobs, each created, started, finished in that order" \
	"$(sed 's/.*"event_type":"\([^"]*\)","job_id":"\([^"]*\)".*/\2 \1/' "$TMP/conc.ndjson" |
		awk '{ seq[$1] = seq[$1] " " $2 } END { for (j in seq) print seq[j] }' | sort | uniq -c |
		sed 's/^ *//')" "20  job.created job.started job.finished"
check "... the same lines in its one segment" \
	cmp -s "$R2/.events/00000000000000000000.ndjson" "$TMP/conc.ndjson"
