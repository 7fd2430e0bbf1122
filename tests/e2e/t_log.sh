#!/bin/sh
# log: paging a log by lines (--offset, --limit, the last 200 by default),
# the keys of the answer, CRLF, a last line without newline, long lines,
# JSON escaping, stderr and full.log, bad options, and every line of a
# 100000-line log seen once when paged by 1000.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"
# lines_of JSON: the answer's lines joined by |
lines_of() { json_strings lines "$1" | tr '\n' '|'; }
# paging JSON: offset next_offset total_lines has_more truncated_lines
paging() {
	echo "$(json_num offset "$1") $(json_num next_offset "$1")" \
		"$(json_num total_lines "$1") $(json_bool has_more "$1")" \
		"$(json_num truncated_lines "$1")"
}
# count_of JSON: how many lines the answer holds
count_of() { json_strings lines "$1" | wc -l | tr -d ' '; }
# keep NAME JSON: keep an answer for the schema checks
keep() { printf '%s\n' "$2" >"$TMP/ans/$1"; }

# 300 lines "l 1".."l 300", then "crlf" with CRLF, then "last" without a
# newline: 302 lines; on stderr "e 1".."e 5".
out=$(ae run --wait -- sh -c 'i=1; while [ $i -le 300 ]; do echo "l $i"; i=$((i + 1)); done; printf "crlf\r\nlast"; for i in 1 2 3 4 5; do echo "e $i" >&2; done')
id=$(job_id "$out")

capture ae log "$id"
keep default "$OUT"
check_eq "log: exit 0, one line" "$RC $OUT_LINES" "0 1"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"log","job_id":"'"$id"'","stream":"stdout","path":"'"$ROOT/$id/stdout.log"'","lines":['*)
	ok "log: envelope, job_id, stream stdout, path, lines" ;;
*) not_ok "log: envelope, job_id, stream stdout, path, lines"; echo "#   $(printf '%s' "$OUT" | head -c 300)" ;;
esac
for key in total_lines offset next_offset has_more truncated_lines; do
	check_has "log has $key" "$key" "$OUT"
done
check_eq "no --offset/--limit: the last 200 lines (offset 102, next 302 of 302)" \
	"$(count_of "$OUT") $(paging "$OUT")" "200 102 302 302 false 0"
check_eq "... from l 103" "$(json_strings lines "$OUT" | head -n 1)" "l 103"
check_eq "... to the CRLF line (read as LF) and the last line without newline" \
	"$(json_strings lines "$OUT" | tail -n 3 | tr '\n' '|')" "l 300|crlf|last|"

out=$(ae log --offset 298 "$id")
keep offset "$out"
check_eq "--offset 298: lines 298.. to the end" "$(lines_of "$out")" "l 299|l 300|crlf|last|"
check_eq "... offset 298, next 302, no more" "$(paging "$out")" "298 302 302 false 0"
out=$(ae log --offset 0 "$id")
check_eq "--offset 0 alone: every line, not capped at 200" \
	"$(count_of "$out") $(paging "$out")" "302 0 302 302 false 0"
check_eq "... in order" "$(json_strings lines "$out" | head -n 300 |
	awk '$0 != "l " NR { print NR; exit } END { print "end" }' | head -n 1)" end
out=$(ae log --limit 2 "$id")
keep limit "$out"
check_eq "--limit 2 alone: the last 2" "$(lines_of "$out")" "crlf|last|"
check_eq "... offset 300, next 302" "$(paging "$out")" "300 302 302 false 0"
out=$(ae log --offset 5 --limit 2 "$id")
keep both "$out"
check_eq "--offset 5 --limit 2: lines 5 and 6 (0-based)" "$(lines_of "$out")" "l 6|l 7|"
check_eq "... next 7, has_more" "$(paging "$out")" "5 7 302 true 0"
out=$(ae log --offset 300 --limit 10 "$id")
check_eq "--offset 300 --limit 10: the 2 that are left" "$(lines_of "$out")" "crlf|last|"
check_eq "... next 302, no more" "$(paging "$out")" "300 302 302 false 0"
out=$(ae log --offset 301 --limit 1 "$id")
check_eq "--offset 301 --limit 1: the last line, no more" \
	"$(lines_of "$out") $(paging "$out")" "last| 301 302 302 false 0"
out=$(ae log --limit 1000 "$id")
check_eq "--limit 1000 (more than there are): all, from 0" \
	"$(count_of "$out") $(paging "$out")" "302 0 302 302 false 0"
out=$(ae log --offset 500 "$id")
keep past "$out"
check_eq "--offset past the end: no lines, offset = total_lines" \
	"$(lines_of "$out")/$(paging "$out")" "/302 302 302 false 0"
check_contains "... lines []" "$out" '"lines":[]'
out=$(ae log --offset 302 --limit 5 "$id")
check_eq "--offset at the end: no lines" "$(lines_of "$out")/$(paging "$out")" \
	"/302 302 302 false 0"

out=$(ae log --stream stderr "$id")
keep stderr "$out"
check_eq "--stream stderr: its lines" "$(lines_of "$out")" "e 1|e 2|e 3|e 4|e 5|"
check_eq "... stream stderr, path stderr.log" \
	"$(json_str stream "$out") $(json_str path "$out")" "stderr $ROOT/$id/stderr.log"
check_eq "... paging" "$(paging "$out")" "0 5 5 false 0"
out=$(ae log --stream stdout --limit 1 "$id")
check_eq "--stream stdout: the default" "$(lines_of "$out")" "last|"
out=$(ae log --stream full --offset 0 "$id")
keep full "$out"
check_eq "--stream full: full.log, every line" \
	"$(json_str stream "$out") $(json_str path "$out") $(json_num total_lines "$out")" \
	"full $ROOT/$id/full.log $(line_count "$ROOT/$id/full.log")"
