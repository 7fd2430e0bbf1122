#!/bin/sh
# Load: 200 runs at once (all answered, all exited 0, distinct ids, valid
# records, a whole event log with increasing cursors); 25 tag sets and 25
# notify sets at once on one job (no update lost); list, gc --dry-run and gc
# on a store of 10,000 finished jobs. Durations are printed as notes, never
# asserted.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"

# ---- 200 concurrent runs ---------------------------------------------------------

n=200
t0=$(now_ms)
i=0
while [ "$i" -lt "$n" ]; do
	"$AE_BIN" --root "$ROOT" run --snapshot-after 0 -- sh -c 'echo $1' x "$i" \
		>"$TMP/ans/run.$i" 2>"$TMP/ans/run.$i.err" &
	i=$((i + 1))
done
wait
echo "# note: $n concurrent runs answered in $(($(now_ms) - t0)) ms"
cat "$TMP"/ans/run.[0-9]* >"$TMP/runs.all"
check_eq "200 concurrent runs: 200 answers ok" \
	"$(grep -c '^{"schema_version":"0.1","ok":true,"type":"run"' "$TMP/runs.all")" "$n"
check_eq "... nothing on stderr" "$(cat "$TMP"/ans/run.*.err | wc -c | tr -d ' ')" 0
check_schema "... every answer matches the schema" - --lines "$TMP/runs.all"
sed 's/.*"job_id":"\([^"]*\)".*/\1/' "$TMP/runs.all" >"$TMP/ids"
check_eq "... 200 distinct job ids" "$(sort -u "$TMP/ids" | grep -cE "$ID_RE")" "$n"
check_eq "... 200 job directories" "$(job_dirs)" "$n"

# wait on each; its stdout must be its own number
t0=$(now_ms)
bad=""
i=0
while [ "$i" -lt "$n" ]; do
	id=$(job_id "$(cat "$TMP/ans/run.$i")")
	out=$(ae wait --timeout-ms 20000 "$id")
	case $out in
	*'"state":"exited","exit_code":0,'*) ;;
	*) bad="$bad $i:$(json_str state "$out")" ;;
	esac
	[ "$(cat "$ROOT/$id/stdout.log" 2>/dev/null)" = "$i" ] || bad="$bad $i:stdout"
	i=$((i + 1))
done
echo "# note: 200 waits took $(($(now_ms) - t0)) ms"
check_eq "... all 200 jobs exited 0, each with its own output" "$bad" ""
check_schema "... every state.json matches state_record" state_record "$ROOT"/*/state.json
check_schema "... every meta.json matches meta_record" meta_record "$ROOT"/*/meta.json
check_eq "... none recorded as supervisor_lost" \
	"$(cat "$ROOT"/*/state.json | grep -c supervisor_lost)" 0

ae events >"$TMP/events.ndjson"
check_eq "the event log: 600 lines (created, started, finished per job)" \
	"$(line_count "$TMP/events.ndjson")" 600
check_schema "... every line is an event_line" event_line --lines "$TMP/events.ndjson"
for type in job.created job.started job.finished; do
	check_eq "... 200 $type" \
		"$(grep -c "\"event_type\":\"$type\"" "$TMP/events.ndjson")" "$n"
