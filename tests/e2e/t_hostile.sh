#!/bin/sh
# Hostile input: corrupt meta.json and state.json (empty, truncated, not
# JSON, null, an array, 9 MB, nested 10,000 deep, invalid UTF-8, missing
# keys, wrong types) give corrupt_record errors, are skipped or "unknown" in
# list and are never deleted by gc; bad job ids; job directories replaced
# by symbolic links; very long argv and environment; invalid UTF-8 in argv,
# --env, --env-file, --meta, --callback-session, --cwd, tags and output.
# Every answer is one line of valid JSON (U+FFFD for bad bytes); no command
# crashes (exit 0 or 1; 2 only for usage errors).
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"
FFFD=$(printf '\357\277\275')
BAD=$(printf 'a\377\376b\300\257c\355\240\200d')

# ---- corrupt records ----------------------------------------------------------------------

base=$(job_id "$(ae run --wait -- echo base)")
cp "$ROOT/$base/meta.json" "$TMP/meta.good"
cp "$ROOT/$base/state.json" "$TMP/state.good"
KINDS="empty truncated not-json null array 9MB nested-10000 invalid-utf8 missing-keys wrong-types"
# corrupt FILE KIND GOOD: write a broken record of kind KIND to FILE
corrupt() {
	case $2 in
	empty) : >"$1" ;;
	truncated) head -c 60 "$3" >"$1" ;;
	not-json) echo 'this is { not json' >"$1" ;;
	null) echo null >"$1" ;;
	array) echo '[1, "two", {}]' >"$1" ;;
	9MB) { cat "$3"; head -c 9000000 /dev/zero | tr '\0' ' '; echo '"x"'; } >"$1" ;;
	nested-10000)
		awk 'BEGIN { for (i = 0; i < 10000; i++) printf "{\"a\":"; printf "1";
			for (i = 0; i < 10000; i++) printf "}"; print "" }' >"$1" ;;
	invalid-utf8) sed "s/\"schema_version\": \"0.1\"/\"schema_version\": \"0.1$BAD\"/; s/\"updated_at\": \"/\"updated_at\": \"$BAD/" "$3" >"$1" ;;
	missing-keys) echo '{"job": {}}' >"$1" ;;
	wrong-types)
		echo '{"job": "x", "schema_version": 1, "command": "ls", "created_at": 5, "root": [],
 "env_keys": {}, "cwd": null, "tags": "a", "status": 7, "result": [], "updated_at": false}' >"$1" ;;
	esac
}
# a copy of the base job, finished in 2020 (old enough for any gc), as ID
copy_job() {
	mkdir "$ROOT/$1"
	chmod 700 "$ROOT/$1"
	for f in meta.json stdout.log stderr.log full.log lock; do
		sed "s/$base/$1/g" "$ROOT/$base/$f" >"$ROOT/$1/$f"
	done
	sed 's/"finished_at": "[^"]*"/"finished_at": "2020-01-01T00:00:00Z"/
		s/"updated_at": "[^"]*"/"updated_at": "2020-01-01T00:00:00Z"/' \
		"$ROOT/$base/state.json" | sed "s/$base/$1/g" >"$ROOT/$1/state.json"
}
n=0
for kind in $KINDS; do
	n=$((n + 1))
	m=01M7Z00000000000000000M$(printf %03d "$n")
	s=01M7Z00000000000000000S$(printf %03d "$n")
	copy_job "$m"
	copy_job "$s"
	sed "s/$base/$m/g" "$TMP/meta.good" >"$TMP/m.good"
	corrupt "$ROOT/$m/meta.json" "$kind" "$TMP/m.good"
	sed "s/$base/$s/g" "$ROOT/$base/state.json" >"$TMP/s.good"
	corrupt "$ROOT/$s/state.json" "$kind" "$TMP/s.good"
	check_error "meta.json $kind: status is corrupt_record, exit 1" corrupt_record ae status "$m"
	check_contains "... the message names the file" "$OUT" "$m/meta.json"
	check_error "state.json $kind: status is corrupt_record, exit 1" corrupt_record ae status "$s"
	check_contains "... the message names the file" "$OUT" "$s/state.json"
done
nk=$n

