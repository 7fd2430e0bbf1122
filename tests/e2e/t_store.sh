#!/bin/sh
# The store: modes whatever the umask, the keys and layout of meta.json and
# state.json, pretty-printed records, no leftovers, secrets kept off
# command lines, an unusable root.
. "$(dirname "$0")/lib.sh"

# ---- modes -------------------------------------------------------------------------

out=$(umask 000 && ae run --wait -- sh -c 'echo x; echo y >&2')
id=$(job_id "$out")
dir=$ROOT/$id
check_eq "a root we create is 0700 (umask 000)" \
	"$(ls -ld "$ROOT" | cut -c 1-10)" drwx------
check_eq "the job directory is 0700 (umask 000)" \
	"$(ls -ld "$dir" | cut -c 1-10)" drwx------
for file in meta.json state.json stdout.log stderr.log full.log; do
	check_eq "$file is 0600 (umask 000)" "$(ls -l "$dir/$file" | cut -c 1-10)" \
		-rw-------
done
check_eq "no file of the job directory is readable by others" \
	"$(find "$dir" -type f ! -perm 600 | tr '\n' ' ')" ""
check_eq "no temporary file is left behind" \
	"$(ls -A "$dir" | grep -v -e '^meta.json$' -e '^state.json$' \
		-e '^stdout.log$' -e '^stderr.log$' -e '^full.log$' -e '^lock$')" ""
out=$(umask 000 && ae run --wait -- sh -c 'echo x >"$1/made"' job "$TMP")
check_eq "the job itself gets the caller's umask (000 -> 0666 file)" \
	"$(ls -l "$TMP/made" | cut -c 1-10)" -rw-rw-rw-
out=$(umask 022 && ae run --wait -- sh -c 'echo x >"$1/made22"' job "$TMP")
check_eq "the job itself gets the caller's umask (022 -> 0644 file)" \
	"$(ls -l "$TMP/made22" | cut -c 1-10)" -rw-r--r--
out=$("$AE_BIN" --root "$TMP/a/b/c" run --wait -- true)
check "a nested root is created" test -f "$TMP/a/b/c/$(job_id "$out")/meta.json"
spaced="$TMP/with space/caf$(printf '\303\251')"
out=$("$AE_BIN" --root "$spaced" run --wait -- echo spaced)
check "a root with a space and UTF-8 in its name works" \
	test -f "$spaced/$(job_id "$out")/stdout.log"
check_eq "... and is shown verbatim" \
	"$(json_str root "$("$AE_BIN" --root "$spaced" list --all)")" "$spaced"
check_eq "... status finds the job" \
	"$(json_str state "$("$AE_BIN" --root "$spaced" status "$(job_id "$out")")")" \
	exited

# ---- meta.json -------------------------------------------------------------------------

work=$(cd "$TMP" && pwd -P)
out=$(cd "$TMP" && ae run --wait --env FOO=bar --env BAZ=1 --timeout 60000 \
	--kill-after 500 -- sh -c 'exit 0' 'arg with "quotes"')
id=$(job_id "$out")
meta=$(json_flat "$ROOT/$id/meta.json")
check_contains "meta: job.id" "$meta" "\"job\": {\"id\": \"$id\"}"
check_contains "meta: schema_version" "$meta" '"schema_version": "0.1"'
check_contains "meta: command, argv as given" "$meta" \
	'"command": ["sh","-c","exit 0","arg with \"quotes\""]'