done
# each cursor is the one before plus the bytes of its line: strictly
# increasing, no gap, no overlap
cursor_order=$(LC_ALL=C awk '{
	c = $0; sub(/^\{"cursor":"/, "", c); sub(/".*/, "", c)
	if (NR > 1 && c + 0 <= last) { print "line " NR ": " c " after " last; exit }
	if (c + 0 != want) { print "line " NR ": cursor " c ", want " want; exit }
	last = c + 0; want = c + length($0) + 1
} END { print "ok" }' "$TMP/events.ndjson" | head -n 1)
check_eq "... cursors strictly increasing, each line right after the one before" \
	"$cursor_order" ok
check_eq "... every job has its 3 events" \
	"$(grep -o '"job_id":"[^"]*"' "$TMP/events.ndjson" | sort | uniq -c | awk '$1 != 3' | wc -l | tr -d ' ')" 0

# ---- 25 tag sets and 25 notify sets at once on one job ---------------------------

id=$(start_job -- sleep 30)
pid=$(record_num "$id" pid)
i=0
while [ "$i" -lt 25 ]; do
	"$AE_BIN" --root "$ROOT" tag set "$id" --tag "a$i" --tag "b$i.x" >"$TMP/ans/tag.$i" 2>&1 &
	"$AE_BIN" --root "$ROOT" notify set "$id" --command "true notify-$i" \
		>"$TMP/ans/notify.$i" 2>&1 &
	i=$((i + 1))
done
wait
check_eq "25 tag sets + 25 notify sets at once: all 50 answer ok" \
	"$(cat "$TMP"/ans/tag.* "$TMP"/ans/notify.* | grep -c '"ok":true')" 50
check_schema "... meta.json is valid JSON and a meta_record" meta_record "$ROOT/$id/meta.json"
flat=$(json_flat "$ROOT/$id/meta.json")
tags=$(printf '%s' "$flat" | grep -o '"tags": \[[^]]*\]')
check_match "... its tags are those of one tag set" "$tags" \
	'^"tags": \["a([0-9]+)","b\1\.x"\]$'
check_match "... and its notify_command that of one notify set (no update lost)" \
	"$(json_str notify_command "$flat")" '^true notify-[0-9]+$'
check_eq "... status shows the same tags" \
	"$(ae status "$id" | grep -o '"tags":\[[^]]*\]' | tr -d ' ')" \
	"$(printf '%s' "$tags" | sed 's/"tags": /"tags":/; s/, */,/g')"
check_eq "... the job still runs" "$(state_of "$id")" running
kill -KILL "-${pid:-none}" 2>/dev/null
until_true 5 is_state "$id" killed

# ---- a store of 10,000 finished jobs -------------------------------------------------

big="$TMP/big"
mkdir -p "$big"
chmod 700 "$big"
count=10000
t0=$(now_ms)
# ids: 01J0000000000000000000 + 4 digits (Crockford base32, 26 characters)
awk -v root="$big" -v n="$count" 'BEGIN {
	for (i = 0; i < n; i++) printf "%s/01J0000000000000000000%04d\n", root, i
}' | xargs mkdir
awk -v root="$big" -v n="$count" 'BEGIN {
	for (i = 0; i < n; i++) {
		id = sprintf("01J0000000000000000000%04d", i)
		meta = root "/" id "/meta.json"
		state = root "/" id "/state.json"
		printf "{\"job\":{\"id\":\"%s\"},\"schema_version\":\"0.1\",\"command\":[\"echo\",\"%d\"],\"created_at\":\"2020-01-01T00:00:00Z\",\"root\":\"%s\",\"env_keys\":[],\"cwd\":\"/\",\"tags\":[\"load\"],\"inherit_env\":true,\"timeout_ms\":0,\"kill_after_ms\":0,\"progress_every_ms\":0,\"shell_wrapper\":[\"sh\",\"-lc\"]}\n", id, i, root >meta
		close(meta)
		printf "{\"job\":{\"id\":\"%s\",\"status\":\"exited\",\"started_at\":\"2020-01-01T00:00:00Z\"},\"result\":{\"exit_code\":0,\"signal\":null,\"duration_ms\":5},\"finished_at\":\"2020-01-01T00:00:01Z\",\"updated_at\":\"2020-01-01T00:00:01Z\"}\n", id >state
		close(state)
	}
}'
echo "# note: writing 10,000 job directories took $(($(now_ms) - t0)) ms"
check_schema "the hand-made records match the schema (a sample)" meta_record \
	"$big/01J00000000000000000000000/meta.json" "$big/01J00000000000000000009999/meta.json"
check_schema "... state.json too" state_record \
	"$big/01J00000000000000000000000/state.json" "$big/01J00000000000000000009999/state.json"

t0=$(now_ms)
capture "$AE_BIN" --root "$big" list --all
echo "# note: list --all of 10,000 jobs took $(($(now_ms) - t0)) ms ($OUT_BYTES bytes)"
check_eq "list --all on 10,000 jobs: exit 0, 10,000 entries" \
	"$RC $(printf '%s' "$OUT" | grep -o '"job_id"' | wc -l | tr -d ' ')" "0 $count"
check_eq "... none skipped, not truncated" \
	"$(json_num skipped "$OUT") $(json_bool truncated "$OUT")" "0 false"
printf '%s\n' "$OUT" >"$TMP/list.json"
check_schema "... the answer matches the schema" - "$TMP/list.json"
capture "$AE_BIN" --root "$big" list --all --limit 5
check_eq "list --all --limit 5: 5 entries, truncated" \
	"$(printf '%s' "$OUT" | grep -o '"job_id"' | wc -l | tr -d ' ') $(json_bool truncated "$OUT")" "5 true"

t0=$(now_ms)
capture "$AE_BIN" --root "$big" gc --dry-run
echo "# note: gc --dry-run of 10,000 jobs took $(($(now_ms) - t0)) ms"
check_eq "gc --dry-run on 10,000 old jobs: all would_delete" \
	"$RC $(printf '%s' "$OUT" | grep -o '"action":"would_delete"' | wc -l | tr -d ' ')" "0 $count"
check_eq "... deleted 0, skipped 0" "$(json_num deleted "$OUT") $(json_num skipped "$OUT")" "0 0"
printf '%s\n' "$OUT" >"$TMP/gc.json"
check_schema "... the answer matches the schema" - "$TMP/gc.json"
check_eq "... and nothing was deleted" "$(ls "$big" | wc -l | tr -d ' ')" "$count"

t0=$(now_ms)
capture "$AE_BIN" --root "$big" gc
echo "# note: gc of 10,000 jobs took $(($(now_ms) - t0)) ms"
check_eq "gc on 10,000 old jobs: deleted 10,000" "$RC $(json_num deleted "$OUT")" "0 $count"
check_eq "... the root holds no job directory any more" "$(ls "$big" | wc -l | tr -d ' ')" 0