check_answer "list --all with 20 corrupt jobs answers" ae list --all
check_eq "... each job with a bad meta.json is counted in skipped" "$(json_num skipped "$OUT")" "$nk"
check_eq "... each job with a bad state.json is listed as unknown" \
	"$(printf '%s' "$OUT" | grep -oE '"job_id":"01M7Z00000000000000000S[0-9]{3}"(,"name":"[^"]*")?,"state":"unknown"' | wc -l | tr -d ' ')" "$nk"
check_eq "... and the good job as exited" \
	"$(printf '%s' "$OUT" | grep -oE "\"job_id\":\"$base\"(,\"name\":\"[^\"]*\")?,\"state\":\"exited\"" | wc -l | tr -d ' ')" 1
check_answer "list --all --state unknown answers" ae list --all --state unknown
check_eq "... with the $nk jobs whose state.json is bad" \
	"$(printf '%s' "$OUT" | grep -o '"job_id"' | wc -l | tr -d ' ')" "$nk"

# every command that takes a job, on every corrupt job: an answer, no crash
for cmd in "status" "tail" "tail --cursor 0:0" "wait --timeout-ms 100" "log" \
	"kill --signal CONT" "tag set" "notify set --command true" "notify redeliver" \
	"start" "write --data x" "events --job"; do
	bad=""
	for dir in "$ROOT"/01M7Z*/; do
		id=$(basename "$dir")
		case $cmd in
		events*)
			# NDJSON: every line an event_line (none is fine)
			# shellcheck disable=SC2086 # the options are words
			ae $cmd "$id" >"$TMP/ev.out" 2>/dev/null
			rc=$?
			if [ "$rc" -gt 1 ] || { [ -s "$TMP/ev.out" ] && [ "$rc" = 0 ] &&
				! "$SCHEMA_CHECK" "$AE_SCHEMA" event_line --lines "$TMP/ev.out" >/dev/null 2>&1; }; then
				bad="$bad $id"
			fi
			;;
		*)
			# shellcheck disable=SC2086
			answer_fine ae $cmd "$id" || bad="$bad $id:$RC"
			;;
		esac
	done
	check_eq "$cmd on each corrupt job: exit 0 or 1, one valid answer" "$bad" ""
done
check_answer "gc --dry-run with corrupt jobs answers" ae gc --dry-run --older-than 1d
check_eq "... it would delete none of them" \
	"$(printf '%s' "$OUT" | grep -oE '"job_id":"01M7Z0[0-9A-Z]*","state":"[a-z]*","action":"would_delete"' | wc -l | tr -d ' ')" 0
check_answer "gc --older-than 1d with corrupt jobs answers" ae gc --older-than 1d
check_eq "... it deletes nothing" "$(json_num deleted "$OUT")" 0
check_eq "... the jobs with a bad state.json are skipped: state_unreadable" \
	"$(printf '%s' "$OUT" | grep -oE '"job_id":"01M7Z00000000000000000S[0-9]{3}","state":"unknown","action":"skipped","reason":"state_unreadable"' | wc -l | tr -d ' ')" "$nk"
check_eq "... the jobs with a bad meta.json are skipped too" \
	"$(printf '%s' "$OUT" | grep -oE '"job_id":"01M7Z00000000000000000M[0-9]{3}","state":"[a-z]*","action":"skipped"' | wc -l | tr -d ' ')" "$nk"
check_eq "... every job directory is still there" "$(job_dirs)" $((2 * nk + 1))

# ---- job ids ----------------------------------------------------------------------------

nl='
'
long65=$(printf '%065d' 7)
for bad_id in '../x' 'a/b' '..' '.' "$long65" 'a b' "a${nl}b" 'a%00b' 'x%2e%2e' \
	"$(printf 'caf\303\251')" "$(printf '\377\376')" "$(printf 'tab\there')"; do
	shown=$(printf '%s' "$bad_id" | tr '\n\t' '??')
	check_error "id '$shown': invalid_job_id" invalid_job_id ae status "$bad_id"
	printf '%s\n' "$OUT" >"$TMP/ans/id.json"
	check_schema "... a valid JSON answer" - "$TMP/ans/id.json"
