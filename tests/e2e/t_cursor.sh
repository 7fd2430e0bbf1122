#!/bin/sh
# Incremental output: the offsets and cursor of status and tail, tail
# --since-stdout/--since-stderr and --cursor (raw bytes, --max-bytes, whole
# UTF-8 characters while the job runs), and reading a whole output
# piecewise with the cursor of each answer: nothing lost, nothing twice.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans" "$TMP/flags"
# text KEY JSON: a string value, escapes as they are
text() { json_text "$1" "$2"; }
# read_all ID MAX: read the job's output with tail --cursor, from 0:0 and
# then from the cursor of the answer before, at most MAX bytes a stream,
# until an answer in a terminal state brings nothing new (15 s at most).
# The bytes go to $TMP/got.out and $TMP/got.err; READS counts the answers;
# PROBLEMS describes the answers that broke a rule (the cursor is not where
# the bytes read so far end, the offsets disagree with it, a stream gave
# more than MAX bytes).
read_all() {
	: >"$TMP/got.out"
	: >"$TMP/got.err"
	READS=0
	PROBLEMS=""
	_cursor=0:0
	_deadline=$(($(date +%s) + $(bound 15)))
	while :; do
		_ans=$(ae tail --cursor "$_cursor" --max-bytes "$2" "$1")
		READS=$((READS + 1))
		[ "$READS" = 3 ] && printf '%s\n' "$_ans" >"$TMP/ans/tail-cursor"
		json_decode stdout_tail "$_ans" >"$TMP/chunk.out"
		json_decode stderr_tail "$_ans" >"$TMP/chunk.err"
		cat "$TMP/chunk.out" >>"$TMP/got.out"
		cat "$TMP/chunk.err" >>"$TMP/got.err"
		_so=$(file_size "$TMP/got.out")
		_se=$(file_size "$TMP/got.err")
		_next=$(json_str cursor "$_ans")
		if [ "$_next" != "$_so:$_se" ] ||
			[ "$(json_num stdout_next_offset "$_ans")" != "$_so" ] ||
			[ "$(json_num stderr_next_offset "$_ans")" != "$_se" ] ||
			[ "$(file_size "$TMP/chunk.out")" -gt "$2" ] ||
			[ "$(file_size "$TMP/chunk.err")" -gt "$2" ]; then
			[ ${#PROBLEMS} -lt 600 ] && PROBLEMS="$PROBLEMS [read $READS from $_cursor: cursor $_next, offsets $(json_num stdout_next_offset "$_ans"):$(json_num stderr_next_offset "$_ans"), bytes so far $_so:$_se, chunk $(file_size "$TMP/chunk.out")+$(file_size "$TMP/chunk.err")]"
			[ -z "$_next" ] && return 1
		fi
		case $(json_str state "$_ans") in
		exited | killed | failed)
			[ "$_next" = "$_cursor" ] && return 0 ;;
		esac
		if [ "$(date +%s)" -gt "$_deadline" ]; then
			PROBLEMS="$PROBLEMS [no end after $(bound 15) s]"
			return 1
		fi
		[ "$_next" = "$_cursor" ] && sleep 0.02
		_cursor=$_next
	done
}
# same_file DESC GOT WANT: byte for byte.
same_file() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   $(file_size "$2") bytes, want $(file_size "$3"); first difference:" \
			"$(cmp "$2" "$3" 2>&1 | head -n 1)"
	fi
}

# ---- offsets and cursor ----------------------------------------------------------------------

out=$(ae run --wait -- sh -c 'printf 0123456789; printf abcde >&2')
id=$(job_id "$out")
st=$(ae status "$id")
check_eq "status: stdout_next_offset, stderr_next_offset = the log sizes" \
	"$(json_num stdout_next_offset "$st") $(json_num stderr_next_offset "$st")" "10 5"
check_eq "status: cursor 10:5" "$(json_str cursor "$st")" 10:5
printf '%s\n' "$st" >"$TMP/ans/status"
check_schema "... a status answer" status "$TMP/ans/status"
out=$(ae tail "$id")
check_eq "tail: stdout_next_offset, stderr_next_offset, cursor" \
	"$(json_num stdout_next_offset "$out") $(json_num stderr_next_offset "$out") $(json_str cursor "$out")" \
	"10 5 10:5"
check_eq "tail: state exited, exit_code 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
printf '%s\n' "$out" >"$TMP/ans/tail"
check_schema "... a tail answer" tail "$TMP/ans/tail"

out=$(ae tail --since-stdout 3 --since-stderr 1 "$id")
check_eq "--since-stdout 3 --since-stderr 1: the bytes after the offsets" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out")" "3456789|bcde"
check_eq "... next offsets 10 5, cursor 10:5, not truncated" \
	"$(json_num stdout_next_offset "$out") $(json_num stderr_next_offset "$out") $(json_str cursor "$out") $(json_bool truncated "$out")" \
	"10 5 10:5 false"