check_match "... its lines are <time> [STDOUT] <line>" \
	"$(json_strings lines "$out" | head -n 1)" '^[0-9T:Z-]+ \[STDOUT\] l 1$'
check_eq "... 307 lines with stdout and stderr" "$(count_of "$out")" 307
check_usage_error "--stream bogus: usage error" ae log --stream bogus "$id"
check_usage_error "--offset -1: usage error" ae log --offset -1 "$id"
check_usage_error "--limit abc: usage error" ae log --limit abc "$id"
check_usage_error "log without a job id: usage error" ae log
check_error "log of an unknown job: job_not_found" job_not_found \
	ae log 01ARZ3NDEKTSV4RRFFQ69G5FAV

check_schema "log answers are answers" - "$TMP"/ans/*
check_schema "... and match log" log "$TMP"/ans/*

# ---- odd contents -------------------------------------------------------------------------------

out=$(ae run --wait -- true)
out=$(ae log "$(job_id "$out")")
check_eq "an empty log: no lines, total 0" "$(lines_of "$out")/$(paging "$out")" \
	"/0 0 0 false 0"
id=$(job_id "$(ae create -- true)")
out=$(ae log "$id")
check_eq "a created job: no lines" "$(json_num total_lines "$out") $(lines_of "$out")" "0 "

printf 'q"uo\\te\ttab\n\n\r\n   spaced  \n\303\251t\303\251\n' >"$TMP/odd"
out=$(ae run --wait -- cat "$TMP/odd")
out=$(ae log "$(job_id "$out")")
json_strings lines "$out" >"$TMP/odd.got"
printf 'q"uo\\te\ttab\n\n\n   spaced  \n\303\251t\303\251\n' >"$TMP/odd.want"
check "quotes, backslashes, tabs, empty lines, spaces, UTF-8: each line as printed" \
	cmp -s "$TMP/odd.got" "$TMP/odd.want"
check_eq "... 5 lines" "$(json_num total_lines "$out")" 5

out=$(ae run --wait -- awk 'BEGIN { s = "x"; while (length(s) < 70000) s = s s
	print substr(s, 1, 70000); print "short"; print substr(s, 1, 65536)
	print substr(s, 1, 65537); printf "%s", substr(s, 1, 70000) }')
id=$(job_id "$out")
out=$(ae log "$id")
check_eq "lines over 64 KiB: 3 cut (truncated_lines 3), 5 lines" \
	"$(json_num truncated_lines "$out") $(json_num total_lines "$out")" "3 5"
check_eq "... cut at 65536 bytes; a line of exactly 65536 and a short one stay" \
	"$(json_strings lines "$out" | awk '{ printf "%d ", length($0) }')" \
	"65536 5 65536 65536 65536 "
check_eq "... the lines after a cut one are whole" \
	"$(json_strings lines "$out" | sed -n 2p)" short
out=$(ae log --offset 1 --limit 2 "$id")
check_eq "... a page without long lines: truncated_lines 0" \
	"$(json_num truncated_lines "$out") $(lines_of "$out" | cut -c1-8)" "0 short|xx"

# ---- a big log -----------------------------------------------------------------------------------

out=$(ae run --wait -- awk 'BEGIN { for (i = 1; i <= 100000; i++) print "row " i }')
id=$(job_id "$out")
: >"$TMP/paged"
offset=0
pages=0
bad=""
t0=$(now_ms)
while [ "$offset" -lt 100000 ] && [ $pages -lt 200 ]; do
	out=$(ae log --offset "$offset" --limit 1000 "$id")
	json_strings lines "$out" >>"$TMP/paged"
	pages=$((pages + 1))
	next=$(json_num next_offset "$out")
	want_more=true
	[ "$((offset + 1000))" -ge 100000 ] && want_more=false
	if [ "$next" != "$((offset + 1000))" ] || [ "$(json_bool has_more "$out")" != $want_more ] ||
		[ "$(json_num total_lines "$out")" != 100000 ]; then
		[ -z "$bad" ] && bad="offset $offset: $(paging "$out")"
	fi
	if [ -z "$next" ] || [ "$next" -le "$offset" ]; then break; fi
	offset=$next
done
echo "# note: 100000 lines paged in $pages answers, $(($(now_ms) - t0)) ms"
check_eq "100000 lines paged by 1000: 100 pages, each next = offset + 1000" \
	"$pages $bad" "100 "
check_eq "... every line once, in order" \
	"$(awk '$0 != "row " NR { print "line " NR ": " $0; bad = 1; exit } END { if (!bad) print NR }' "$TMP/paged")" \
	100000
out=$(ae log "$id")
check_eq "... by default, its last 200" \
	"$(json_strings lines "$out" | head -n 1) $(paging "$out")" \
	"row 99801 99800 100000 100000 false 0"

# ---- a job run with --log PATH: --stream full reads PATH --------------------
out=$(ae run --wait --log "$TMP/elsewhere/combined.log" -- \
	sh -c 'echo to-out; echo to-err >&2')
id=$(job_id "$out")
out=$(ae log --stream full "$id")
check_eq "--log PATH: log --stream full names PATH" \
	"$(json_str path "$out")" "$TMP/elsewhere/combined.log"
# (the two pipes are read in either order)
check_eq "... and pages its lines" "$(json_num total_lines "$out") $(json_strings lines "$out" | sed 's/^[^ ]* //' | sort | tr '\n' ' ')" \
	"2 [STDERR] to-err [STDOUT] to-out "
out=$(ae log --stream stdout "$id")
check_eq "... stdout still reads the job's stdout.log" \
	"$(json_str path "$out") $(json_strings lines "$out")" "$ROOT/$id/stdout.log to-out"