done
capture ae status ""
echo "# note: status \"\" exits $RC: $(printf '%s' "$OUT$ERR" | head -c 160)"
if [ "$RC" = 2 ]; then
	check_usage_error "id '' (empty): a usage error" ae status ""
else
	check_error "id '' (empty): invalid_job_id" invalid_job_id ae status ""
fi
check_error "a 64-character id of valid characters: job_not_found" job_not_found \
	ae status "$(printf '%064d' 7)"
# a job outside the root that ../x would reach
mkdir -p "$TMP/x"
cp "$ROOT/$base/meta.json" "$ROOT/$base/state.json" "$TMP/x/"
for cmd in "status" "tail" "wait" "kill" "delete" "delete --force" "tag set" \
	"notify set --command true" "notify redeliver" "start" "write --data x" "log"; do
	# shellcheck disable=SC2086 # the options are words
	check_error "$cmd ../x: invalid_job_id" invalid_job_id ae $cmd ../x
done
check_error "events --job ../x: invalid_job_id" invalid_job_id ae events --job ../x
check_eq "... and the directory ../x reaches is untouched" "$(ls "$TMP/x" | tr '\n' ' ')" \
	"meta.json state.json "

# ---- job directories replaced by symbolic links -------------------------------------------

target=$(job_id "$(ae run --wait -- echo target)")
# target_files: mode, size and name of each file of the linked-to job
target_files() { ls -l "$ROOT/$target" | awk 'NR > 1 { print $1, $5, $NF }'; }
target_files >"$TMP/target.before"
# an old finished job outside the root, reachable through a link
mkdir -p "$TMP/outside"
sed "s/$base/01M7Z00000000000000000L002/g" "$TMP/meta.good" >"$TMP/outside/meta.json"
sed "s/$base/01M7Z00000000000000000L002/g; s/\"finished_at\": \"[^\"]*\"/\"finished_at\": \"2020-01-01T00:00:00Z\"/" \
	"$TMP/state.good" >"$TMP/outside/state.json"
echo keep >"$TMP/outside/stdout.log"
ln -s "$ROOT/$target" "$ROOT/01M7Z00000000000000000L001"
ln -s "$TMP/outside" "$ROOT/01M7Z00000000000000000L002"
for link in 01M7Z00000000000000000L001 01M7Z00000000000000000L002; do
	check_answer "status through a linked job directory ($link): an answer" ae status "$link"
	check_hasnt "... that is not the job behind the link" state "$OUT"
	check_answer "delete --force through the link: an answer" ae delete --force "$link"
	check_hasnt "... that deleted nothing" deleted "$OUT"
done
check_answer "gc --older-than 1d with linked job directories: an answer" ae gc --older-than 1d
check_lacks "... that names no link" "$OUT" 01M7Z00000000000000000L00
target_files >"$TMP/target.after"
check "the job behind the link is intact" cmp -s "$TMP/target.before" "$TMP/target.after"
check_eq "... and still exited" "$(state_of "$target")" exited
check_eq "the directory outside the root is intact" "$(ls "$TMP/outside" | tr '\n' ' ')" \
	"meta.json state.json stdout.log "
check "the links themselves are left alone" test -L "$ROOT/01M7Z00000000000000000L002"
rm -f "$ROOT/01M7Z00000000000000000L001" "$ROOT/01M7Z00000000000000000L002"
# a log inside an old job replaced by a link to a file outside: gc removes
# the link, not the file
old=01M7Z00000000000000000L003
copy_job "$old"
echo precious >"$TMP/precious"
rm -f "$ROOT/$old/full.log"
ln -s "$TMP/precious" "$ROOT/$old/full.log"
capture ae gc --older-than 1d
check_eq "gc of a job whose full.log is a link: the job is deleted" \
	"$(printf '%s' "$OUT" | grep -c "\"job_id\":\"$old\",\"state\":\"exited\",\"action\":\"deleted\"") $(test -e "$ROOT/$old" && echo there)" "1 "
check_eq "... the file the link named is intact" "$(cat "$TMP/precious" 2>/dev/null)" precious

# ---- very long argv and environment -------------------------------------------------------