printf '%s\n' "$out" >"$TMP/ans/since"
out=$(ae tail --cursor 0:0 --max-bytes 4 "$id")
check_eq "--cursor 0:0 --max-bytes 4: 4 bytes a stream" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out")" "0123|abcd"
check_eq "... truncated, cursor 4:4" \
	"$(json_bool truncated "$out") $(json_str cursor "$out")" "true 4:4"
out=$(ae tail --cursor "$(json_str cursor "$out")" --max-bytes 4 "$id")
check_eq "... from 4:4: 4567 and e, truncated, cursor 8:5" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out") $(json_bool truncated "$out") $(json_str cursor "$out")" \
	"4567|e true 8:5"
out=$(ae tail --cursor "$(json_str cursor "$out")" --max-bytes 4 "$id")
check_eq "... from 8:5: 89, not truncated, cursor 10:5" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out") $(json_bool truncated "$out") $(json_str cursor "$out")" \
	"89| false 10:5"
out=$(ae tail --cursor 10:5 "$id")
check_eq "... from 10:5: nothing, cursor 10:5" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out") $(json_bool truncated "$out") $(json_str cursor "$out")" \
	"| false 10:5"
out=$(ae tail --since-stdout 10 --since-stderr 5 "$id")
check_eq "--since-* at the ends: nothing" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out")" "|"
printf '%s\n' "$out" >"$TMP/ans/empty"
check_schema "these tail answers are answers" - "$TMP/ans/since" "$TMP/ans/empty"

# raw bytes: no line window, CRLF kept
out=$(ae run --wait -- sh -c 'i=1; while [ $i -le 100 ]; do echo "n $i"; i=$((i + 1)); done; printf "a\r\nb\r\n"')
id=$(job_id "$out")
out=$(ae tail --cursor 0:0 "$id")
json_decode stdout_tail "$out" >"$TMP/raw"
same_file "--cursor 0:0: all 102 lines (no --tail-lines window), CRLF kept" \
	"$TMP/raw" "$ROOT/$id/stdout.log"
out=$(ae tail --since-stdout "$(($(file_size "$ROOT/$id/stdout.log") - 6))" \
	--since-stderr 0 "$id")
check_eq "... the JSON shows the CR LF escaped" "$(text stdout_tail "$out")" 'a\r\nb\r\n'

# a running job, then its end
flag=$TMP/flags/run1
id=$(start_job -- sh -c 'echo first; echo oops >&2; while [ ! -e "$1" ]; do sleep 0.02; done; echo second' sh "$flag")
until_true 10 size_is "$ROOT/$id/stdout.log" 6
until_true 10 size_is "$ROOT/$id/stderr.log" 5
out=$(ae tail --cursor 0:0 "$id")
check_eq "a running job: state running" "$(json_str state "$out")" running
check_hasnt "... no exit_code" exit_code "$out"
check_eq "... what it printed so far, cursor 6:5" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out")|$(json_str cursor "$out")" \
	'first\n|oops\n|6:5'
printf '%s\n' "$out" >"$TMP/ans/running"
check_schema "... a tail answer" tail "$TMP/ans/running"
cur=$(json_str cursor "$out")
out=$(ae tail --cursor "$cur" "$id")
check_eq "... nothing new yet: empty, same cursor" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out")|$(json_str cursor "$out")" "||$cur"
: >"$flag"
ae wait --timeout-ms 10000 "$id" >/dev/null
out=$(ae tail --cursor "$cur" "$id")
check_eq "... after its end: only the new line, state exited" \
	"$(text stdout_tail "$out")|$(text stderr_tail "$out")|$(json_str cursor "$out")|$(json_str state "$out")" \
	'second\n||13:5|exited'

id=$(start_job -- sleep 30)
ae kill "$id" >/dev/null
out=$(ae tail --cursor 0:0 "$id")
check_eq "a killed job: tail says state killed" "$(json_str state "$out")" killed

# bad options
for bad in abc 1: :1 1:2:3 -1:0 1:x '' ' 1:2' '1:2 ' 1:-2 +1:2 0x1:2; do
	check_usage_error "--cursor '$bad': usage error" ae tail --cursor "$bad" "$id"
done
check_usage_error "--cursor with --since-stdout: usage error" \
	ae tail --cursor 0:0 --since-stdout 0 "$id"
check_usage_error "--cursor with --since-stderr: usage error" \
	ae tail --cursor 0:0 --since-stderr 0 "$id"
check_usage_error "--since-stdout abc: usage error" ae tail --since-stdout abc "$id"

