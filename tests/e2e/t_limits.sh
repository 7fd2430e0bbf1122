#!/bin/sh
# Resource limits a container or a cron job sets: a descriptor shortage at
# any point of a launch, a file-size limit below the logs or below the
# room a job's records need. Whatever the limit: exactly one answer, no
# hang, nothing crashes, and the record tells the job's real outcome with
# the real reason; never a false supervisor_lost.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/n"
# EMFILE as musl and glibc (the sanitizer build) say it
EMFILE_TEXT='No file descriptors available|Too many open files'

# limited N CMD...: the binary under `ulimit -n N` (descriptors)
limited() {
	_n=$1
	shift
	(ulimit -n "$_n" && exec timeout 20 "$AE_BIN" --root "$ROOT" "$@")
}

# ---- descriptors -----------------------------------------------------------------

# (under user-mode qemu the emulator holds descriptors of its own, so
# these exact counts mean nothing there)
if emulated; then
	echo "# skip: descriptor limits under qemu (the emulator needs descriptors of its own)"
else
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
	check_match "... saying why" "$(json_text message "$OUT")" "$EMFILE_TEXT"
	check_eq "... no job directory left behind" "$(ls "$ROOT" | wc -l | tr -d ' ')" "$before"
	capture limited 7 run --wait -- true
	check_eq "ulimit -n 7: run --wait answers at once: failed" "$RC $(json_str state "$OUT")" "0 failed"
	check_match "... saying why" "$(json_text error "$OUT")" "$EMFILE_TEXT"
	capture limited 7 run -- true
	check_eq "ulimit -n 7: run answers failed" "$(json_str state "$OUT")" failed
	check_between "... within its window, not after it (elapsed_ms)" \
		"$(json_num elapsed_ms "$OUT")" 0 5000
	capture ae create -- true
	cid=$(job_id "$OUT")
	capture limited 7 start --wait "$cid"
	check_eq "ulimit -n 7: start --wait answers: failed" "$RC $(json_str state "$OUT")" "0 failed"
	check_eq "... status agrees" "$(state_of "$cid")" failed
fi

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

# An append lands whole or leaves the file as it was: a file-size limit
# that falls in the middle of a line (as a full disk does) must not leave
# half a line for the next append to be glued to.
# (what `ulimit -f 64` allows, in bytes: the unit is the shell's)
(ulimit -f 64 && exec head -c 200000 /dev/zero >"$TMP/probe") 2>/dev/null
limit=$(wc -c <"$TMP/probe" | tr -d ' ')
# fill FILE BYTES LINE: append copies of the whole line LINE, then pad the
# last line with spaces (still JSON), so that FILE holds exactly BYTES
fill() {
	while [ "$(wc -c <"$1")" -lt "$(($2 - ${#3} - 1))" ]; do
		printf '%s\n' "$3" >>"$1"
	done
	_size=$(wc -c <"$1" | tr -d ' ')
	head -c "$((_size - 1))" "$1" >"$1.tmp"
	head -c "$(($2 - _size))" /dev/zero | tr '\0' ' ' >>"$1.tmp"
	echo >>"$1.tmp"
	cat "$1.tmp" >"$1"
	rm -f "$1.tmp"
}
ae run --wait --notify-file "$TMP/near.ndjson" -- true >/dev/null
wait_for "a first job.finished in the notify file" 20 has_lines "$TMP/near.ndjson" 1
fill "$TMP/near.ndjson" $((limit - 300)) "$(head -n 1 "$TMP/near.ndjson")"
size_before=$(wc -c <"$TMP/near.ndjson" | tr -d ' ')
capture fsize 64 run --wait --notify-file "$TMP/near.ndjson" \
	--notify-retries 0 -- true
id=$(job_id "$OUT")
check_eq "notify file 300 bytes below ulimit -f: the job runs: exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
wait_for "... the delivery fails" 20 delivery_is "$id" failed
check_eq "... the line that did not fit is taken back: the file is as it was" \
	"$(wc -c <"$TMP/near.ndjson" | tr -d ' ')" "$size_before"
