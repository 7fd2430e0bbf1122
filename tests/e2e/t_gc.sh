#!/bin/sh
# gc: the answer's keys, every reason and action on hand-written and real
# jobs, --dry-run, the durations it accepts and refuses, symlinks that must
# not be followed, and a job whose supervisor was killed.
. "$(dirname "$0")/lib.sh"

OLD=2020-01-01T00:00:00Z
# old_job DIR [STATUS [FINISHED [UPDATED]]]: hand-write a finished job's
# state.json in DIR (the directory name is the id); FINISHED "-" leaves
# finished_at out.
old_job() {
	_id=$(basename "$1")
	_fin=${3:-$OLD}
	mkdir -p "$1"
	{
		printf '{"job": {"id": "%s", "status": "%s"},\n' "$_id" "${2:-exited}"
		printf ' "result": {"exit_code": 0, "signal": null, "duration_ms": 1},\n'
		[ "$_fin" = - ] || printf ' "finished_at": "%s",\n' "$_fin"
		printf ' "updated_at": "%s"}\n' "${4-$OLD}"
	} >"$1/state.json"
	printf 'some output\n' >"$1/stdout.log"
}
# entry ID JSON: the gc entry of job ID.
entry() { printf '%s\n' "$2" | grep -o "{\"job_id\":\"$1\"[^}]*}"; }
# check_entry DESC ID JSON STATE ACTION REASON: the entry's fields.
check_entry() {
	_e=$(entry "$2" "$3")
	check_eq "$1" \
		"$(json_str state "$_e") $(json_str action "$_e") $(json_str reason "$_e")" \
		"$4 $5 $6"
}

check_eq "gc of a missing root: nothing" "$(ae gc)" \
	'{"schema_version":"0.1","ok":true,"type":"gc","root":"'"$ROOT"'","dry_run":false,"older_than":"30d","older_than_source":"default","deleted":0,"skipped":0,"freed_bytes":0,"jobs":[]}'
check "gc does not create the root" test ! -e "$ROOT"

# ---- every reason, default 30d -----------------------------------------------------------

A=01AAAAAAAAAAAAAAAAAAAAAAAA   # old, finished_at
B=01BBBBBBBBBBBBBBBBBBBBBBBB   # no finished_at, updated_at ""
C=01CCCCCCCCCCCCCCCCCCCCCCCC   # no finished_at, old updated_at
E=01EEEEEEEEEEEEEEEEEEEEEEEE   # no state.json
F=01FFFFFFFFFFFFFFFFFFFFFFFF   # corrupt state.json
old_job "$ROOT/$A"
old_job "$ROOT/$B" exited - ""
old_job "$ROOT/$C" exited -
mkdir -p "$ROOT/$E"
old_job "$ROOT/$F"
printf '{"job": {"id": "%s", "sta' "$F" >"$ROOT/$F/state.json"
recent=$(job_id "$(ae run --wait -- true)")
created=$(job_id "$(ae create -- true)")
running=$(start_job -- sleep 30)
bytes_a=$(dir_bytes "$ROOT/$A")
bytes_c=$(dir_bytes "$ROOT/$C")

capture ae gc --dry-run
out=$OUT
check_eq "gc --dry-run: exit 0, one line" "$RC $OUT_LINES" "0 1"
case $out in
'{"schema_version":"0.1","ok":true,"type":"gc","root":"'"$ROOT"'","dry_run":true,"older_than":"30d","older_than_source":"default",'*)
	ok "gc: envelope, root, dry_run, older_than 30d from the default" ;;
*) not_ok "gc: envelope, root, dry_run, older_than 30d from the default"
	echo "#   $out" ;;
esac
check_entry "dry run: an old job would be deleted" "$A" "$out" \
	exited would_delete older_than_30d
check_eq "dry run: its bytes are the size of its files" \
	"$(json_num bytes "$(entry "$A" "$out")")" "$bytes_a"
check_entry "dry run: without finished_at, an old updated_at counts" "$C" \
	"$out" exited would_delete older_than_30d
check_entry "no finished_at and an empty updated_at: no_timestamp" "$B" "$out" \
	exited skipped no_timestamp
check_entry "a directory without state.json: state_unreadable" "$E" "$out" \
	unknown skipped state_unreadable
check_entry "a corrupt state.json: state_unreadable" "$F" "$out" \
	unknown skipped state_unreadable
check_entry "a recent finished job: too_recent" "$recent" "$out" \
	exited skipped too_recent
check_entry "a created job: non_terminal_status" "$created" "$out" \
	created skipped non_terminal_status
check_entry "a running job: running" "$running" "$out" \
	running skipped running
check_eq "skipped entries have bytes 0" \
	"$(json_num bytes "$(entry "$recent" "$out")")" 0
check_eq "dry run: deleted 0, skipped 6" \
	"$(json_num deleted "$out") $(json_num skipped "$out")" "0 6"
# issue 15: freed_bytes is what was really freed; the dry run's own keys
# say what would go
check_eq "dry run: freed_bytes 0 (nothing freed)" "$(json_num freed_bytes "$out")" 0
check_eq "dry run: would_delete 2, would_free_bytes their size" \
	"$(json_num would_delete "$out") $(json_num would_free_bytes "$out")" \
	"2 $((bytes_a + bytes_c))"
