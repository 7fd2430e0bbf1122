#!/bin/sh
# tail: keys, line and byte windows, CRLF, invalid UTF-8, JSON escaping,
# byte counts, and a huge log read from its end.
. "$(dirname "$0")/lib.sh"

# job_printing FORMAT [ARGS]: a finished job whose stdout is printf's.
job_printing() { job_id "$(ae run --wait -- printf "$@")"; }

# ---- keys ----------------------------------------------------------------------

id=$(job_id "$(ae run --wait -- sh -c 'echo out; echo err >&2')")
capture ae tail "$id"
check_eq "tail exits 0 with one line" "$RC $OUT_LINES" "0 1"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"tail","job_id":"'"$id"'",'*)
	ok "tail: envelope and job_id" ;;
*) not_ok "tail: envelope and job_id"; echo "#   $OUT" ;;
esac
for key in stdout_tail stderr_tail truncated encoding stdout_log_path \
	stderr_log_path stdout_observed_bytes stderr_observed_bytes \
	stdout_included_bytes stderr_included_bytes; do
	check_has "tail has $key" "$key" "$OUT"
done
check_eq "tail: stdout" "$(json_str stdout_tail "$OUT")" out
check_eq "tail: stderr" "$(json_str stderr_tail "$OUT")" err
check_eq "tail: encoding" "$(json_str encoding "$OUT")" utf-8-lossy
check_eq "tail: truncated false" "$(json_bool truncated "$OUT")" false
check_eq "tail: stdout_log_path" "$(json_str stdout_log_path "$OUT")" \
	"$ROOT/$id/stdout.log"
check_eq "tail: stderr_log_path" "$(json_str stderr_log_path "$OUT")" \
	"$ROOT/$id/stderr.log"
check_eq "tail: observed bytes = file sizes" \
	"$(json_num stdout_observed_bytes "$OUT") $(json_num stderr_observed_bytes "$OUT")" \
	"4 4"
check_eq "tail: included bytes (no trailing newline)" \
	"$(json_num stdout_included_bytes "$OUT") $(json_num stderr_included_bytes "$OUT")" \
	"3 3"

# ---- lines -----------------------------------------------------------------------

id=$(job_id "$(ae run --wait -- seq 1 100)")
out=$(ae tail "$id")
check_eq "default: the last 50 lines" "$(json_str stdout_tail "$out")" \
	"$(seq 51 100 | join_lines)"
check_eq "default on 100 lines: truncated" "$(json_bool truncated "$out")" true
check_eq "observed bytes: the whole file" \
	"$(json_num stdout_observed_bytes "$out")" "$(seq 1 100 | wc -c | tr -d ' ')"
check_eq "included bytes: the tail's bytes" \
	"$(json_num stdout_included_bytes "$out")" \
	"$(($(seq 51 100 | wc -c) - 1))"
out=$(ae tail --tail-lines 3 "$id")
check_eq "--tail-lines 3" "$(json_str stdout_tail "$out")" '98\n99\n100'
out=$(ae tail --tail-lines 100 "$id")
check_eq "--tail-lines 100 of 100 lines: not truncated" \
	"$(json_bool truncated "$out")" false
out=$(ae tail --tail-lines 0 "$id")
check_eq "--tail-lines 0: every line, trailing newline kept" \
	"$(json_str stdout_tail "$out")" "$(seq 1 100 | join_lines)\\n"
check_eq "--tail-lines 0: not truncated" "$(json_bool truncated "$out")" false

id=$(job_printing 'x\ny\n')
check_eq "lines joined by newlines, no trailing newline" \
	"$(json_str stdout_tail "$(ae tail "$id")")" 'x\ny'
id=$(job_printing 'x\n\ny')
check_eq "empty lines kept, unterminated last line shown" \
	"$(json_str stdout_tail "$(ae tail "$id")")" 'x\n\ny'
id=$(job_printing 'a\n\n')
check_eq "an empty last line counts as a line" \
	"$(json_str stdout_tail "$(ae tail --tail-lines 1 "$id")")" ""
check_eq "... and is kept among the last lines" \
	"$(json_str stdout_tail "$(ae tail "$id")")" 'a\n'
id=$(job_printing 'a\r\nb\r\n')
check_eq "CRLF shown as LF" "$(json_str stdout_tail "$(ae tail "$id")")" 'a\nb'
check_eq "--tail-lines 0 keeps CR" \
	"$(json_str stdout_tail "$(ae tail --tail-lines 0 "$id")")" 'a\r\nb\r\n'

# ---- bytes -----------------------------------------------------------------------

id=$(job_printing '0123456789')
out=$(ae tail --max-bytes 5 "$id")
check_eq "--max-bytes 5: the last 5 bytes" "$(json_str stdout_tail "$out")" 56789
check_eq "--max-bytes: truncated" "$(json_bool truncated "$out")" true
check_eq "--max-bytes: observed 10, included 5" \
	"$(json_num stdout_observed_bytes "$out") $(json_num stdout_included_bytes "$out")" \
	"10 5"