check_contains "... the completion record says why" \
	"$(cat "$ROOT/$id/completion_event.json")" "File too large"
# (the supervisor records the failure before it lets go of the delivery;
# a redelivery waits 2 s for that, and a slow machine may need longer)
redelivered() { ae notify redeliver --force "$id" | grep -q '"ok":true'; }
wait_for "... without the limit, a redelivery is accepted" 20 redelivered
wait_for "... and delivers" 20 delivery_is "$id" delivered
check_schema "... appends a whole line: every line of the file is a job_finished_event" \
	job_finished_event --lines "$TMP/near.ndjson"

# the event log: its segment near the limit
eroot="$TMP/eroot"
"$AE_BIN" --root "$eroot" run --wait -- true >/dev/null
seg="$eroot/.events/00000000000000000000.ndjson"
fill "$seg" $((limit - 200)) "$(head -n 1 "$seg")"
(ulimit -f 64 && exec timeout 20 "$AE_BIN" --root "$eroot" run --wait -- true) \
	>/dev/null 2>&1
last=$("$AE_BIN" --root "$eroot" run --wait -- true)
"$AE_BIN" --root "$eroot" events >"$TMP/events.out"
check_schema "event log 200 bytes below ulimit -f: every line events prints is an event_line" \
	event_line --lines "$TMP/events.out"
check_eq "... the job run after the limit is in it, whole (created, started, finished)" \
	"$(grep -c "\"job_id\":\"$(job_id "$last")\"" "$TMP/events.out")" 3

# ---- a pids cgroup ------------------------------------------------------------------------

# pids_cgroup: a new pids cgroup (v1, or v2 with the pids controller), its
# path on stdout; fails where none can be made (not root, no cgroupfs)
pids_cgroup() {
	for _base in /sys/fs/cgroup/pids /sys/fs/cgroup; do
		[ -w "$_base" ] || continue
		[ "$_base" = /sys/fs/cgroup ] &&
			! grep -qw pids "$_base/cgroup.controllers" 2>/dev/null && continue
		mkdir "$_base/ae-test-$$" 2>/dev/null || continue
		[ -e "$_base/ae-test-$$/pids.max" ] && { echo "$_base/ae-test-$$"; return 0; }
		rmdir "$_base/ae-test-$$"
	done
	return 1
}
if [ -n "${AE_UNDER_TOOL:-}" ]; then
	# LeakSanitizer and valgrind need processes of their own at exit
	echo "# skip: a pids cgroup under $AE_UNDER_TOOL (it needs processes of its own)"
elif cg=$(pids_cgroup); then
	bad=""
	for n in 1 2 3 4; do
		echo "$n" >"$cg/pids.max"
		capture timeout 20 sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --root "$3" run --wait -- true' \
			sh "$cg" "$AE_BIN" "$ROOT"
		state=$(json_str state "$OUT")
		case "$RC:$state:$(json_text error "$OUT")" in
		124:*) bad="$bad [pids.max $n: hung]" ;;
		0:exited:* | 0:failed:cannot*) ;;
		*) bad="$bad [pids.max $n: exit $RC, $state, $(json_text error "$OUT")]" ;;
		esac
		id=$(job_id "$OUT")
		[ -n "$id" ] && [ "$(state_of "$id")" != "$state" ] && bad="$bad [pids.max $n: status disagrees]"
	done
	check_eq "a pids cgroup with pids.max 1-4: run --wait answers each time with the real reason, never supervisor_lost" "$bad" ""
	capture timeout 20 sh -c 'echo 2 >"$1/pids.max" && echo $$ >"$1/cgroup.procs" && exec "$2" --root "$3" run --wait -- true' \
		sh "$cg" "$AE_BIN" "$ROOT"
	check_eq "... pids.max 2: failed, the supervisor could not be forked" \
		"$(json_str state "$OUT") $(json_text error "$OUT")" \
		"failed cannot fork the supervisor: Resource temporarily unavailable"
	rmdir "$cg" 2>/dev/null
else
	echo "# skip: a pids cgroup needs root and a writable cgroupfs"
fi
