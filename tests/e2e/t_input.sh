#!/bin/sh
# Input: --stdin TEXT, --stdin - (with --stdin-max-bytes), --stdin-file at
# launch (copied to <job>/stdin, kept for a created job), /dev/null by
# default; --interactive jobs fed by write (--data, --file, --stdin, --eof),
# in order, whole under concurrent writers; the errors of both.
. "$(dirname "$0")/lib.sh"

# meta_of ID: the job's meta.json on one line.
meta_of() { json_flat "$ROOT/$1/meta.json"; }
# stdin_mode_of ID / stdin_bytes_of ID: what meta.json records.
stdin_mode_of() { json_str stdin_mode "$(meta_of "$1")"; }
stdin_bytes_of() { json_num stdin_bytes "$(meta_of "$1")"; }
# same_bytes DESC FILE WANT-FILE: the two files are byte for byte equal.
same_bytes() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   $(file_size "$2") bytes, want $(file_size "$3"):" \
			"$(od -c "$2" 2>/dev/null | head -n 3 | tr '\n' ' ')"
	fi
}
mkdir -p "$TMP/ans"

# ---- input at launch -------------------------------------------------------------------------

out=$(ae run --wait --stdin 'hello world' -- cat)
id=$(job_id "$out")
printf 'hello world' >"$TMP/want"
same_bytes "--stdin TEXT: the job reads exactly the bytes (no newline added)" \
	"$ROOT/$id/stdout.log" "$TMP/want"
check_eq "... and exits 0 at its end" "$(json_num exit_code "$out")" 0
check_eq "... meta.json: stdin_mode file" "$(stdin_mode_of "$id")" file
check_eq "... meta.json: stdin_bytes 11" "$(stdin_bytes_of "$id")" 11
same_bytes "... copied to <job>/stdin" "$ROOT/$id/stdin" "$TMP/want"
check_eq "... which is 0600" "$(file_mode "$ROOT/$id/stdin")" "-rw-------"
check_schema "... meta.json is a meta_record" meta_record "$ROOT/$id/meta.json"

out=$(ae run --wait --stdin "$(printf 'a\nb')" -- sh -c 'while read -r l; do echo "<$l>"; done; echo "[$l]"')
check_eq "--stdin TEXT with a newline: the last line has none" \
	"$(cat "$ROOT/$(job_id "$out")/stdout.log")" "$(printf '<a>\n[b]')"

out=$(ae run --wait --stdin '' -- wc -c)
id=$(job_id "$out")
check_eq "--stdin '': an empty input (wc -c says 0)" \
	"$(tr -d ' \n' <"$ROOT/$id/stdout.log")" 0
check_eq "... stdin_mode file, stdin_bytes 0" \
	"$(stdin_mode_of "$id") $(stdin_bytes_of "$id")" "file 0"

bytes_file "$TMP/bytes"
out=$(ae run --wait --stdin - -- cat <"$TMP/bytes")
id=$(job_id "$out")
same_bytes "--stdin -: all 256 byte values arrive exactly" "$ROOT/$id/stdout.log" \
	"$TMP/bytes"
check_eq "... stdin_bytes 256" "$(stdin_bytes_of "$id")" 256
out=$(printf 'piped\n' | ae run --wait --stdin - -- cat)
check_eq "--stdin - from a pipe" "$(cat "$ROOT/$(job_id "$out")/stdout.log")" piped
out=$(ae run --wait --stdin-file "$TMP/bytes" -- cat)
id=$(job_id "$out")
same_bytes "--stdin-file: all 256 byte values arrive exactly" "$ROOT/$id/stdout.log" \
	"$TMP/bytes"
check_eq "... stdin_mode file, stdin_bytes 256" \
	"$(stdin_mode_of "$id") $(stdin_bytes_of "$id")" "file 256"
printf '%s\n' "$out" >"$TMP/ans/run"
check_schema "the run answer is an answer" - "$TMP/ans/run"

# --stdin-max-bytes
head -c 1000 /dev/zero >"$TMP/k1"
out=$(ae run --wait --stdin - --stdin-max-bytes 1000 -- wc -c <"$TMP/k1")
check_eq "--stdin-max-bytes 1000: 1000 bytes are accepted" \
	"$(tr -d ' \n' <"$ROOT/$(job_id "$out")/stdout.log")" 1000