out=$(ae tail --max-bytes 10 "$id")
check_eq "--max-bytes = size: not truncated" \
	"$(json_bool truncated "$out") $(json_str stdout_tail "$out")" \
	"false 0123456789"
out=$(ae tail --max-bytes 0 "$id")
check_eq "--max-bytes 0: nothing" \
	"$(json_str stdout_tail "$out") $(json_num stdout_included_bytes "$out")" " 0"
id=$(job_printing 'line1\nline2\n')
check_eq "--max-bytes with --tail-lines 0: raw last bytes" \
	"$(json_str stdout_tail "$(ae tail --tail-lines 0 --max-bytes 4 "$id")")" \
	'ne2\n'
check_eq "--max-bytes then --tail-lines" \
	"$(json_str stdout_tail "$(ae tail --tail-lines 1 --max-bytes 8 "$id")")" \
	'line2'

# 100 lines of 2000 bytes: the 65536-byte window comes first (it starts
# 1536 bytes before the end of line 68), then the last 50 lines of it
id=$(job_id "$(ae run --wait -- awk 'BEGIN { for (i = 1; i <= 100; i++) {
	s = sprintf("%04d", i); while (length(s) < 1999) s = s "x"; print s } }')")
out=$(ae tail "$id")
check_eq "default --max-bytes 65536 bounds the tail (included bytes)" \
	"$(json_num stdout_included_bytes "$out")" 65535
check_eq "... observed bytes" "$(json_num stdout_observed_bytes "$out")" 200000
check_eq "... truncated" "$(json_bool truncated "$out")" true
tail_text=$(json_str stdout_tail "$out")
check_match "... the first line is the cut end of line 68" \
	"$(printf '%s' "$tail_text" | cut -c 1-1545)" '^x{1535}\\n0069x'
check_match "... the last line is line 100" \
	"$(printf '%s' "$tail_text" | sed 's/.*\\n//')" '^0100x{1995}$'

# ---- encoding --------------------------------------------------------------------

fffd=$(printf '\357\277\275')
id=$(job_printing 'a\377b\n')
out=$(ae tail "$id")
check_eq "invalid UTF-8 shows as U+FFFD (raw EF BF BD)" \
	"$(json_str stdout_tail "$out")" "a${fffd}b"
check_eq "included bytes count the replacement" \
	"$(json_num stdout_included_bytes "$out")" 5
id=$(job_printing 'x\303\251y')
check_eq "valid UTF-8 passes unchanged" \
	"$(json_str stdout_tail "$(ae tail "$id")")" "x$(printf '\303\251')y"
check_eq "a character cut at the window start becomes U+FFFD" \
	"$(json_str stdout_tail "$(ae tail --max-bytes 2 "$id")")" "${fffd}y"
id=$(job_printing 'q"b\\s\tc\001/')
check_contains "quotes, backslashes and controls are escaped" \
	"$(ae tail "$id")" '"stdout_tail":"q\"b\\s\tc\u0001/"'

id=$(job_printing 'a\000b\n')
check_contains "a NUL byte is escaped (u0000)" "$(ae tail "$id")" \
	'"stdout_tail":"a\u0000b"'

# ---- a huge log is read from its end ----------------------------------------------

id=$(job_id "$(ae run --wait -- true)")
log=$ROOT/$id/stdout.log
# A sparse 4 GB file if the file system allows it, else 50 MB of text.
if dd if=/dev/null of="$log" bs=1 count=0 seek=4000000000 2>/dev/null &&
	[ "$(du -k "$log" | cut -f1)" -lt 1024 ]; then
	:
else
	yes 'filler line' | head -c 50000000 >"$log"
fi
yes 'the end of a huge log' | head -n 1000 >>"$log"
size=$(file_size "$log")
t0=$(now_ms)
out=$(ae tail "$id")
check_between "tail of a $size-byte log is fast (ms)" $(($(now_ms) - t0)) 0 2000
check_eq "tail of a huge log: observed bytes" \
	"$(json_num stdout_observed_bytes "$out")" "$size"
check_eq "tail of a huge log: the last 50 lines" \
	"$(json_str stdout_tail "$out")" \
	"$(yes 'the end of a huge log' | head -n 50 | join_lines)"
check_eq "tail of a huge log: truncated" "$(json_bool truncated "$out")" true
: >"$log"

# ---- errors ------------------------------------------------------------------------

check_error "tail of an unknown id: job_not_found" job_not_found \
	ae tail 01ZZZZZZZZZZZZZZZZZZZZZZZZ
id=$(job_id "$(ae run --wait -- true)")
rm -f "$ROOT/$id/stdout.log"
out=$(ae tail "$id")
check_eq "a missing log file reads as empty" \
	"$(json_bool ok "$out") $(json_num stdout_observed_bytes "$out")" "true 0"
