#!/bin/sh
# Resources: a full disk (run refused with a retryable io_error and nothing
# left behind; a job whose output fills the disk runs to its end and its
# terminal record is written), a read-only root (clear JSON errors, records
# kept), and bounded memory: a 1 GB line without a newline and 100 MB of
# binary output leave the supervisor's peak memory under 8 MiB, the logs
# exact. The disk tests need root and tmpfs; without them they SKIP.
. "$(dirname "$0")/lib.sh"

MOUNTS=""
# umount_all: undo every mount this script made (lazily if still busy)
umount_all() {
	for _m in $MOUNTS; do
		umount "$_m" 2>/dev/null || umount -l "$_m" 2>/dev/null
	done
	MOUNTS=""
}
# (processes left stopped by the hook are killed before the unmounting)
trap '_kill_listed; umount_all; cleanup' EXIT
# mount_tmpfs DIR OPTIONS: mount a tmpfs on DIR (made if needed)
mount_tmpfs() {
	mkdir -p "$1" || return 1
	mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null || return 1
	MOUNTS="$1 $MOUNTS"
}
# skip DESC WHY
skip() { echo "# skip: $1 ($2)"; }
# entries DIR: the job directories in DIR (dot entries left out)
entries() { ls "$1" 2>/dev/null | wc -l | tr -d ' '; }
# in_root ROOT ARGS...: the binary on another root
in_root() {
	_r=$1
	shift
	"$AE_BIN" --root "$_r" "$@"
}

can_mount=""
why=""
if [ "$(id -u)" != 0 ]; then
	why="needs root (mount)"
elif ! mount_tmpfs "$TMP/probe" size=64k; then
	why="cannot mount a tmpfs here"
else
	can_mount=1
	umount_all
fi

# ---- a full disk ------------------------------------------------------------------------

if [ -n "$can_mount" ]; then
	full="$TMP/full"
	mount_tmpfs "$full" size=1m
	froot="$full/root"
	# a finished job written before the disk fills
	old=$(job_id "$(in_root "$froot" run --wait -- echo before)")
	cp "$froot/$old/meta.json" "$TMP/old.meta"
	head -c 2000000 /dev/zero >"$full/fill" 2>/dev/null
	check_eq "full disk: the tmpfs is full" "$(df -k "$full" | awk 'NR == 2 { print $4 }')" 0
	capture in_root "$froot" run --snapshot-after 0 -- true
	check_eq "full disk: run fails with exit 1, one line" "$RC $OUT_LINES" "1 1"
	check_eq "... error io_error" "$(json_str code "$OUT")" io_error
	check_eq "... retryable true" "$(json_bool retryable "$OUT")" true
	check_contains "... the message names the cause" "$OUT" "No space left on device"
	printf '%s\n' "$OUT" >"$TMP/full.ans"
	check_schema "... an answer of the schema" - "$TMP/full.ans"
	check_eq "... no job directory left behind (only the old job)" "$(entries "$froot")" 1
	capture in_root "$froot" create -- true
	check_eq "full disk: create fails the same way" \
		"$RC $(json_str code "$OUT") $(json_bool retryable "$OUT") $(entries "$froot")" \
		"1 io_error true 1"
	capture in_root "$froot" tag set "$old" --tag new
	check_eq "full disk: tag set fails: io_error, retryable" \
		"$RC $(json_str code "$OUT") $(json_bool retryable "$OUT")" "1 io_error true"
	check "... and the job's meta.json is the previous record, byte for byte" \
		cmp -s "$TMP/old.meta" "$froot/$old/meta.json"
	capture in_root "$froot" status "$old"
	check_eq "full disk: status of the old job still works: exited 0" \
		"$RC $(json_str state "$OUT") $(json_num exit_code "$OUT")" "0 exited 0"
	capture in_root "$froot" tail "$old"
	check_eq "... tail too" "$RC $(json_str stdout_tail "$OUT")" "0 before"
	check_eq "... no temp file left in the job directory" \
		"$(ls -a "$froot/$old" | grep -c '^\.tmp-')" 0
	rm -f "$full/fill"
	capture in_root "$froot" run --wait -- echo after
	check_eq "full disk freed: run works again" \
		"$RC $(json_str state "$OUT") $(json_str stdout_tail "$OUT")" "0 exited after"
	# a disk with only a page or two free: the job is refused, or its end
	# is recorded as it was; never a false supervisor_lost
	for free_kib in 4 8 12 20 28 40; do
		rm -f "$full/fill"
		avail=$(df -k "$full" | awk 'NR == 2 { print $4 }')
		head -c $(((avail - free_kib) * 1024)) /dev/zero >"$full/fill" 2>/dev/null
		jobs_before=$(entries "$froot")
		capture in_root "$froot" run --wait -- sh -c 'exit 7'
		case "$RC $(json_str code "$OUT")$(json_str state "$OUT") $(json_num exit_code "$OUT")" in
		"1 io_error "*)
			[ "$(json_bool retryable "$OUT")" = true ] &&
				[ "$(entries "$froot")" = "$jobs_before" ] &&
				outcome=refused || outcome="refused badly: $OUT" ;;
		"0 exited 7") outcome="exited 7" ;;
		*) outcome="wrong: $OUT" ;;
		esac
		nearly="$nearly $free_kib:$outcome"
	done
	echo "# note: nearly full disk:$nearly"
	check "nearly full disk (4-40 KiB free): each run is refused (io_error, retryable, nothing left) or records its real end" \
		test -z "$(printf '%s\n' "$nearly" | grep -e 'wrong' -e 'badly')"
	check_contains "... with only 4 KiB free it is refused" "$nearly" "4:refused"
	umount_all
