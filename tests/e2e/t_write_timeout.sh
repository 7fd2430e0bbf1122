#!/bin/sh
# write --timeout: a write to a job that does not read its stdin gives up
# after the timeout (a duration; 10 s by default; 0: never) and says how
# many bytes the job took, truthfully: exactly those reach the job, the
# rest is dropped, no end of input is sent, and the job's stdin stays open.
. "$(dirname "$0")/lib.sh"

head -c 1048576 /dev/urandom >"$TMP/mib"
# gated_job: an --interactive job that reads nothing until the file $GATE
# exists, then copies its stdin to $GOT; its id in $id (not in $(...): it
# sets GATE and GOT, new ones each time).
gates=0
gated_job() {
	gates=$((gates + 1))
	GATE=$TMP/gate.$gates
	GOT=$TMP/got.$gates
	id=$(start_job --interactive -- sh -c \
		'while [ ! -e "$1" ]; do sleep 0.05; done; cat >"$2"' sh "$GATE" "$GOT")
}
# answer_file NAME: the captured answer, in a file for check_schema.
answer_file() {
	printf '%s\n' "$OUT" >"$TMP/$1.json"
	echo "$TMP/$1.json"
}

# ---- a job that does not read ----------------------------------------------

gated_job
t0=$(now_ms)
capture ae write --timeout 1s --file "$TMP/mib" "$id"
elapsed=$(($(now_ms) - t0))
check_out "write --timeout 1s to a job that does not read: exit 0, timed_out" \
	"$RC $(json_bool timed_out "$OUT")" "0 true"
check_schema "... a valid write answer" write "$(answer_file timed)"
took=$(json_num bytes "$OUT")
check_between "... it says how much the job took (less than the 1 MiB)" \
	"$took" 0 1048575
check_between "... after the timeout, not before (ms)" "$elapsed" 1000 \
	$(($(bound 6) * 1000))
check_eq "... eof false" "$(json_bool eof "$OUT")" false
check_eq "... the job still runs" "$(state_of "$id")" running
# the job's stdin stays open: once it reads, a later write and --eof work,
# and it got exactly the bytes the answer counted
touch "$GATE"
capture ae write --timeout 10s --data tail "$id"
check_out "... a later write is taken whole" \
	"$RC $(json_num bytes "$OUT") $(json_bool timed_out "$OUT")" "0 4 false"
ae write --eof "$id" >/dev/null
out=$(ae wait --timeout-ms "$(($(bound 10) * 1000))" "$id")
check_eq "... the job reads to its end and exits 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_eq "... it got exactly the bytes counted, then the later write" \
	"$(file_size "$GOT")" $((took + 4))
head -c "$took" "$TMP/mib" >"$TMP/want"
printf tail >>"$TMP/want"
check "... byte for byte" cmp -s "$GOT" "$TMP/want"

# --eof with a write that times out: no end of input
gated_job
capture ae write --timeout 500ms --file "$TMP/mib" --eof "$id"
check_out "write --eof that times out: eof false" \
	"$(json_bool timed_out "$OUT") $(json_bool eof "$OUT")" "true false"
took=$(json_num bytes "$OUT")
touch "$GATE"
capture ae write --timeout 10s --data more --eof "$id"
check_out "... the job's stdin was left open: the next write --eof works" \
	"$RC $(json_bool eof "$OUT") $(json_bool timed_out "$OUT")" "0 true false"
out=$(ae wait --timeout-ms "$(($(bound 10) * 1000))" "$id")
check_eq "... then the job's input ends: exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_eq "... with the counted bytes and the next write" \
	"$(file_size "$GOT")" $((took + 4))

# the default timeout is 10 s
gated_job
t0=$(now_ms)
capture ae write --file "$TMP/mib" "$id"
elapsed=$(($(now_ms) - t0))
check_out "write without --timeout to a job that does not read: timed_out" \
	"$RC $(json_bool timed_out "$OUT")" "0 true"