before=$(job_dirs)
head -c 1001 /dev/zero >"$TMP/k1"
check_error "... 1001 bytes: input_too_large" input_too_large \
	ae run --stdin - --stdin-max-bytes 1000 -- wc -c <"$TMP/k1"
check_eq "... and no job directory is left" "$(job_dirs)" "$before"
printf '%s\n' "$OUT" >"$TMP/ans/too-large"
check_schema "... the error is an answer" - "$TMP/ans/too-large"
t0=$(now_ms)
head -c 67108865 /dev/zero | check_error \
	"the default limit is 64 MiB: 64 MiB + 1 byte is input_too_large" \
	input_too_large ae run --stdin - -- wc -c
echo "# note: 64 MiB + 1 read and refused in $(($(now_ms) - t0)) ms"
check_eq "... and no job directory is left" "$(job_dirs)" "$before"
head -c 2097152 /dev/zero >"$TMP/m2"
out=$(ae run --wait --stdin - -- wc -c <"$TMP/m2")
check_eq "2 MiB on --stdin - by default arrive whole" \
	"$(tr -d ' \n' <"$ROOT/$(job_id "$out")/stdout.log")" 2097152
before=$(job_dirs)

check_error "--stdin-file missing: invalid_input" invalid_input \
	ae run --stdin-file "$TMP/no-such-file" -- cat
check_eq "... and no job directory is left" "$(job_dirs)" "$before"
check_error "create --stdin-file missing: invalid_input" invalid_input \
	ae create --stdin-file "$TMP/no-such-file" -- cat
check_eq "... and no job directory is left" "$(job_dirs)" "$before"

printf 'x' >"$TMP/x"
check_usage_error "--stdin with --stdin-file: usage error" \
	ae run --stdin a --stdin-file "$TMP/x" -- cat
check_usage_error "--stdin with --interactive: usage error" \
	ae run --stdin a --interactive -- cat
check_usage_error "--stdin-file with --interactive: usage error" \
	ae run --stdin-file "$TMP/x" --interactive -- cat
check_usage_error "create: --stdin with --stdin-file: usage error" \
	ae create --stdin - --stdin-file "$TMP/x" -- cat
check_eq "... none of them left a job directory" "$(job_dirs)" "$before"

# a created job keeps its input
printf 'first version\n' >"$TMP/in.txt"
id=$(job_id "$(ae create --stdin-file "$TMP/in.txt" -- cat)")
printf 'first version\n' >"$TMP/want"
same_bytes "create --stdin-file: the input is copied at once" "$ROOT/$id/stdin" \
	"$TMP/want"
printf 'changed\n' >"$TMP/in.txt"
out=$(ae start --wait "$id")
same_bytes "... started after the file changed, the job reads the original bytes" \
	"$ROOT/$id/stdout.log" "$TMP/want"
printf 'gone soon\n' >"$TMP/in2.txt"
id=$(job_id "$(ae create --stdin-file "$TMP/in2.txt" -- cat)")
rm -f "$TMP/in2.txt"
out=$(ae start --wait "$id")
check_eq "... started after the file was deleted, the job reads it" \
	"$(json_str state "$out") $(cat "$ROOT/$id/stdout.log")" "exited gone soon"
id=$(job_id "$(printf 'from a pipe\n' | ae create --stdin - -- cat)")
check_eq "create --stdin -: stdin_mode file, stdin_bytes 12" \
	"$(stdin_mode_of "$id") $(stdin_bytes_of "$id")" "file 12"
ae start --wait "$id" >/dev/null
check_eq "... the started job reads it" "$(cat "$ROOT/$id/stdout.log")" "from a pipe"
id=$(job_id "$(ae create --stdin 'text' -- cat)")
ae start --wait "$id" >/dev/null
check_eq "create --stdin TEXT: the started job reads it" \
	"$(cat "$ROOT/$id/stdout.log")" text