arg=$(head -c 130000 /dev/zero | tr '\0' a)
check_answer "one 130,000-byte argument: an answer" ae run --wait -- sh -c 'printf %s "$1" | wc -c' x "$arg"
check_eq "... the job sees all of it" "$(json_str stdout_tail "$OUT" | tr -d ' ')" 130000
check_schema "... meta.json parses and matches" meta_record "$ROOT/$(job_id "$OUT")/meta.json"
half=$(head -c 102400 /dev/zero | tr '\0' b)
check_answer "two 100 KiB arguments (200 KiB of argv): an answer" \
	ae run --wait -- sh -c 'echo $((${#1} + ${#2}))' x "$half" "$half"
check_eq "... the job sees all of it" "$(json_str stdout_tail "$OUT")" 204800
if sh -c ':' x "$half$half" 2>/dev/null; then
	check_answer "one 200 KiB argument: an answer" \
		ae run --wait -- sh -c 'echo ${#1}' x "$half$half"
else
	echo "# note: one 200 KiB argument cannot reach any program here (MAX_ARG_STRLEN is 128 KiB: E2BIG from execve)"
fi
many=$(awk 'BEGIN { for (i = 1; i <= 20000; i++) print i }')
# shellcheck disable=SC2086 # one argument per line
check_answer "20,000 arguments: an answer" ae run --wait -- sh -c 'echo $# ${20000}' x $many
check_eq "... the job sees them all" "$(json_str stdout_tail "$OUT")" "20000 20000"
id=$(job_id "$OUT")
check_schema "... meta.json parses and matches" meta_record "$ROOT/$id/meta.json"
check_answer "... list --all still answers" ae list --all
check_answer "... status too" ae status "$id"
val=$(head -c 102400 /dev/zero | tr '\0' v)
check_answer "a 100 KiB --env value: an answer" ae run --wait --env "BIG=$val" -- sh -c 'echo ${#BIG}'
check_eq "... the job sees it" "$(json_str stdout_tail "$OUT")" 102400
check_answer "... masked: an answer" ae run --wait --mask BIG --env "BIG=$val" -- sh -c 'echo ${#BIG}'
check_eq "... the job sees it" "$(json_str stdout_tail "$OUT")" 102400
check_lacks "... the answer does not show it" "$OUT" "vvvvvvvvvv"
check_answer "a 100 KiB --meta value and --callback-session: an answer" \
	ae run --wait --meta "big=$val" --callback-session "$val" -- true
check_answer "... status shows them" ae status "$(job_id "$OUT")"

# ---- invalid UTF-8 everywhere -----------------------------------------------------------

printf '%s' "$BAD" >"$TMP/bad.bytes"
# same_bytes FILE: FILE holds exactly the bytes of $BAD
same_bytes() { cmp -s "$TMP/bad.bytes" "$1"; }
check_answer "invalid UTF-8 in argv: an answer" ae run --wait -- sh -c 'printf %s "$1"' x "$BAD"
id=$(job_id "$OUT")
check "... the job gets the exact bytes" same_bytes "$ROOT/$id/stdout.log"
check_contains "... the answer shows U+FFFD" "$OUT" "$FFFD"
check_schema "... meta.json parses and matches" meta_record "$ROOT/$id/meta.json"
check_answer "... list --all answers" ae list --all
check_answer "invalid UTF-8 in --env: an answer" ae run --wait --env "K=$BAD" -- sh -c 'printf %s "$K"'
check "... the job gets the exact bytes" same_bytes "$ROOT/$(job_id "$OUT")/stdout.log"
printf 'K=%s\n' "$BAD" >"$TMP/bad.env"
check_answer "invalid UTF-8 in an --env-file: an answer" \
	ae run --wait --env-file "$TMP/bad.env" -- sh -c 'printf %s "$K"'
check "... the job gets the exact bytes" same_bytes "$ROOT/$(job_id "$OUT")/stdout.log"
capture ae run --wait --env "$(printf 'K\377')=1" -- true
if [ "$RC" = 2 ]; then
	check_eq "invalid UTF-8 in an --env key: a usage error (exit 2, empty stdout)" "$OUT_BYTES" 0
else
	check_answer "invalid UTF-8 in an --env key: an answer" \
		ae run --wait --env "$(printf 'K\377')=1" -- true
