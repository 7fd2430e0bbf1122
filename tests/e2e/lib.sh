# tests/e2e/lib.sh - sourced by every end-to-end script.
#
# POSIX sh only (dash, busybox ash): no arrays, no [[ ]], no $'...', no
# bash-only expansions; only grep/sed/awk/cat/mktemp/sleep and friends. No
# jq: the helpers below read our compact JSON with grep and sed.
#
# A script prints one "ok - <what>" or "not ok - <what>" line per assertion
# (tests/run.sh counts them) and may print "# <note>" lines. Wait for
# conditions with wait_for/until_true (a deadline and a short poll), never
# with a bare sleep.

: "${AE_BIN:?AE_BIN must name the binary under test}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ae-e2e.XXXXXX") || exit 1
ROOT="$TMP/root"
unset AGENT_EXEC_ROOT XDG_DATA_HOME
export TMP ROOT

# The binary under test, on this script's own root.
ae() { "$AE_BIN" --root "$ROOT" "$@"; }

# ---- JSON helpers (first occurrence of a key; compact or pretty JSON) ----

# json_str KEY JSON: the string value (escapes are left as they are).
json_str() {
	printf '%s\n' "$2" | grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 |
		sed 's/^"[^"]*": *"//; s/"$//'
}
# json_num KEY JSON: the integer value.
json_num() {
	printf '%s\n' "$2" | grep -oE "\"$1\": *-?[0-9]+" |
		head -n 1 | sed 's/^"[^"]*": *//'
}
# json_bool KEY JSON: true or false.
json_bool() {
	printf '%s\n' "$2" | grep -oE "\"$1\": *(true|false)" | head -n 1 |
		sed 's/^"[^"]*": *//'
}
# json_has KEY JSON: whether the key occurs at all.
json_has() { printf '%s\n' "$2" | grep -q "\"$1\":"; }

# ---- assertions ----------------------------------------------------------

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

# check DESC CMD...: the command succeeds.
check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}
# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
}
# check_contains DESC TEXT NEEDLE (fixed string)
check_contains() {
	if printf '%s\n' "$2" | grep -qF -e "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   '$3' not in: $(printf '%s' "$2" | head -c 600)"
	fi
}
# check_lacks DESC TEXT NEEDLE (fixed string)
check_lacks() {
	if printf '%s\n' "$2" | grep -qF -e "$3"; then
		not_ok "$1"
		echo "#   '$3' unexpectedly in: $(printf '%s' "$2" | head -c 600)"
	else
		ok "$1"
	fi
}

# bound SECONDS: a deadline for work the binary does, stretched under a
# tool that slows every call of it (valgrind, the sanitizers, an emulator).
# A wait that succeeds ends as early as ever; only a failure takes longer.
bound() {
	case ${AE_UNDER_TOOL:-} in
	valgrind | asan | qemu) echo $(($1 * 6)) ;;
	*) echo "$1" ;;
	esac
}
# until_true SECONDS CMD...: poll CMD every 50 ms until it succeeds (0) or
# the deadline (bound SECONDS) passes (1).
until_true() {
	_deadline=$(( $(date +%s) + $(bound "$1") ))
	shift
	while :; do
		"$@" && return 0
		[ "$(date +%s)" -gt "$_deadline" ] && return 1
		sleep 0.05
	done
}
# wait_for DESC SECONDS CMD...: until_true as an assertion.
wait_for() {
	_desc=$1
	shift
	if until_true "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

# now_ms: wall clock in milliseconds (whole seconds where date has no %N).
# ms_clock: whether now_ms has millisecond resolution (busybox date has no
# %N: its now_ms counts whole seconds, so a lower bound under 1 s cannot
# be checked there).
ms_clock() {
	case $(date +%N 2>/dev/null) in
	*N | "") return 1 ;;
	esac
}
now_ms() {
	_ns=$(date +%s%N 2>/dev/null)
	case $_ns in
	*N | "") echo "$(( $(date +%s) * 1000 ))" ;;
	*) echo "$(( _ns / 1000000 ))" ;;
	esac
}

# ---- jobs ----------------------------------------------------------------