# no input: /dev/null
t0=$(now_ms)
out=$(ae run --wait -- cat)
id=$(job_id "$out")
check_eq "no input option: cat ends at once (exit 0)" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_between "... well within the --wait (ms)" "$(($(now_ms) - t0))" 0 5000
check_eq "... with empty output" "$(file_size "$ROOT/$id/stdout.log")" 0
check_eq "... meta.json: stdin_mode null" "$(stdin_mode_of "$id")" null
check "... and no <job>/stdin" test ! -e "$ROOT/$id/stdin"
out=$(ae run --wait -- sh -c 'if [ -t 0 ]; then echo tty; else echo notty; fi')
check_eq "... stdin is not a terminal" "$(json_str stdout_tail "$(ae tail "$(job_id "$out")")")" notty

# ---- interactive ------------------------------------------------------------------------------

id=$(start_job --interactive -- cat)
check_eq "--interactive: the job is running" "$(state_of "$id")" running
check_eq "... meta.json: stdin_mode interactive" "$(stdin_mode_of "$id")" interactive
check_schema "... meta.json is a meta_record" meta_record "$ROOT/$id/meta.json"
capture ae write "$id" --data "$(printf 'one\n_')"
check_out "write --data: exit 0, one line" "$RC $OUT_LINES" "0 1"
check_eq "... the answer" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"write","job_id":"'"$id"'","bytes":5,"eof":false,"timed_out":false}'
printf '%s\n' "$OUT" >"$TMP/ans/write1"
wait_for "... cat echoes it" 5 grep -q '^one$' "$ROOT/$id/stdout.log"
capture ae write "$id" --data two --eof
check_out "write --data --eof: bytes 3, eof true" \
	"$RC $(json_num bytes "$OUT") $(json_bool eof "$OUT")" "0 3 true"
printf '%s\n' "$OUT" >"$TMP/ans/write2"
out=$(ae wait --timeout-ms 5000 "$id")
check_eq "... cat sees the end of its input and exits 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
printf 'one\n_two' >"$TMP/want"
same_bytes "... its output: both writes, in order" "$ROOT/$id/stdout.log" "$TMP/want"
check_schema "write answers are answers" - "$TMP/ans/write1" "$TMP/ans/write2"
check_schema "... and match write" write "$TMP/ans/write1" "$TMP/ans/write2"
check_error "write to a finished job: invalid_state" invalid_state \
	ae write "$id" --data more
printf '%s\n' "$OUT" >"$TMP/ans/invalid-state"
check_schema "... the error is an answer" - "$TMP/ans/invalid-state"

id=$(start_job --interactive -- cat)
capture ae write "$id" --file "$TMP/bytes" --eof
check_out "write --file of the 256 byte values, --eof: bytes 256" \
	"$RC $(json_num bytes "$OUT")" "0 256"
ae wait --timeout-ms 5000 "$id" >/dev/null
same_bytes "... cat prints them exactly" "$ROOT/$id/stdout.log" "$TMP/bytes"

id=$(start_job --interactive -- cat)
head -c 1048576 /dev/urandom >"$TMP/mib"
capture ae write "$id" --file "$TMP/mib"
check_out "write --file of 1 MiB: bytes 1048576" "$RC $(json_num bytes "$OUT")" "0 1048576"
capture ae write --eof "$id"
check_out "write --eof alone: bytes 0, eof true" \
	"$RC $(json_num bytes "$OUT") $(json_bool eof "$OUT")" "0 0 true"
ae wait --timeout-ms 10000 "$id" >/dev/null
same_bytes "... the 1 MiB arrived complete, then cat ended" "$ROOT/$id/stdout.log" \
	"$TMP/mib"

id=$(start_job --interactive -- sh -c 'cat; echo cat-done; sleep 30')
ae write --eof "$id" >/dev/null
wait_for "--eof on a job that goes on: its cat ends" 5 grep -q cat-done \
	"$ROOT/$id/stdout.log"
check_error "... a write after --eof: invalid_state" invalid_state \
	ae write "$id" --data late
check_contains "... the job's stdin is closed" "$OUT" "the job's stdin is closed"
said=""
for n in 1 2 3 4 5; do
	capture ae write "$id" --data late
	case $OUT in
	*"the job's stdin is closed"*) said="${said}closed " ;;
	*) said="$said[$(json_str message "$OUT")] " ;;
	esac