printf '%s\n' "$out" >"$TMP/gc_dry.json"
check_schema "dry run: a valid gc answer" gc "$TMP/gc_dry.json"
check "dry run: the old job is kept" test -f "$ROOT/$A/state.json"
check "dry run: the other old job is kept" test -d "$ROOT/$C"

out=$(ae gc)
check_eq "gc: dry_run false" "$(json_bool dry_run "$out")" false
check_hasnt "gc: no would_delete without --dry-run" would_delete "$out"
check_entry "gc: the old job is deleted" "$A" "$out" \
	exited deleted older_than_30d
check_eq "gc: its bytes" "$(json_num bytes "$(entry "$A" "$out")")" "$bytes_a"
check "gc: the old job's directory is gone" test ! -e "$ROOT/$A"
check "gc: the old job without finished_at is gone" test ! -e "$ROOT/$C"
check_eq "gc: deleted 2, skipped 6, freed_bytes" \
	"$(json_num deleted "$out") $(json_num skipped "$out") $(json_num freed_bytes "$out")" \
	"2 6 $((bytes_a + bytes_c))"
for kept in "$B" "$E" "$F" "$recent" "$created" "$running"; do
	check "gc keeps $kept" test -d "$ROOT/$kept"
done
check_eq "the running job still runs" "$(state_of "$running")" running

out=$(ae gc --older-than 0s)
check_entry "--older-than 0s: a running job is still skipped" "$running" \
	"$out" running skipped running
check_entry "--older-than 0s: a created job is still skipped" "$created" \
	"$out" created skipped non_terminal_status
check "... the running job is kept" test -d "$ROOT/$running"
check "... the created job is kept" test -d "$ROOT/$created"
check_eq "... and the running job still runs" "$(state_of "$running")" running
check_eq "--older-than: older_than and older_than_source flag" \
	"$(json_str older_than "$out") $(json_str older_than_source "$out")" \
	"0s flag"

# ---- durations ----------------------------------------------------------------------------

D=01DDDDDDDDDDDDDDDDDDDDDDDD
old_job "$ROOT/$D"
for d in 30d 24h 60m 3600s 7 " 10s "; do
	capture ae gc --dry-run --older-than "$d"
	check_eq "--older-than '$d' is accepted" \
		"$RC $(json_bool ok "$OUT") $(json_str older_than_source "$OUT")" \
		"0 true flag"
	check_eq "--older-than '$d': older_than is the raw value" \
		"$(json_str older_than "$OUT")" "$d"
done
check_entry "--older-than 24h: the reason names it" "$D" \
	"$(ae gc --dry-run --older-than 24h)" exited would_delete older_than_24h
check_entry "--older-than=7 (bare seconds)" "$D" \
	"$(ae gc --dry-run --older-than=7)" exited would_delete older_than_7
for d in 1.5h 10x -1d "" 99999999999999999999d "1 0s" d 5w; do
	check_error "--older-than '$d': invalid_duration" invalid_duration \
		ae gc --older-than "$d"
	check "... and nothing is deleted" test -d "$ROOT/$D"
done
check_contains "the message names the duration" "$(json_text message "$OUT")" \
	5w

# ---- symlinks ------------------------------------------------------------------------------

G=01GGGGGGGGGGGGGGGGGGGGGGGG
H=01HHHHHHHHHHHHHHHHHHHHHHHH
old_job "$TMP/outside/$H"
ln -s "$TMP/outside/$H" "$ROOT/$H"
mkdir -p "$TMP/precious-dir"
echo keep >"$TMP/precious.txt"
echo keep >"$TMP/precious-dir/file.txt"
old_job "$ROOT/$G"
ln -s "$TMP/precious.txt" "$ROOT/$G/link-to-file"
ln -s "$TMP/precious-dir" "$ROOT/$G/link-to-dir"
out=$(ae gc)
check_entry "an old job holding symlinks is deleted" "$G" "$out" \
	exited deleted older_than_30d
check "... its directory is gone" test ! -e "$ROOT/$G"
check_eq "a file a job's symlink points to survives" \
	"$(cat "$TMP/precious.txt" 2>/dev/null)" keep
check_eq "a directory a job's symlink points to survives" \
	"$(cat "$TMP/precious-dir/file.txt" 2>/dev/null)" keep
check "a symlink in the root is not followed: the old job it names survives" \
	test -f "$TMP/outside/$H/state.json"
check "... with its files" test -f "$TMP/outside/$H/stdout.log"
check_lacks "... and is not reported as deleted" "$(entry "$H" "$out")" \
	'"action":"deleted"'

# ---- a supervisor that was killed ---------------------------------------------------------

lost=$(start_job -- sleep 30)
sup=$(record_num "$lost" supervisor_pid)
pid=$(record_num "$lost" pid)
kill -KILL "${sup:-none}" 2>/dev/null
until_true 3 proc_gone "${sup:-0}"
out=$(ae gc)
check_entry "gc records a job whose supervisor died as failed" "$lost" "$out" \
	failed skipped too_recent
st=$(ae status "$lost")
check_eq "... status says failed, supervisor_lost" \
	"$(json_str state "$st") $(json_str error "$st")" "failed supervisor_lost"
check "... and gc did not delete it" test -d "$ROOT/$lost"
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null
ae kill --signal KILL "$running" >/dev/null