fi
check_answer "invalid UTF-8 in --meta and --callback-session: an answer" \
	ae run --wait --meta "k=$BAD" --callback-session "$BAD" --callback-agent "$BAD" \
	--notify-file "$TMP/bad.ndjson" -- true
id=$(job_id "$OUT")
check_schema "... meta.json parses and matches" meta_record "$ROOT/$id/meta.json"
check_answer "... status answers" ae status "$id"
check_contains "... showing U+FFFD" "$OUT" "$FFFD"
wait_for "... the job.finished event reaches the file sink" 10 has_lines "$TMP/bad.ndjson" 1
check_schema "... as a valid job_finished_event" job_finished_event --lines "$TMP/bad.ndjson"
check_schema "... completion_event.json parses and matches" completion_record \
	"$ROOT/$id/completion_event.json"
check_usage_error "invalid UTF-8 in a run --tag: a usage error" ae run --tag "t$BAD" -- true
check_usage_error "invalid UTF-8 in a tag set --tag: a usage error" ae tag set "$id" --tag "t$BAD"
check_usage_error "... and in a list --tag" ae list --tag "t$BAD"
check_answer "invalid UTF-8 in notify set --command: an answer" \
	ae notify set "$id" --command "true $BAD"
check_schema "... meta.json parses and matches" meta_record "$ROOT/$id/meta.json"

# a working directory whose name is not UTF-8
dir="$TMP/dir$BAD"
mkdir "$dir"
printf '%s' "$dir" >"$TMP/dir.bytes"
check_answer "invalid UTF-8 in --cwd: an answer" ae run --wait --cwd "$dir" -- sh -c 'printf %s "$PWD"'
id=$(job_id "$OUT")
check "... the job runs in that very directory" cmp -s "$TMP/dir.bytes" "$ROOT/$id/stdout.log"
check_schema "... meta.json parses and matches" meta_record "$ROOT/$id/meta.json"
check_answer "... list --cwd of it answers" ae list --cwd "$dir"
check_contains "... and lists the job" "$OUT" "\"job_id\":\"$id\""
check_answer "... list run in that directory answers" sh -c 'cd "$1" && shift && "$@"' sh "$dir" \
	"$AE_BIN" --root "$ROOT" list
check_contains "... and lists the job" "$OUT" "\"job_id\":\"$id\""
# a created job keeps what it was given until start: the exact bytes, or a
# clear refusal at create time
# check_created DESC EXPECTED-FILE CREATE-ARGS...: create, start --wait, and
# compare the job's stdout with EXPECTED-FILE
check_created() {
	_what=$1
	_want=$2
	shift 2
	check_answer "invalid UTF-8 in a created job's $_what: create answers" ae create "$@"
	_id=$(job_id "$OUT")
	if [ "$RC" = 0 ]; then
		check_answer "... start answers" ae start --wait "$_id"
		check_eq "... the started job ran (not failed)" \
			"$(json_str state "$OUT") $(json_text error "$OUT")" "exited "
		check "... with exactly the $_what it was given" cmp -s "$_want" "$ROOT/$_id/stdout.log"
	else
		check_contains "... create refused it with a clear error" "$OUT" '"ok":false'
	fi
}
check_created "--cwd" "$TMP/dir.bytes" --cwd "$dir" -- sh -c 'printf %s "$PWD"'
check_created "argv" "$TMP/bad.bytes" -- sh -c 'printf %s "$1"' x "$BAD"
check_created "--env value" "$TMP/bad.bytes" --env "K=$BAD" -- sh -c 'printf %s "$K"'

# output: all 256 byte values, on both streams
bytes_file "$TMP/bytes"
check_answer "all 256 byte values as output: an answer" \
	ae run --wait --notify-file "$TMP/bytes.ndjson" -- sh -c 'cat "$1"; cat "$1" >&2' x "$TMP/bytes"
id=$(job_id "$OUT")
check "... stdout.log holds them exactly" cmp -s "$TMP/bytes" "$ROOT/$id/stdout.log"
check "... stderr.log too" cmp -s "$TMP/bytes" "$ROOT/$id/stderr.log"
for cmd in "status" "tail" "tail --tail-lines 0" "tail --cursor 0:0" "log" "log --stream stderr" \
	"log --stream full" "wait"; do
	# shellcheck disable=SC2086 # the options are words
	check_answer "... $cmd answers valid JSON" ae $cmd "$id"
