#!/bin/sh
# --pty: the job on a pseudo-terminal (stdin, stdout and stderr; stdout.log
# gets everything, with CRLF), its size (--pty-size), input through write
# (echoed by the terminal, --eof as ^D), signals, the exit status, output
# drained at the end; bad sizes.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"
# log_is DESC ID PRINTF-FORMAT: the job's stdout.log is exactly that.
# shellcheck disable=SC2059 # the format is the point
log_is() {
	printf "$3" >"$TMP/want"
	if cmp -s "$ROOT/$2/stdout.log" "$TMP/want"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got: $(od -c "$ROOT/$2/stdout.log" | head -n 4 | tr '\n' ' ')"
		echo "#   want: $(od -c "$TMP/want" | head -n 4 | tr '\n' ' ')"
	fi
}

# ---- a terminal ------------------------------------------------------------------------------

out=$(ae run --pty --wait -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo tty')
id=$(job_id "$out")
printf '%s\n' "$out" >"$TMP/ans/run"
check_eq "--pty: stdin, stdout and stderr are terminals; exit 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
log_is "... stdout.log has the line, with CRLF" "$id" 'tty\r\n'
check_eq "... stderr.log stays empty" "$(file_size "$ROOT/$id/stderr.log")" 0
check_schema "... the run answer is an answer" - "$TMP/ans/run"
check_schema "... meta.json is a meta_record" meta_record "$ROOT/$id/meta.json"
check_contains "... meta.json records the default size 80x24" \
	"$(json_flat "$ROOT/$id/meta.json")" '"pty": {"cols": 80,"rows": 24}'

out=$(ae run --pty --wait -- sh -c 'echo to-stderr >&2')
id=$(job_id "$out")
log_is "what the job prints on stderr goes to the terminal (stdout.log)" "$id" \
	'to-stderr\r\n'
check_eq "... stderr.log stays empty" "$(file_size "$ROOT/$id/stderr.log")" 0

out=$(ae run --pty --wait -- tty)
check_match "tty names the terminal" \
	"$(json_str stdout_tail "$(ae tail "$(job_id "$out")")")" '^/dev/'

out=$(ae run --pty --wait -- stty size)
log_is "stty size: 24 80 by default" "$(job_id "$out")" '24 80\r\n'
out=$(ae run --pty --pty-size 120x40 --wait -- stty size)
id=$(job_id "$out")
log_is "--pty-size 120x40: stty size says 40 120" "$id" '40 120\r\n'
check_contains "... meta.json records it" "$(json_flat "$ROOT/$id/meta.json")" \
	'"pty": {"cols": 120,"rows": 40}'
id=$(job_id "$(ae create --pty --pty-size 100x30 -- stty size)")
ae start --wait "$id" >/dev/null
log_is "create --pty --pty-size 100x30, then start: 30 100" "$id" '30 100\r\n'

out=$(ae run --pty --wait -- sh -c 'exit 7')
check_eq "the exit status comes through the terminal: 7" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 7"

out=$(ae run --pty --wait -- sh -c 'i=1; while [ $i -le 3000 ]; do echo "line $i"; i=$((i + 1)); done')
id=$(job_id "$out")
check_eq "3000 lines printed right before the end: all in stdout.log" \
	"$(line_count "$ROOT/$id/stdout.log")" 3000
check_eq "... the last one whole" "$(tail -n 1 "$ROOT/$id/stdout.log" | od -c | head -n 1)" \
	"$(printf 'line 3000\r\n' | od -c | head -n 1)"

before=$(job_dirs)
for size in 0x5 5x0 80 abc 80x 'x24' 80x24x1 -80x24 ' 80x24' 80x24abc 65536x24; do
	check_usage_error "--pty-size '$size': usage error" \
		ae run --pty --pty-size "$size" -- true
done
check_usage_error "--pty-size without --pty: usage error" \
	ae run --pty-size 80x24 -- true
check_usage_error "create: --pty-size without --pty: usage error" \
	ae create --pty-size 80x24 -- true
check_eq "... none of them made a job" "$(job_dirs)" "$before"

# ---- input ---------------------------------------------------------------------------------------

id=$(start_job --pty -- sh -c 'read line; echo "got: $line"')
capture ae write "$id" --data "$(printf 'hello\n_')"
check_out "write to a pty job: exit 0, bytes 7" "$RC $(json_num bytes "$OUT")" "0 7"
wait_for "... the job ends" 5 is_state "$id" exited
log_is "... the terminal echoes the input, then the job's answer (CRLF)" "$id" \
	'hello\r\n_got: hello\r\n'
out=$(ae tail --tail-lines 5 "$id")
check_eq "tail (--tail-lines 5) shows LF" "$(json_text stdout_tail "$out")" \
	'hello\n_got: hello'
out=$(ae tail --tail-lines 0 "$id")
check_eq "tail --tail-lines 0 keeps the bytes (CRLF)" "$(json_text stdout_tail "$out")" \
	'hello\r\n_got: hello\r\n'
check_error "write to the finished pty job: invalid_state" invalid_state \
	ae write "$id" --data x

id=$(start_job --pty -- cat)
capture ae write --data abc --eof "$id"
check_out "write --data abc --eof to a pty cat: bytes 3, eof true" \
	"$RC $(json_num bytes "$OUT") $(json_bool eof "$OUT")" "0 3 true"
wait_for "... cat ends (^D)" 5 is_state "$id" exited
check_eq "... exit 0" "$(json_num exit_code "$(ae status "$id")")" 0
log_is "... the echo and cat's copy, both abc" "$id" 'abcabc'

id=$(start_job --pty -- cat)
ae write --data 'one
' "$id" >/dev/null
# the terminal echoes at once, cat copies when it reads: one, then the next
ones() { [ "$(grep -c one "$ROOT/$1/stdout.log")" = 2 ]; }
until_true 5 ones "$id"
ae write --data 'two
' "$id" >/dev/null
capture ae write --eof "$id"
check_out "pty: write --eof alone (after whole lines): eof true" \
	"$RC $(json_bool eof "$OUT")" "0 true"
wait_for "... cat ends" 5 is_state "$id" exited
check_eq "... each line twice (echo and cat), in order" \
	"$(tr -d '\r' <"$ROOT/$id/stdout.log" | tr '\n' '|')" "one|one|two|two|"

# ---- signals ---------------------------------------------------------------------------------------

id=$(start_job --pty -- sleep 30)
pid=$(record_num "$id" pid)
out=$(ae kill --signal INT "$id")
check_eq "kill --signal INT on a pty sleep: killed" "$(json_str state "$out")" killed
st=$(ae status "$id")
check_eq "... status: killed by signal 2" \
	"$(json_str state "$st") $(json_str signal "$st")" "killed 2"
wait_for "... the process is gone" 5 proc_gone "${pid:-0}"

id=$(start_job --pty -- sh -c 'trap "echo got-int; exit 3" INT; echo ready; while :; do sleep 0.05; done')
wait_for "a pty job that traps INT is ready" 5 grep -q ready "$ROOT/$id/stdout.log"
ae kill --signal INT "$id" >/dev/null
wait_for "... it handles INT and ends" 5 is_state "$id" exited
check_eq "... with its own status 3" "$(json_num exit_code "$(ae status "$id")")" 3
check_contains "... and its output" "$(cat "$ROOT/$id/stdout.log")" got-int