# job_id JSON: the job_id of an answer.
job_id() { json_str job_id "$1"; }
# state_of ID: the job's state as status reports it.
state_of() { json_str state "$(ae status "$1")"; }
# is_state ID STATE: for until_true.
is_state() { [ "$(state_of "$1")" = "$2" ]; }
# record_num ID KEY: an integer of the job's state.json (e.g. pid,
# supervisor_pid).
record_num() { json_num "$2" "$(cat "$ROOT/$1/state.json" 2>/dev/null)"; }
# process_alive PID
process_alive() { kill -0 "$1" 2>/dev/null; }

# Stop whatever this script left running, then remove its files.
cleanup() {
	for _dir in "$ROOT"/*/; do
		[ -f "$_dir/state.json" ] || continue
		# what a finished job left running (its supervisor waits for it)
		grep -q '"leftovers"' "$_dir/state.json" &&
			"$AE_BIN" --root "$ROOT" kill --signal KILL \
				"$(basename "$_dir")" >/dev/null 2>&1
		# a queued job's supervisor has no job yet: it is ended alone
		grep -q '"status": *"\(running\|queued\)"' "$_dir/state.json" ||
			continue
		_pid=$(json_num pid "$(cat "$_dir/state.json")")
		_sup=$(json_num supervisor_pid "$(cat "$_dir/state.json")")
		[ -n "$_pid" ] && kill -KILL "-$_pid" 2>/dev/null
		[ -n "$_sup" ] && kill -KILL "$_sup" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- more helpers (shared by the t_*.sh scripts) --------------------------

# capture CMD...: run CMD and keep what it did: RC (exit status), OUT
# (stdout, trailing newlines stripped), ERR (stderr), OUT_LINES (newlines
# on stdout) and OUT_BYTES (bytes on stdout).
capture() {
	"$@" >"$TMP/.capture.out" 2>"$TMP/.capture.err"
	RC=$?
	OUT=$(cat "$TMP/.capture.out")
	ERR=$(cat "$TMP/.capture.err")
	OUT_BYTES=$(wc -c <"$TMP/.capture.out" | tr -d ' ')
	OUT_LINES=$(wc -l <"$TMP/.capture.out" | tr -d ' ')
}
# check_usage_error DESC CMD...: CMD is a usage error: exit 2, nothing on
# stdout, a message on stderr.
check_usage_error() {
	_desc=$1
	shift
	capture "$@"
	if [ "$RC" = 2 ] && [ "$OUT_BYTES" = 0 ] && [ -n "$ERR" ]; then
		ok "$_desc"
	else
		not_ok "$_desc"
		echo "#   exit $RC (want 2), stdout $OUT_BYTES bytes (want 0):" \
			"$(printf '%s' "$OUT" | head -c 300)"
		echo "#   stderr: $(printf '%s' "$ERR" | head -c 300)"
	fi
}
# check_error DESC CODE CMD...: CMD fails as a handled error: exit 1 and
# one JSON line {"schema_version":"0.1","ok":false,"type":"error",
# "error":{"code":CODE,...,"retryable":false}}. Leaves OUT set.
check_error() {
	_desc=$1
	_code=$2
	shift 2
	capture "$@"
	case $OUT in
	'{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"'"$_code"'","message":"'*'"retryable":false'*)
		_shape=1 ;;
	*) _shape=0 ;;
	esac
	if [ "$RC" = 1 ] && [ "$OUT_LINES" = 1 ] && [ "$_shape" = 1 ]; then
		ok "$_desc"
	else
		not_ok "$_desc"
		echo "#   exit $RC (want 1), $OUT_LINES lines, want code $_code:" \
			"$(printf '%s' "$OUT" | head -c 400)"
		echo "#   stderr: $(printf '%s' "$ERR" | head -c 200)"
	fi
}
# check_has DESC KEY JSON / check_hasnt DESC KEY JSON: the key is present /
# absent.
check_has() {
	if json_has "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   no key \"$2\" in: $(printf '%s' "$3" | head -c 600)"
	fi
}
check_hasnt() {
	if json_has "$2" "$3"; then
		not_ok "$1"
		echo "#   unexpected key \"$2\" in: $(printf '%s' "$3" | head -c 600)"
	else
		ok "$1"
	fi
}
# check_match DESC TEXT ERE: TEXT (one line) matches the extended regex.
check_match() {
	if printf '%s\n' "$2" | grep -qE -e "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   '$(printf '%s' "$2" | head -c 400)' does not match /$3/"
	fi
}
# check_between DESC N LOW HIGH: LOW <= N <= HIGH (integers).
check_between() {
	if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null && [ "$2" -le "$4" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got '$2', want $3..$4"
	fi
}

# TS_RE: our timestamps, YYYY-MM-DDTHH:MM:SSZ.
TS_RE='^[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$'
# ID_RE: a job id, a ULID in Crockford base32.
ID_RE='^[0-9A-HJKMNP-TV-Z]{26}$'

# start_job RUN-ARGS...: run without a snapshot; print the job id.
#   id=$(start_job -- sleep 30)
start_job() { job_id "$(ae run --snapshot-after 0 "$@")"; }
# file_size PATH: size in bytes (empty if missing).
file_size() { [ -e "$1" ] && wc -c <"$1" | tr -d ' '; }
# json_flat FILE: a pretty-printed record on one line (indentation and
# newlines removed), for grepping structure: {"job": {"id": "X"},...}.
json_flat() { sed 's/^ *//' "$1" | tr -d '\n'; }
# join_lines: stdin's lines joined with a literal \n, as a JSON string
# shows them (for plain text without quotes or backslashes).
join_lines() { awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'; }
# proc_field PID N: field N (1-based, as in proc(5): 3 state, 4 ppid,
# 5 pgrp, 6 session) of /proc/PID/stat.
proc_field() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk -v n="$(($2 - 2))" '{ print $n }'
}
# proc_running PID: the process exists and one of its threads is not a
# zombie (a killed leader turns zombie before its other threads have let go
# of its descriptors and locks: qemu-user runs threads of its own).
proc_running() {
	process_alive "$1" || return 1
	for _task in /proc/"$1"/task/*/stat; do
		_task_state=$(sed 's/^.*) //' "$_task" 2>/dev/null | cut -d' ' -f1)
		[ -n "$_task_state" ] && [ "$_task_state" != Z ] && return 0
	done
	return 1
}
# proc_gone PID: for until_true.
proc_gone() { ! proc_running "$1"; }
# json_text KEY JSON: like json_str, but an escaped quote (\") does not end
# the value (escapes are left as they are).
json_text() {
	printf '%s\n' "$2" |
		grep -oE "\"$1\": *\"([^\"\\\\]|\\\\.)*\"" | head -n 1 |
		sed 's/^"[^"]*": *"//; s/"$//'
}
# dir_bytes DIR: the bytes of the regular files under DIR (symlinks not
# followed), as gc and delete count a job's size.
dir_bytes() { find "$1" -type f -exec cat {} + | wc -c | tr -d ' '; }

# ---- notifications (t_notify*.sh) ------------------------------------------

# check_schema DESC DEFINITION [--lines] FILE...: every FILE (with --lines:
# every line of it) matches DEFINITION of $AE_SCHEMA. A missing or empty
# FILE fails: there must be something to check.
check_schema() {
	_desc=$1
	_def=$2
	shift 2
	_empty=""
	for _file in "$@"; do
		[ "$_file" = --lines ] && continue
		[ -s "$_file" ] || _empty="$_empty $_file"
	done
	if [ -n "$_empty" ]; then
		not_ok "$_desc"
		echo "#   missing or empty:$_empty"
		return
	fi
	if _out=$("$SCHEMA_CHECK" "$AE_SCHEMA" "$_def" "$@" 2>&1); then
		ok "$_desc"
	else
		not_ok "$_desc"
		printf '%s\n' "$_out" | head -n 10 | sed 's/^/#   /'
	fi
}
# make_script PATH: write stdin to PATH after a "#!/bin/sh" line and make
# it executable (sinks and job scripts):
#   make_script "$TMP/sink" <<'EOS'
#   cat >"$1"
#   EOS
make_script() {
	{ echo '#!/bin/sh'; cat; } >"$1" && chmod +x "$1"
}
# line_count FILE: the lines of FILE (0 when it does not exist).
line_count() {
	if [ -e "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}
# has_lines FILE N: FILE has at least N lines, for until_true.
has_lines() { [ "$(line_count "$1")" -ge "$2" ]; }
# delivery_status ID: the delivery_status of the job's completion_event.json
# (empty while there is none).
delivery_status() {
	json_str delivery_status "$(cat "$ROOT/$1/completion_event.json" 2>/dev/null)"
}
# delivery_is ID STATUS: for until_true, e.g. until_true 10 delivery_is
# "$id" delivered.
delivery_is() { [ "$(delivery_status "$1")" = "$2" ]; }

# ---- input, incremental output, log paging, events ------------------------
# (t_input, t_pty, t_cursor, t_log, t_events, t_env_vars)

# The awk behind json_decode and json_strings: split the JSON text at its
# quotes (a quote after an odd run of backslashes is inside a string), then
# decode a string's escapes (\uXXXX and surrogate pairs to UTF-8 bytes).
# Linear in the size of the text; byte-wise under LC_ALL=C.
_JSON_AWK='
function hexval(h,   i, v, c) {
	v = 0
	for (i = 1; i <= 4; i++) {
		c = index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
		if (c < 0) return 63
		v = v * 16 + c
	}
	return v
}
function utf8(cp) {
	if (cp < 128) return sprintf("%c", cp)
	if (cp < 2048) return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
	if (cp < 65536) return sprintf("%c%c%c", 224 + int(cp / 4096), \
		128 + int(cp / 64) % 64, 128 + cp % 64)
	return sprintf("%c%c%c%c", 240 + int(cp / 262144), \
		128 + int(cp / 4096) % 64, 128 + int(cp / 64) % 64, 128 + cp % 64)
}
function unescape(s,   n, P, k, out, p, c, cp, lo) {
	n = split(s, P, "\\")
	out = P[1]
	for (k = 2; k <= n; k++) {
		p = P[k]
		if (p == "" && k < n) { out = out "\\" P[k + 1]; k++; continue }
		c = substr(p, 1, 1)
		p = substr(p, 2)
		if (c == "n") out = out "\n"
		else if (c == "t") out = out "\t"
		else if (c == "r") out = out "\r"
		else if (c == "b") out = out "\b"
		else if (c == "f") out = out "\f"
		else if (c == "u") {
			cp = hexval(p)
			p = substr(p, 5)
			if (cp >= 55296 && cp < 56320 && p == "" && k < n && \
			    substr(P[k + 1], 1, 1) == "u") {
				lo = hexval(substr(P[k + 1], 2))
				if (lo >= 56320 && lo < 57344) {
					cp = 65536 + (cp - 55296) * 1024 + lo - 56320
					k++
					p = substr(P[k], 6)
				}
			}
			out = out utf8(cp)
		} else out = out c
		out = out p
	}
	return out
}
{ text = NR > 1 ? text "\n" $0 : $0 }
END {
	n = split(text, T, "\"")
	m = 0; inside = 0
	for (i = 1; i <= n; i++) {
		tok = T[i]
		while (inside && i < n && match(tok, /\\+$/) && RLENGTH % 2 == 1)
			tok = tok "\"" T[++i]
		W[++m] = tok; IN[m] = inside; inside = !inside
	}
	for (j = 1; j + 1 <= m; j++) {
		if (!IN[j] || W[j] != key || IN[j + 1]) continue
		if (!array && W[j + 1] ~ /^ *: *$/ && j + 2 <= m) {
			printf "%s", unescape(W[j + 2])
			exit
		}
		if (array && W[j + 1] ~ /^ *: *\[ *$/) {
			for (k = j + 2; k <= m && IN[k]; k += 2) {
				printf "%s\n", unescape(W[k])
				if (W[k + 1] ~ /\]/) break
			}
			exit
		}
	}
}'
# json_decode KEY JSON: the string value of KEY (first occurrence) with its
# escapes decoded, as raw bytes without a newline added, e.g. to append
# what tail returned to a file:  json_decode stdout_tail "$out" >>"$TMP/got"
json_decode() {
	printf '%s\n' "$2" | LC_ALL=C awk -v key="$1" -v array=0 "$_JSON_AWK"
}
# json_strings KEY JSON: the strings of the array KEY, decoded, one a line
# (nothing for an empty array), e.g. the lines of a log answer.
json_strings() {
	printf '%s\n' "$2" | LC_ALL=C awk -v key="$1" -v array=1 "$_JSON_AWK"
}
# file_mode PATH: the permission bits as ls shows them, e.g. -rw-------.
file_mode() { ls -ld "$1" 2>/dev/null | cut -c1-10; }
# job_dirs: how many job directories the root holds.
job_dirs() {
	_n=0
	for _dir in "$ROOT"/*/; do [ -d "$_dir" ] && _n=$((_n + 1)); done
	echo "$_n"
}
# bytes_file PATH: write the 256 byte values 0..255, in order, to PATH.
bytes_file() {
	_fmt=""
	_i=0
	while [ $_i -lt 256 ]; do
		_fmt="$_fmt\\$(printf %03o $_i)"
		_i=$((_i + 1))
	done
	# shellcheck disable=SC2059 # the format is the bytes
	printf "$_fmt" >"$1"
}
# wait_status PID SECONDS: wait for a background child of this shell to end
# (killing it with KILL after SECONDS) and set WAIT_STATUS to its exit
# status, or to "timeout" when it had to be killed. Not in $(...): only
# this shell can wait for its children.
wait_status() {
	if until_true "$2" proc_gone "$1"; then
		wait "$1"
		WAIT_STATUS=$?
	else
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		WAIT_STATUS=timeout
	fi
}
# check_out DESC GOT WANT: check_eq after capture, showing the captured
# answer ($OUT, $ERR) when it fails.
check_out() {
	check_eq "$1" "$2" "$3"
	[ "$2" = "$3" ] && return
	echo "#   answer: $(printf '%s' "$OUT" | head -c 400)"
	[ -n "$ERR" ] && echo "#   stderr: $(printf '%s' "$ERR" | head -c 200)"
}
# size_is PATH N: the file has N bytes, for until_true (an argument like
# "$(file_size F)" would be read once, when until_true is called).
size_is() { [ "$(file_size "$1")" = "$2" ]; }

# ---- faults, load, resources, hostile input --------------------------------
# (t_faults, t_load, t_resources, t_hostile, t_security)

# ae_stop STAGE ARGS...: ae with AGENT_EXEC_TEST_STOP_AT=STAGE in its
# environment only: the process (or the supervisor it launches) reaching
# STAGE stops itself with SIGSTOP, so the test can kill -9 it right there.
ae_stop() {
	_stage=$1
	shift
	AGENT_EXEC_TEST_STOP_AT=$_stage "$AE_BIN" --root "$ROOT" "$@"
}
# proc_stopped PID: the process is stopped (state T), for until_true.
proc_stopped() { [ "$(proc_field "$1" 3)" = T ]; }
# emulated: the binary runs under a user-mode emulator (make ARCH=aarch64
# check): the host sees the emulator's own command line, which the program
# cannot rewrite (no process titles, the CLI's arguments stay visible), and
# the emulator's memory counts as the program's.
emulated() { [ "${AE_UNDER_TOOL:-}" = qemu ]; }
# cmdline_check DESC CMD...: check, except under an emulator (a skip note)
cmdline_check() {
	if emulated; then
		echo "# skip: $1 (under qemu the host shows the emulator's command line)"
	else
		check "$@"
	fi
}
# supervisor_of ID: the pid of the job's supervisor, found by its process
# title "agent-exec supervisor ID"; nothing (status 1) when there is none.
supervisor_of() {
	for _f in /proc/[0-9]*/cmdline; do
		case $({ tr '\0' ' ' <"$_f"; } 2>/dev/null) in
		"agent-exec supervisor $1"*)
			_f=${_f#/proc/}
			echo "${_f%/cmdline}"
			return 0
			;;
		esac
	done
	return 1
}
# pids_with_text FILE: the pids whose command line contains one of the
# fixed strings of FILE (one a line); the strings stay in FILE, so the
# scanner's own command line never matches.
pids_with_text() {
	for _f in /proc/[0-9]*/cmdline; do
		{ tr '\0' '\n' <"$_f"; } 2>/dev/null | grep -qF -f "$1" || continue
		_f=${_f#/proc/}
		echo "${_f%/cmdline}"
	done
}
# kill_at_exit PID...: SIGKILL these processes when the script ends (before
# cleanup), e.g. stopped supervisors that have no state.json yet. A pid is
# killed only if it still has the start time it had when listed, so a
# reused pid is never hit. Once called, every process still stopped (state
# T) at the end whose command line names $ROOT or one of its jobs (a CLI, a
# supervisor) is killed too.
kill_at_exit() {
	for _p in "$@"; do
		echo "$_p $(proc_field "$_p" 22)" >>"$TMP/.kill_at_exit"
	done
	trap '_kill_listed; cleanup' EXIT
}
_kill_listed() {
	if [ -f "$TMP/.kill_at_exit" ]; then
		while read -r _p _start; do
			[ -n "$_start" ] && [ "$(proc_field "$_p" 22)" = "$_start" ] &&
				kill -KILL "$_p" 2>/dev/null
		done <"$TMP/.kill_at_exit"
	fi
	{ echo "$ROOT"; ls "$ROOT" 2>/dev/null; } >"$TMP/.stopped.pat"
	for _p in $(pids_with_text "$TMP/.stopped.pat"); do
		proc_stopped "$_p" && kill -KILL "$_p" 2>/dev/null
	done
	return 0
}
# new_dirs LISTING DIR: the entries of DIR that are not lines of the file
# LISTING (made before with ls DIR >LISTING; empty or missing: none), e.g.
# the job a background run created.
new_dirs() {
	if [ -s "$1" ]; then ls "$2" | grep -vxF -f "$1"; else ls "$2"; fi
}
# mode_octal PATH: the permission bits in octal, e.g. 600 (symlinks not
# followed).
mode_octal() {
	ls -ld "$1" 2>/dev/null | cut -c2-10 | awk '{
		v = 0
		for (i = 1; i <= 9; i++) {
			c = substr($0, i, 1)
			v = v * 2 + (c != "-" && c != "S" && c != "T")
		}
		printf "%o\n", v
	}'
}
# check_answer DESC CMD...: CMD answers as every command must, whatever it
# is given: exit 0 or 1 (never a crash, a signal or a usage error), one line
# on stdout, matching the schema (so valid JSON and valid UTF-8). Leaves
# RC, OUT and ERR set (capture).
check_answer() {
	_desc=$1
	shift
	capture "$@"
	printf '%s\n' "$OUT" >"$TMP/.answer.json"
	_why=""
	if [ "$RC" -le 1 ] && [ "$OUT_LINES" = 1 ] &&
		_why=$("$SCHEMA_CHECK" "$AE_SCHEMA" - "$TMP/.answer.json" 2>&1); then
		ok "$_desc"
	else
		not_ok "$_desc"
		echo "#   exit $RC, $OUT_LINES lines: $(printf '%s' "$OUT" | head -c 300)"
		[ -n "$_why" ] && printf '%s\n' "$_why" | head -n 5 | sed 's/^/#   /'
	fi
}
# answer_fine CMD...: check_answer's test without an assertion (for loops
# that report once): 0 when CMD exits 0 or 1 with one schema-valid line.
answer_fine() {
	capture "$@"
	printf '%s\n' "$OUT" >"$TMP/.answer.json"
	[ "$RC" -le 1 ] && [ "$OUT_LINES" = 1 ] &&
		"$SCHEMA_CHECK" "$AE_SCHEMA" - "$TMP/.answer.json" >/dev/null 2>&1
}

# ---- answers about many jobs (shared by the tests of selectors, queues) ----

# entry ID JSON: job ID's entry in an answer's jobs array.
entry() {
	printf '%s\n' "$2" | awk -v id="$1" '{
		n = split($0, parts, "\"job_id\":\"")
		for (i = 2; i <= n; i++)
			if (index(parts[i], id "\"") == 1) { print parts[i]; exit }
	}'
}
# ids_in JSON: the job ids of the answer, sorted, on one line.
ids_in() {
	printf '%s\n' "$1" | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4 | sort |
		tr '\n' ' ' | sed 's/ $//'
}
# sorted ID...: the ids sorted, on one line.
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
# keep_answer KIND: keep $OUT for a schema check of definition KIND
# (check_schema "..." KIND "$TMP"/answers.KIND).
keep_answer() { printf '%s\n' "$OUT" >>"$TMP/answers.$1"; }
# qrun RUN-ARGS...: run, answered at once; OUT the answer (kept for
# the schema: answers.run), ID the job.
qrun() {
	capture ae run --snapshot-after 0 "$@"
	keep_answer run
	ID=$(job_id "$OUT")
}