# ---- UTF-8 ------------------------------------------------------------------------------------------

flag=$TMP/flags/utf
id=$(start_job -- sh -c 'printf "ab\303"; while [ ! -e "$1" ]; do sleep 0.02; done; printf "\251\n"' sh "$flag")
until_true 10 size_is "$ROOT/$id/stdout.log" 3
out=$(ae tail --cursor 0:0 "$id")
check_eq "running, half a character at the end: it is held back (ab, next 2)" \
	"$(text stdout_tail "$out") $(json_num stdout_next_offset "$out")" "ab 2"
: >"$flag"
ae wait --timeout-ms 10000 "$id" >/dev/null
out=$(ae tail --cursor "$(json_str cursor "$out")" "$id")
json_decode stdout_tail "$out" >"$TMP/e"
printf '\303\251\n' >"$TMP/e.want"
same_file "... once complete, the next read has the whole character" "$TMP/e" "$TMP/e.want"
check_eq "... next offset 5" "$(json_num stdout_next_offset "$out")" 5

out=$(ae run --wait -- printf 'ab\303')
out=$(ae tail --cursor 0:0 "$(job_id "$out")")
check_eq "finished with half a character: the last byte is given (next 3)" \
	"$(json_num stdout_next_offset "$out")" 3
out=$(ae run --wait -- printf '\303\251\303\251')
id=$(job_id "$out")
out=$(ae tail --cursor 0:0 --max-bytes 3 "$id")
json_decode stdout_tail "$out" >"$TMP/e"
printf '\303\251' >"$TMP/e.want"
same_file "--max-bytes 3 over 2-byte characters: one whole character" "$TMP/e" "$TMP/e.want"
check_eq "... next offset 2, truncated" \
	"$(json_num stdout_next_offset "$out") $(json_bool truncated "$out")" "2 true"
out=$(ae tail --cursor 2:0 --max-bytes 1 "$id")
# a window that ends inside a character takes the whole character
check_eq "finished job, --max-bytes 1 at a 2-byte character: the read advances" \
	"$(json_num stdout_next_offset "$out")" 4
json_decode stdout_tail "$out" >"$TMP/e"
printf '\303\251' >"$TMP/e.want"
same_file "... and returns that whole character" "$TMP/e" "$TMP/e.want"

# ---- reading a whole output piecewise -------------------------------------------------------------

t0=$(now_ms)
id=$(start_job -- sh -c 'i=1; while [ $i -le 10000 ]; do echo "line $i"; if [ $((i % 1000)) = 0 ]; then echo "err $i" >&2; sleep 0.1; fi; i=$((i + 1)); done')
read_all "$id" 3000
rc=$?
echo "# note: 10000 lines read in $READS answers, $(($(now_ms) - t0)) ms"
check_eq "10000 lines read from cursor to cursor (--max-bytes 3000) to the end" \
	"$rc$PROBLEMS" 0
check_between "... in many reads" "$READS" 30 100000
same_file "... stdout read = stdout.log, byte for byte" "$TMP/got.out" "$ROOT/$id/stdout.log"
same_file "... stderr read = stderr.log" "$TMP/got.err" "$ROOT/$id/stderr.log"
check_eq "... every line once, in order" \
	"$(awk '$0 != "line " NR { print "line " NR ": " $0; bad = 1; exit } END { if (!bad) print NR }' "$TMP/got.out")" \
	10000
check_eq "... stderr: err 1000 .. err 10000" \
	"$(awk '$0 != "err " NR * 1000 { print "line " NR ": " $0; bad = 1; exit } END { if (!bad) print NR }' "$TMP/got.err")" \
	10
check_schema "a --cursor answer of the series is a tail answer" tail "$TMP/ans/tail-cursor"

# multi-byte characters, cut by an odd --max-bytes
t0=$(now_ms)
id=$(start_job -- sh -c 'i=1; while [ $i -le 400 ]; do printf "%d \303\251\342\202\254\360\235\204\236 \303\251\303\251\n" $i; printf "\342\202\254" >&2; if [ $((i % 100)) = 0 ]; then sleep 0.1; fi; i=$((i + 1)); done')
read_all "$id" 1001
rc=$?
echo "# note: UTF-8 output read in $READS answers, $(($(now_ms) - t0)) ms"
check_eq "UTF-8 lines (2, 3 and 4-byte characters), --max-bytes 1001: read to the end" \
	"$rc$PROBLEMS" 0
same_file "... stdout read = stdout.log, byte for byte" "$TMP/got.out" "$ROOT/$id/stdout.log"
same_file "... stderr (3-byte characters only) = stderr.log" "$TMP/got.err" \
	"$ROOT/$id/stderr.log"
check_eq "... 400 lines" "$(line_count "$TMP/got.out")" 400