check_between "... after the default 10 s (ms)" "$elapsed" 10000 \
	$(($(bound 20) * 1000))
touch "$GATE"
ae kill "$id" >/dev/null

# --timeout 0: no limit (the job reads once the write is under way)
gated_job
"$AE_BIN" --root "$ROOT" write --timeout 0 --file "$TMP/mib" --eof "$id" \
	>"$TMP/zero.out" 2>&1 &
writer=$!
touch "$GATE"
wait_status "$writer" "$(bound 20)"
OUT=$(cat "$TMP/zero.out")
check_out "write --timeout 0: every byte, not timed out" \
	"$WAIT_STATUS $(json_num bytes "$OUT") $(json_bool timed_out "$OUT")" \
	"0 1048576 false"
ae wait --timeout-ms "$(($(bound 10) * 1000))" "$id" >/dev/null
check "... the job got the whole 1 MiB" cmp -s "$GOT" "$TMP/mib"

# ---- two writers, the second one waiting for its turn ------------------------

# whichever is served first, each answer counts exactly what reached the job
gated_job
"$AE_BIN" --root "$ROOT" write --timeout 2s --file "$TMP/mib" "$id" \
	>"$TMP/first.out" 2>&1 &
first=$!
"$AE_BIN" --root "$ROOT" write --timeout 1s --data queued "$id" \
	>"$TMP/second.out" 2>&1 &
second=$!
wait_status "$first" "$(bound 10)"
first_status=$WAIT_STATUS
wait_status "$second" "$(bound 10)"
check_eq "two writers at once, neither read: both answer, exit 0" \
	"$first_status $WAIT_STATUS" "0 0"
first_bytes=$(json_num bytes "$(cat "$TMP/first.out")")
second_bytes=$(json_num bytes "$(cat "$TMP/second.out")")
check_eq "... the 1 MiB one timed out" \
	"$(json_bool timed_out "$(cat "$TMP/first.out")")" true
# the short one took all its 6 bytes (served first) or none (it waited
# behind the other one past its timeout)
check_match "... the short one: all or nothing" \
	"$second_bytes $(json_bool timed_out "$(cat "$TMP/second.out")")" \
	'^(6 false|0 true)$'
touch "$GATE"
ae write --eof "$id" >/dev/null
ae wait --timeout-ms "$(($(bound 10) * 1000))" "$id" >/dev/null
check_eq "... the job got exactly the bytes both answers counted" \
	"$(file_size "$GOT")" $((first_bytes + second_bytes))
if [ "$second_bytes" = 0 ]; then
	check "... the short one's bytes, not taken, never reached it" \
		sh -c '! grep -q queued "$1"' sh "$GOT"
else
	check "... the short one's bytes, taken, reached it" \
		grep -q queued "$GOT"
fi

# ---- a job that stops reading: the error counts what it took ----------------

id=$(start_job --interactive -- sh -c 'head -c 10 >/dev/null; exec 0<&-; sleep 30')
capture ae write --timeout 10s --file "$TMP/mib" "$id"
check_eq "a job that closes its stdin mid-write: invalid_state" \
	"$RC $(json_str code "$OUT")" "1 invalid_state"
check_contains "... the message says how much it took" \
	"$(json_text message "$OUT")" "(the job took the first "
ae kill "$id" >/dev/null

# ---- the duration syntax ---------------------------------------------------------

gated_job
for d in 300 300ms 1s; do
	capture ae write --timeout "$d" --file "$TMP/mib" "$id"
	check_out "write --timeout $d: a duration" \
		"$RC $(json_bool timed_out "$OUT")" "0 true"
done
for d in 5x -1 1.5s "" " 5s"; do
	check_usage_error "write --timeout '$d': a usage error" \
		ae write --timeout "$d" --data a "$id"
done
check_contains "... saying what a duration is" "$ERR" "500ms, 10s, 2m"
touch "$GATE"
ae kill "$id" >/dev/null
