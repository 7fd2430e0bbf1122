#!/bin/sh
# Resource limits a container or a cron job sets: a descriptor shortage at
# any point of a launch, a file-size limit below the logs or below the
# room a job's records need. Whatever the limit: exactly one answer, no
# hang, nothing crashes, and the record tells the job's real outcome with
# the real reason; never a false supervisor_lost.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/n"

# limited N CMD...: the binary under `ulimit -n N` (descriptors)
limited() {
	_n=$1
	shift
	(ulimit -n "$_n" && exec timeout 20 "$AE_BIN" --root "$ROOT" "$@")
}

# ---- descriptors -----------------------------------------------------------------

bad=""
hung=""
outcomes=""
for n in 6 7 8 9 10 11 12 13 14 15 16 20 24; do
	capture limited "$n" run --wait --notify-file "$TMP/n/$n.ndjson" -- echo hi
	if [ "$RC" = 124 ]; then
		hung="$hung $n"
		continue
	fi
	state=$(json_str state "$OUT")
	error=$(json_text error "$OUT")
	case "$RC $OUT_LINES $(json_bool ok "$OUT")" in
	"0 1 true" | "1 1 false") ;;
	*) bad="$bad [$n: exit $RC, $OUT_LINES lines]" ;;
	esac
	[ "$error" = supervisor_lost ] && bad="$bad [$n: supervisor_lost]"
	id=$(job_id "$OUT")
	if [ -n "$id" ]; then
		# the record agrees with the answer, and stays so
		again=$(state_of "$id")
		[ "$again" = "$state" ] || bad="$bad [$n: answered $state, status $again]"
		case $state in
		exited)
			[ "$(json_num exit_code "$OUT")" = 0 ] ||
				bad="$bad [$n: exited without exit code 0]" ;;
		failed)
			[ -n "$error" ] || bad="$bad [$n: failed without a reason]" ;;
		*) bad="$bad [$n: $state]" ;;
		esac
	fi
	outcomes="$outcomes $n:${state:-$(json_str code "$OUT")}"
done
echo "# note: ulimit -n outcomes:$outcomes"
check_eq "descriptor limits 6-24: no run --wait hangs" "$hung" ""
check_eq "... one answer each; the record tells the real outcome, never supervisor_lost" "$bad" ""
check_contains "... with enough descriptors the job runs" "$outcomes" "24:exited"

# Nothing hangs on a job that cannot start: with --wait, with start --wait,
# nor without --wait (run answers at once instead of sleeping its window).
# At 6 descriptors the job is refused before it exists; at 7 its
# supervisor cannot be started.
before=$(ls "$ROOT" | wc -l | tr -d ' ')
capture limited 6 run --wait -- true
check_eq "ulimit -n 6: run --wait is refused at once: io_error, retryable" \
	"$RC $(json_str code "$OUT") $(json_bool retryable "$OUT")" "1 io_error true"
check_contains "... saying why" "$(json_text message "$OUT")" "No file descriptors available"
check_eq "... no job directory left behind" "$(ls "$ROOT" | wc -l | tr -d ' ')" "$before"
capture limited 7 run --wait -- true
check_eq "ulimit -n 7: run --wait answers at once: failed" "$RC $(json_str state "$OUT")" "0 failed"
check_contains "... saying why" "$(json_text error "$OUT")" "No file descriptors available"
capture limited 7 run -- true
check_eq "ulimit -n 7: run answers failed" "$(json_str state "$OUT")" failed
check_between "... within its window, not after it (elapsed_ms)" \
	"$(json_num elapsed_ms "$OUT")" 0 5000
capture ae create -- true
cid=$(job_id "$OUT")
capture limited 7 start --wait "$cid"
check_eq "ulimit -n 7: start --wait answers: failed" "$RC $(json_str state "$OUT")" "0 failed"
check_eq "... status agrees" "$(state_of "$cid")" failed

# ---- file size -----------------------------------------------------------------------

# fsize KIB CMD...: the binary under `ulimit -f KIB`
fsize() {
	_k=$1
	shift
	(ulimit -f "$_k" && exec timeout 20 "$AE_BIN" --root "$ROOT" "$@")
}
# (a short answer: it goes to a file under the same limit)
capture fsize 64 run --wait --max-bytes 100 -- head -c 1000000 /dev/zero
id=$(job_id "$OUT")
check_eq "ulimit -f 64, 1 MB of output: the job runs to its end: exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
check_contains "... the record says the output was cut, and why" \
	"$(json_text error "$OUT")" "output cut: cannot write logs: File too large"
check_eq "... status agrees" "$(state_of "$id")" exited
before=$(ls "$ROOT" | wc -l | tr -d ' ')
capture fsize 4 run --wait -- true
check_eq "ulimit -f 4 (below the room a job's records need): io_error" \
	"$RC $(json_str code "$OUT")" "1 io_error"
check_contains "... naming the real cause" "$(json_text message "$OUT")" "File too large"
check_eq "... no job directory left behind" "$(ls "$ROOT" | wc -l | tr -d ' ')" "$before"