done
capture ae tail "$id"
check_contains "... tail shows the bytes that are not UTF-8 as U+FFFD" "$OUT" "$FFFD"
wait_for "... the job.finished event reaches the file sink" 10 has_lines "$TMP/bytes.ndjson" 1
check_schema "... as a valid job_finished_event" job_finished_event --lines "$TMP/bytes.ndjson"
ae events >"$TMP/events.ndjson"
check_schema "the whole event log is valid event lines" event_line --lines "$TMP/events.ndjson"
# real_records NAME: the NAME files of the jobs this script ran (not the
# hand-made 01M7Z0... ones)
real_records() {
	for _d in "$ROOT"/*/; do
		case $(basename "$_d") in 01M7Z0*) ;; *) echo "$_d$1" ;; esac
	done
}
# shellcheck disable=SC2046 # one path per word
check_schema "every meta.json of the jobs run here parses and matches" meta_record \
	$(real_records meta.json)
# shellcheck disable=SC2046
check_schema "every state.json of the jobs run here parses and matches" state_record \
	$(real_records state.json)

# ---- paths that block: a FIFO where a file is expected ------------------------------------

# Every path the user names is opened without blocking and must be a
# regular file: a FIFO never hangs a command or leaves a job running.
mkfifo "$TMP/fifo"
# bounded CMD...: the binary, killed after 20 s (exit 124: it hung)
bounded() { timeout 20 "$AE_BIN" --root "$ROOT" "$@"; }
capture bounded run --wait --env-file "$TMP/fifo" -- true
check_eq "run --env-file FIFO: answers, the job failed" "$RC $(json_str state "$OUT")" "0 failed"
check_contains "... saying why" "$(json_text error "$OUT")" "cannot read env file $TMP/fifo: not a regular file"
check_eq "... status agrees" "$(state_of "$(job_id "$OUT")")" failed
capture bounded run --env-file "$TMP/fifo" -- true
check_between "... run without --wait answers within its window (elapsed_ms)" \
	"$(json_num elapsed_ms "$OUT")" 0 5000
capture bounded run --wait --log "$TMP/fifo" -- sh -c 'echo started >"$1"; sleep 30' x "$TMP/log-fifo.started"
id=$(job_id "$OUT")
check_eq "run --log FIFO: answers, the job failed" "$RC $(json_str state "$OUT")" "0 failed"
check_contains "... saying why" "$(json_text error "$OUT")" "cannot open the log $TMP/fifo: not a regular file"
check_eq "... no job process left running" "$(record_num "$id" pid)" ""
capture bounded run --stdin-file "$TMP/fifo" -- cat
check_eq "run --stdin-file FIFO: invalid_input, nothing made" \
	"$RC $(json_str code "$OUT")" "1 invalid_input"
check_contains "... saying why" "$(json_text message "$OUT")" "not a regular file"
capture ae run --snapshot-after 0 --interactive -- cat
wid=$(job_id "$OUT")
capture bounded write "$wid" --file "$TMP/fifo"
check_eq "write --file FIFO: invalid_input" "$RC $(json_str code "$OUT")" "1 invalid_input"
ae kill "$wid" >/dev/null
capture bounded run --config "$TMP/fifo" -- true
check_eq "--config FIFO: invalid_config" "$RC $(json_str code "$OUT")" "1 invalid_config"
capture bounded run --wait --notify-file "$TMP/fifo" --notify-retries 0 -- true
id=$(job_id "$OUT")
check_eq "run --notify-file FIFO: the job runs: exited" "$RC $(json_str state "$OUT")" "0 exited"
# delivery_failed: the completion record says the delivery failed
delivery_failed() { grep -q '"delivery_status": "failed"' "$ROOT/$id/completion_event.json" 2>/dev/null; }
wait_for "... the file sink fails instead of waiting for a reader" 20 delivery_failed
check_contains "... saying why" "$(cat "$ROOT/$id/completion_event.json")" "not a regular file"