check_match "meta: created_at" "$(json_str created_at "$meta")" "$TS_RE"
check_contains "meta: root as resolved" "$meta" "\"root\": \"$ROOT\""
check_contains "meta: env_keys" "$meta" '"env_keys": ["FOO","BAZ"]'
check_contains "meta: cwd" "$meta" "\"cwd\": \"$work\""
check_contains "meta: tags" "$meta" '"tags": []'
check_contains "meta: inherit_env" "$meta" '"inherit_env": true'
check_contains "meta: timeout_ms" "$meta" '"timeout_ms": 60000'
check_contains "meta: kill_after_ms" "$meta" '"kill_after_ms": 500'
check_contains "meta: progress_every_ms" "$meta" '"progress_every_ms": 0'
check_contains "meta: shell_wrapper" "$meta" '"shell_wrapper": ["sh","-c"]'
check_eq "meta: first key order (job, schema_version, command)" \
	"$(printf '%s' "$meta" | sed 's/"id": "[^"]*"/"id": ID/' | cut -c 1-59)" \
	'{"job": {"id": ID},"schema_version": "0.1","command": ["sh"'
tab=$(printf '\t')
out=$(ae run --wait -- printf '%s' 'a"b' 'c\d' "e${tab}f" 'g/h' "$(printf 'x\303\251')")
check_contains "meta: command arguments are JSON-escaped" \
	"$(json_flat "$ROOT/$(job_id "$out")/meta.json")" \
	"\"command\": [\"printf\",\"%s\",\"a\\\"b\",\"c\\\\d\",\"e\\tf\",\"g/h\",\"x$(printf '\303\251')\"]"
check_eq "... and reach the job verbatim" "$(cat "$ROOT/$(job_id "$out")/stdout.log")" \
	"a\"bc\\de${tab}fg/hx$(printf '\303\251')"
out=$(ae run --wait --no-inherit-env -- /bin/true)
check_contains "meta: inherit_env false with --no-inherit-env" \
	"$(json_flat "$ROOT/$(job_id "$out")/meta.json")" '"inherit_env": false'

# pretty-printed, two-space indent
check_eq "meta.json starts with {" "$(sed -n 1p "$ROOT/$id/meta.json")" "{"
check_eq "meta.json: 2-space indent" "$(sed -n 2p "$ROOT/$id/meta.json")" \
	'  "job": {'
check_eq "meta.json: 4-space indent one level deeper" \
	"$(sed -n 3p "$ROOT/$id/meta.json")" "    \"id\": \"$id\""

# ---- state.json --------------------------------------------------------------------------

state=$(json_flat "$ROOT/$id/state.json")
check_contains "state: job.id and status" "$state" \
	"\"job\": {\"id\": \"$id\",\"status\": \"exited\",\"started_at\": \""
check_match "state: result of an exit" "$state" \
	'"result": \{"exit_code": 0,"signal": null,"duration_ms": [0-9]+\}'
check_match "state: pid" "$(json_num pid "$state")" '^[1-9][0-9]*$'
check_match "state: finished_at" "$(json_str finished_at "$state")" "$TS_RE"
check_match "state: updated_at" "$(json_str updated_at "$state")" "$TS_RE"
check_eq "state.json: 2-space indent" "$(sed -n 2p "$ROOT/$id/state.json")" \
	'  "job": {'

id=$(start_job -- sleep 30)
state=$(json_flat "$ROOT/$id/state.json")
check_contains "state of a running job" "$state" '"status": "running"'
check_contains "running: result all null" "$state" \
	'"result": {"exit_code": null,"signal": null,"duration_ms": null}'
check_hasnt "running: no finished_at" finished_at "$state"
check_eq "running: pid is the job's process" \
	"$(tr '\0' ' ' <"/proc/$(json_num pid "$state")/cmdline" 2>/dev/null)" \
	"sleep 30 "
ae kill --signal KILL "$id" >/dev/null
check_match "state of a killed job: signal, no exit code" \
	"$(json_flat "$ROOT/$id/state.json")" \
	'"result": \{"exit_code": null,"signal": "9","duration_ms": [0-9]+\}'

# ---- --progress-every: updated_at moves, records stay readable ------------------

id=$(start_job --progress-every 200 -- sleep 30)
check_contains "meta: progress_every_ms" "$(json_flat "$ROOT/$id/meta.json")" \
	'"progress_every_ms": 200'
first=$(json_str updated_at "$(ae status "$id")")
bad_reads=0
# updated_moved: status answers (count the failures) with a later updated_at
updated_moved() {
	_st=$(ae status "$id")
	[ "$(json_bool ok "$_st")" = true ] || bad_reads=$((bad_reads + 1))
	[ "$(json_str state "$_st")" = running ] &&
		[ -n "$(json_str updated_at "$_st")" ] &&
		[ "$(json_str updated_at "$_st")" != "$first" ]
}
wait_for "--progress-every 200 refreshes updated_at" 4 updated_moved
check_eq "state.json read well during every refresh" "$bad_reads" 0
ae kill --signal KILL "$id" >/dev/null

# ---- secrets stay off command lines ---------------------------------------------------

printf 'hunter2\n' >"$TMP/needle"
out=$(ae run --snapshot-after 0 --env SECRET=hunter2 -- \
	sh -c 'printf "%s" "$SECRET" >"$1/secret.seen"; exec sleep 30' job "$TMP")
id=$(job_id "$out")
seen() { [ -s "$TMP/secret.seen" ]; }
wait_for "the job received the secret" 5 seen
check_eq "... with its value" "$(cat "$TMP/secret.seen")" hunter2
pid=$(record_num "$id" pid)
sup=$(record_num "$id" supervisor_pid)
check "the job runs" proc_running "$pid"
check "the supervisor runs" proc_running "$sup"
cmdline_check "the secret is not on the supervisor's command line" \
	test -z "$(tr '\0' '\n' <"/proc/$sup/cmdline" | grep -F -f "$TMP/needle")"
check "the secret is not on the job's command line" \
	test -z "$(tr '\0' '\n' <"/proc/$pid/cmdline" | grep -F -f "$TMP/needle")"
leaks=""
for cmdline in /proc/[0-9]*/cmdline; do
	if { tr '\0' '\n' <"$cmdline"; } 2>/dev/null | grep -q -F -f "$TMP/needle"; then
		leaks="$leaks $cmdline"
	fi
done
cmdline_check "the secret is on no command line at all (ps)" test -z "$leaks"
check_lacks "the secret is not in state.json" "$(cat "$ROOT/$id/state.json")" \
	hunter2
ae kill --signal KILL "$id" >/dev/null

# ---- an unusable root -----------------------------------------------------------------

echo "a file" >"$TMP/afile"
capture "$AE_BIN" --root "$TMP/afile" run --wait -- true
check_eq "run with a root that is a file: JSON error, exit 1" \
	"$RC $(json_bool ok "$OUT") $OUT_LINES" "1 false 1"
check_eq "... and the file is untouched" "$(cat "$TMP/afile")" "a file"
capture "$AE_BIN" --root "$TMP/afile/sub" run --wait -- true
check_eq "run with a root under a file: JSON error, exit 1" \
	"$RC $(json_bool ok "$OUT") $OUT_LINES" "1 false 1"
