#!/bin/sh
# status: its keys and their presence rules for running, exited, killed and
# failed jobs; errors for unknown jobs and unreadable records.
. "$(dirname "$0")/lib.sh"

# ---- an exited job ---------------------------------------------------------------

id=$(job_id "$(ae run --wait -- sh -c 'exit 3')")
capture ae status "$id"
check_eq "status exits 0" "$RC" 0
check_eq "status prints one line" "$OUT_LINES" 1
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"status","job_id":"'"$id"'","state":"exited",'*)
	ok "status: envelope, job_id, state first" ;;
*) not_ok "status: envelope, job_id, state first"; echo "#   $OUT" ;;
esac
check_eq "status: exit code 3" "$(json_num exit_code "$OUT")" 3
for key in created_at started_at finished_at updated_at; do
	check_match "status: $key is a timestamp" "$(json_str "$key" "$OUT")" \
		"$TS_RE"
done
meta_created=$(json_str created_at "$(cat "$ROOT/$id/meta.json")")
check_eq "status: created_at comes from meta.json" \
	"$(json_str created_at "$OUT")" "${meta_created:-missing}"
check_match "status: pid" "$(json_num pid "$OUT")" '^[1-9][0-9]*$'
check_match "status: duration_ms" "$(json_num duration_ms "$OUT")" '^[0-9]+$'
check_hasnt "status of an exited job: no signal" signal "$OUT"
check_hasnt "status of an exited job: no error" error "$OUT"
check "status of an exited job: timed_out absent or false" \
	test "$(json_bool timed_out "$OUT")" != true
capture ae status "$id"
check_eq "status does not change a finished job" "$(json_num exit_code "$OUT")" 3

# in_order A B C...: the strings are in non-decreasing order.
in_order() { printf '%s\n' "$@" | LC_ALL=C sort -c 2>/dev/null; }
before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
out=$(ae status "$(job_id "$(ae run --wait -- sleep 1)")")
after=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check "timestamps are UTC, now, in order (created <= started <= finished)" \
	in_order "$before" "$(json_str created_at "$out")" \
	"$(json_str started_at "$out")" "$(json_str finished_at "$out")" "$after"
check_between "duration_ms of sleep 1" "$(json_num duration_ms "$out")" 900 3000
out=$(ae run --wait -- sh -c 'exit 255')
check_eq "exit code 255 is reported" "$(json_num exit_code "$out")" 255

id0=$(job_id "$(ae run --wait -- true)")
check_eq "status: exit code 0 is reported" \
	"$(json_num exit_code "$(ae status "$id0")")" 0

# ---- a running job ---------------------------------------------------------------

id=$(start_job -- sleep 30)
out=$(ae status "$id")
check_eq "status of a sleeping job: running" "$(json_str state "$out")" running
check_hasnt "running: no exit_code" exit_code "$out"
check_hasnt "running: no finished_at" finished_at "$out"
check_hasnt "running: no duration_ms" duration_ms "$out"
check_match "running: started_at" "$(json_str started_at "$out")" "$TS_RE"
check_eq "running: pid is the job's (sleep)" \
	"$(tr '\0' ' ' <"/proc/$(json_num pid "$out")/cmdline" 2>/dev/null)" "sleep 30 "

# ---- a killed job ------------------------------------------------------------------

ae kill --signal KILL "$id" >/dev/null
until_true 5 is_state "$id" killed
out=$(ae status "$id")
check_eq "status of a killed job: killed" "$(json_str state "$out")" killed
check_eq "killed: the signal number" "$(json_str signal "$out")" 9
check_hasnt "killed: no exit_code" exit_code "$out"
check_match "killed: finished_at" "$(json_str finished_at "$out")" "$TS_RE"

# ---- a job killed by a signal it did not get from us ------------------------------

out=$(ae run --wait -- sh -c 'kill -USR1 $$')
out=$(ae status "$(job_id "$out")")
check_eq "a job that dies of a signal is killed" "$(json_str state "$out")" killed
check_eq "... with that signal's number" "$(json_str signal "$out")" 10

# ---- a failed job ------------------------------------------------------------------

id=$(job_id "$(ae run --wait --cwd "$TMP/none" -- true)")
out=$(ae status "$id")
check_eq "status of a failed launch: failed" "$(json_str state "$out")" failed
check_contains "failed: error says why" "$(json_text error "$out")" "$TMP/none"
check_hasnt "failed: no exit_code" exit_code "$out"
check_match "failed: finished_at" "$(json_str finished_at "$out")" "$TS_RE"

# ---- errors ------------------------------------------------------------------------

check_error "status of an unknown id: job_not_found" job_not_found \
	ae status 01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_contains "the message names the id" "$(json_text message "$OUT")" \
	01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_contains "... and the root it searched" "$(json_text message "$OUT")" \
	"(in root $(cd "$ROOT" && pwd -P))"
check_error "status with a missing root: job_not_found" job_not_found \
	"$AE_BIN" --root "$TMP/missing" status 01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_contains "... naming the missing root" "$(json_text message "$OUT")" \
	"(in root $TMP/missing)"
check_error "a prefix nothing matches: job_not_found with the root" job_not_found \
	ae status 01ZZZ
check_contains "... naming the root" "$(json_text message "$OUT")" "(in root "
check "status does not create the root" test ! -e "$TMP/missing"

# unreadable records: a clear JSON error, exit 1, never a crash
cp -R "$ROOT/$id0" "$ROOT/01AAAAAAAAAAAAAAAAAAAAAAAA"
printf '{"job": {"id": "01AAAA' >"$ROOT/01AAAAAAAAAAAAAAAAAAAAAAAA/state.json"
capture ae status 01AAAAAAAAAAAAAAAAAAAAAAAA
check_eq "corrupt state.json: a JSON error, exit 1" \
	"$RC $(json_bool ok "$OUT") $OUT_LINES" "1 false 1"
# hand-made: meta.json but no state.json and no lock file
rm -f "$ROOT/01AAAAAAAAAAAAAAAAAAAAAAAA/state.json" \
	"$ROOT/01AAAAAAAAAAAAAAAAAAAAAAAA/lock"
capture ae status 01AAAAAAAAAAAAAAAAAAAAAAAA
check_eq "missing state.json: a JSON error, exit 1" \
	"$RC $(json_bool ok "$OUT") $OUT_LINES" "1 false 1"
cp -R "$ROOT/$id0" "$ROOT/01BBBBBBBBBBBBBBBBBBBBBBBB"
printf 'garbage' >"$ROOT/01BBBBBBBBBBBBBBBBBBBBBBBB/meta.json"
capture ae status 01BBBBBBBBBBBBBBBBBBBBBBBB
check_eq "corrupt meta.json: a JSON error, exit 1" \
	"$RC $(json_bool ok "$OUT") $OUT_LINES" "1 false 1"