else
	for what in "full disk: run fails with io_error, retryable, no job directory left" \
		"full disk: tag set fails, meta.json kept" "full disk: status and tail still work"; do
		skip "$what" "$why"
	done
fi

# ---- a job whose output fills the disk ------------------------------------------------

if [ -n "$can_mount" ]; then
	small="$TMP/small"
	mount_tmpfs "$small" size=1m
	sroot="$small/root"
	capture in_root "$sroot" run --wait --notify-file "$TMP/full-sink.ndjson" -- \
		sh -c 'head -c 5000000 /dev/zero; echo "still here" >&2; exit 7'
	id=$(job_id "$OUT")
	check_eq "output filling the disk: the job runs to its end: exited 7" \
		"$RC $(json_str state "$OUT") $(json_num exit_code "$OUT")" "0 exited 7"
	check_contains "... the answer says the output was cut" "$(json_text error "$OUT")" \
		"output cut"
	st=$(cat "$sroot/$id/state.json" 2>/dev/null)
	check_eq "... its terminal record is written: exited 7" \
		"$(json_str status "$st") $(json_num exit_code "$st")" "exited 7"
	check_contains "... state.json error contains \"output cut\"" "$(json_text error "$st")" \
		"output cut"
	check_match "... finished_at recorded" "$(json_str finished_at "$st")" "$TS_RE"
	check_schema "... state.json parses and matches" state_record "$sroot/$id/state.json"
	check_schema "... meta.json parses and matches" meta_record "$sroot/$id/meta.json"
	check_between "... stdout.log kept what fitted (bytes)" \
		"$(file_size "$sroot/$id/stdout.log")" 1 1048576
	capture in_root "$sroot" status "$id"
	check_eq "... status agrees" "$RC $(json_str state "$OUT") $(json_num exit_code "$OUT")" \
		"0 exited 7"
	wait_for "... its job.finished still reaches a sink off the full disk" 10 \
		has_lines "$TMP/full-sink.ndjson" 1
	check_eq "... exited 7" "$(json_str state "$(cat "$TMP/full-sink.ndjson")") $(json_num exit_code "$(cat "$TMP/full-sink.ndjson")")" \
		"exited 7"
	if [ -e "$sroot/$id/completion_event.json" ]; then
		check_schema "... completion_event.json parses and matches" completion_record \
			"$sroot/$id/completion_event.json"
	else
		echo "# note: no room for completion_event.json on the full disk; the event was delivered anyway"
	fi
	umount_all
else
	skip "output filling the disk: the job runs to its end, terminal record written, error \"output cut\"" "$why"
fi

# ---- a read-only root ------------------------------------------------------------------

if [ -n "$can_mount" ]; then
	ro="$TMP/ro"
	mount_tmpfs "$ro" size=4m
	rroot="$ro/root"
	id=$(job_id "$(in_root "$rroot" run --wait -- echo kept)")
	cp "$rroot/$id/meta.json" "$TMP/ro.meta"
	cp "$rroot/$id/state.json" "$TMP/ro.state"
	if mount -o remount,ro "$ro" 2>/dev/null; then
		check_error "read-only root: run is a JSON error, exit 1" io_error \
			in_root "$rroot" run --snapshot-after 0 -- true
		check_contains "... naming the cause" "$OUT" "Read-only file system"
		check_error "read-only root: a new root in it: io_error" io_error \
			in_root "$ro/other" run --snapshot-after 0 -- true
		capture in_root "$rroot" status "$id"
		check_eq "read-only root: status still works" "$RC $(json_str state "$OUT")" "0 exited"
		capture in_root "$rroot" list --all
		check_eq "... list too" "$RC $(printf '%s' "$OUT" | grep -c "\"job_id\":\"$id\"")" "0 1"
		check_error "read-only root: tag set is an io_error" io_error \
			in_root "$rroot" tag set "$id" --tag x
		check_error "read-only root: delete is an io_error (not invalid_state)" io_error \
			in_root "$rroot" delete "$id"
		check_contains "... naming the cause" "$OUT" "Read-only file system"
		capture in_root "$rroot" gc --older-than 0s
		check_eq "read-only root: gc answers, deletes nothing" "$RC $(json_num deleted "$OUT")" "0 0"
		check "read-only root: meta.json intact" cmp -s "$TMP/ro.meta" "$rroot/$id/meta.json"
		check "... state.json intact" cmp -s "$TMP/ro.state" "$rroot/$id/state.json"
	else
		skip "read-only root: clear JSON errors, records intact" "cannot remount read-only"
	fi
	umount_all