done
check_eq "... 5 more writes: each one told so" "$said" \
	"closed closed closed closed closed "
check_error "... a second --eof too" invalid_state ae write --eof "$id"
ae kill "$id" >/dev/null

id=$(start_job --interactive -- cat)
capture sh -c 'printf "via stdin\n" | "$0" --root "$1" write --stdin "$2"' \
	"$AE_BIN" "$ROOT" "$id"
check_out "write --stdin: bytes 10" "$RC $(json_num bytes "$OUT")" "0 10"
wait_for "... cat echoes it" 5 grep -q '^via stdin$' "$ROOT/$id/stdout.log"
printf 'two words\n' >"$TMP/two"
check_usage_error "write --data with --file: usage error" \
	ae write "$id" --data a --file "$TMP/two"
check_usage_error "write --data with --stdin: usage error" \
	ae write "$id" --data a --stdin
check_usage_error "write --file with --stdin: usage error" \
	ae write "$id" --file "$TMP/two" --stdin
check_usage_error "write without a job id: usage error" ae write --data a
check_error "write --file of a missing file: invalid_input" invalid_input \
	ae write "$id" --file "$TMP/no-such-file"
check_error "write to an unknown id: job_not_found" job_not_found \
	ae write 01ARZ3NDEKTSV4RRFFQ69G5FAV --data a

# concurrent writers: each line whole
pids=""
for n in 1 2 3 4 5; do
	line=$(awk -v n="$n" 'BEGIN { s = "writer-" n " "; while (length(s) < 3000) s = s n; print s }')
	printf '%s\n' "$line" >>"$TMP/lines.want"
	"$AE_BIN" --root "$ROOT" write "$id" --data "$line
" >"$TMP/w.$n" 2>&1 &
	pids="$pids $!"
done
codes=""
for pid in $pids; do
	wait_status "$pid" 10
	codes="$codes $WAIT_STATUS"
done
check_eq "5 concurrent writes all succeed" "$codes" " 0 0 0 0 0"
ae write --eof "$id" >/dev/null
ae wait --timeout-ms 5000 "$id" >/dev/null
grep -v '^via stdin$' "$ROOT/$id/stdout.log" | sort >"$TMP/lines.got"
sort "$TMP/lines.want" >"$TMP/lines.sorted"
same_bytes "... every line arrives once and whole (no interleaving)" \
	"$TMP/lines.got" "$TMP/lines.sorted"

# a job that ends right after it took the bytes: the write still succeeded
said=""
for n in 1 2 3 4 5 6 7 8 9 10; do
	id=$(start_job --interactive -- sh -c 'read line; echo "got: $line"')
	capture ae write "$id" --data 'hi
'
	case $OUT in
	*'"ok":true,"type":"write"'*'"bytes":3,'*) said="${said}ok " ;;
	*) said="$said[$(json_str message "$OUT")] " ;;
	esac
done
check_eq "10 jobs that read one line and end: each write answers ok, bytes 3" \
	"$said" "ok ok ok ok ok ok ok ok ok ok "

# jobs that take no input
id=$(job_id "$(ae create --interactive -- cat)")
check_eq "create --interactive: meta.json says interactive" "$(stdin_mode_of "$id")" \
	interactive
check_error "write to a created job: invalid_state" invalid_state \
	ae write "$id" --data a
ae start --snapshot-after 0 "$id" >/dev/null
capture ae write "$id" --data "$(printf 'after start\n_')" --eof
check_out "... once started, it takes input" "$RC $(json_bool eof "$OUT")" "0 true"
ae wait --timeout-ms 5000 "$id" >/dev/null
check_eq "... and cat prints it" "$(cat "$ROOT/$id/stdout.log")" "$(printf 'after start\n_')"
id=$(start_job -- sleep 30)
check_error "write to a running job without --interactive: invalid_state" \
	invalid_state ae write "$id" --data a
check_error "... --eof too" invalid_state ae write --eof "$id"
ae kill "$id" >/dev/null
id=$(start_job --stdin abc -- sh -c 'cat; sleep 30')
check_error "write to a running --stdin job: invalid_state" invalid_state \
	ae write "$id" --data a
ae kill "$id" >/dev/null