else
	skip "read-only root: run, tag set, delete are io_errors, exit 1; status works" "$why"
fi

# ---- bounded memory -----------------------------------------------------------------------

# peak_kib PID: the VmHWM (peak resident memory, KiB) of PID
peak_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# full_lines FILE: "longest-line total-payload" of a full.log: the longest
# line and the bytes after "<timestamp> [STDOUT] " summed over all lines
full_lines() {
	LC_ALL=C awk '{
		if (length($0) > max) max = length($0)
		p = index($0, "] ")
		total += length($0) - (p ? p + 1 : 0)
	} END { print max + 0, total + 0 }' "$1"
}
# prefix: "2026-11-21T00:10:50Z [STDOUT] " is 30 bytes
prefix=30
# check_peak DESC KIB: the peak is under 8 MiB; under a sanitizer or
# valgrind (AE_UNDER_TOOL) the tool's own memory counts, so only a note
check_peak() {
	if [ -n "${AE_UNDER_TOOL:-}" ]; then
		skip "$1" "under $AE_UNDER_TOOL its own memory is counted (${2:-?} KiB)"
	else
		check_between "$1" "$2" 1 8191
	fi
}

# a 1 GB line without a newline
# run_measured WHAT SECONDS CMD...: run CMD as a job whose supervisor stops
# before its terminal record; read its peak memory (VmHWM) then, let it
# finish and check the job exited 0 and the peak stayed bounded. Sets id.
run_measured() {
	_what=$1
	_secs=$2
	shift 2
	_t0=$(now_ms)
	capture ae_stop job-ended run --snapshot-after 0 -- "$@"
	id=$(job_id "$OUT")
	_sup=$(record_num "$id" supervisor_pid)
	wait_for "$_what: the job ends (supervisor stopped before its terminal record)" "$_secs" \
		proc_stopped "${_sup:-0}"
	_peak=$(peak_kib "${_sup:-0}")
	kill -CONT "${_sup:-none}" 2>/dev/null
	_out=$(ae wait --timeout-ms 60000 "$id")
	echo "# note: $_what took $(($(now_ms) - _t0)) ms; supervisor peak memory (VmHWM) ${_peak:-?} KiB"
	check_eq "$_what: exited 0" "$(json_str state "$_out") $(json_num exit_code "$_out")" "exited 0"
	check_peak "$_what: the supervisor's peak memory stays under 8 MiB (KiB)" "$_peak"
}

size=1000000000
run_measured "1 GB line" 120 sh -c 'head -c "$1" /dev/zero | tr "\0" x' x "$size"
check_eq "1 GB line: stdout.log has exactly the bytes" "$(file_size "$ROOT/$id/stdout.log")" "$size"
set -- $(full_lines "$ROOT/$id/full.log")
echo "# note: longest full.log line: $1 bytes"
check_between "1 GB line: full.log lines are at most 64 KiB + timestamp" "$1" 1 $((65536 + prefix))
check_eq "1 GB line: full.log carries every byte, split into lines" "$2" "$size"
capture ae tail "$id"
printf '%s\n' "$OUT" >"$TMP/tail.ans"
check_schema "1 GB line: tail answers, matching the schema" - "$TMP/tail.ans"
ae delete "$id" >/dev/null

# 100 MB of binary output
head -c 100000000 /dev/urandom >"$TMP/random.bin"
run_measured "100 MB binary" 60 cat "$TMP/random.bin"
check "100 MB binary: stdout.log is the output, byte for byte" \
	cmp -s "$TMP/random.bin" "$ROOT/$id/stdout.log"
set -- $(full_lines "$ROOT/$id/full.log")
echo "# note: longest full.log line: $1 bytes"
check_between "100 MB binary: full.log lines are at most 64 KiB + timestamp" "$1" 1 $((65536 + prefix))
for cmd in "tail" "tail --tail-lines 0" "log --limit 5" "tail --cursor 0:0"; do
	# shellcheck disable=SC2086 # the options are words
	capture ae $cmd "$id"
	printf '%s\n' "$OUT" >"$TMP/bin.ans"
	check_schema "100 MB binary: $cmd answers valid JSON (no raw invalid UTF-8)" - "$TMP/bin.ans"
done
ae delete "$id" >/dev/null
rm -f "$TMP/random.bin"
