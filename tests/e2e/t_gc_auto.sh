#!/bin/sh
# Automatic collection (issue 18): config.toml [gc] auto = true with
# older_than / max_jobs / max_bytes makes run, start and restart collect
# after their answer, in a detached process that delays neither the answer
# nor the exit, one at a time and once a minute at most (<root>/.gc-auto);
# off by default; a wrong [gc] is invalid_config for run and create (nothing
# made), while start, restart and run --shell-wrapper, for which 0.1 reads
# no config, only leave collection off.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/xdg/agent-exec" "$TMP/home"
XDG_CONFIG_HOME=$TMP/xdg
HOME=$TMP/home
export XDG_CONFIG_HOME HOME
CONFIG=$TMP/xdg/agent-exec/config.toml
STAMP=$ROOT/.gc-auto

# finished_job ID DAYS_AGO: hand-write a job that finished DAYS_AGO days
# ago, with 1000 bytes of output.
finished_job() {
	_at=$(date -u -d "@$(( $(date +%s) - $2 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
		date -u -r "$(( $(date +%s) - $2 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ)
	mkdir -p "$ROOT/$1"
	printf '{"job": {"id": "%s", "status": "exited"}, "result": {"exit_code": 0}, "finished_at": "%s", "updated_at": "%s"}\n' \
		"$1" "$_at" "$_at" >"$ROOT/$1/state.json"
	head -c 1000 /dev/zero >"$ROOT/$1/stdout.log"
}
J1=01J1AAAAAAAAAAAAAAAAAAAAAA
J2=01J2AAAAAAAAAAAAAAAAAAAAAA
J3=01J3AAAAAAAAAAAAAAAAAAAAAA
J4=01J4AAAAAAAAAAAAAAAAAAAAAA
J5=01J5AAAAAAAAAAAAAAAAAAAAAA
# old_jobs: J1..J5 finished 60..40 days ago (J1 oldest).
old_jobs() {
	_n=60
	for _id in $J1 $J2 $J3 $J4 $J5; do
		finished_job "$_id" "$_n"
		_n=$((_n - 5))
	done
}
gone() { for _id in "$@"; do [ ! -e "$ROOT/$_id" ] || return 1; done; }
there() { for _id in "$@"; do [ -d "$ROOT/$_id" ] || return 1; done; }
stamp_done() { [ -s "$STAMP" ]; }
# collectors: the pids of stopped processes that have
# AGENT_EXEC_TEST_STOP_AT=gc-auto in their environment.
collectors() {
	for _e in /proc/[0-9]*/environ; do
		{ tr '\0' '\n' <"$_e"; } 2>/dev/null |
			grep -qx 'AGENT_EXEC_TEST_STOP_AT=gc-auto' || continue
		_p=${_e#/proc/}
		_p=${_p%/environ}
		proc_stopped "$_p" && echo "$_p"
	done
}
one_collector() { [ "$(collectors | wc -l | tr -d ' ')" = 1 ]; }

# ---- off by default ----

old_jobs
capture ae run --wait -- true
check_eq "no config: run works" "$RC" 0
check "... and collects nothing (0.1 never deletes on its own)" \
	there $J1 $J2 $J3 $J4 $J5
check "... no .gc-auto stamp" test ! -e "$STAMP"
printf '[gc]\nauto = false\nmax_jobs = 1\n' >"$CONFIG"
capture ae run --wait -- true
check "auto = false: nothing collected" there $J1 $J2 $J3 $J4 $J5

# ---- on: after the answer, detached ----

rm -rf "$ROOT"
old_jobs
printf '# keep the newest two\n[gc]\nauto = true\nmax_jobs = 2\n' >"$CONFIG"
started=$(ms_clock)
capture ae_stop gc-auto run --snapshot-after 0 -- sleep 30
took=$(( $(ms_clock) - started ))
running=$(job_id "$OUT")
check_eq "auto = true: run answers" "$RC" 0
check_between "... at once, while its collector is stopped (${took} ms)" \
	"$took" 0 3000
wait_for "the collector started and stopped at gc-auto" 10 one_collector
gc_pid=$(collectors | head -n 1)
check "... nothing collected yet" there $J1 $J2 $J3 $J4 $J5
check_eq "... the collector's stdout is /dev/null, not the caller's" \
	"$(readlink "/proc/$gc_pid/fd/1")" /dev/null
check "... in a session of its own" \
	test "$(proc_field "$gc_pid" 6)" != "$(proc_field $$ 6)"
cmdline_check "... titled agent-exec gc (auto)" \
	test "$(tr '\0' ' ' <"/proc/$gc_pid/cmdline" | sed 's/ *$//')" = \
	"agent-exec gc (auto)"
check "... the stamp is there, empty while it runs" test -e "$STAMP" -a ! -s "$STAMP"
capture ae_stop gc-auto run --snapshot-after 0 -- sleep 30
running2=$(job_id "$OUT")
check_eq "a second run meanwhile answers" "$RC" 0
check "... and starts no second collector" one_collector
kill -CONT "$gc_pid"
wait_for "the collector ends and says what it did" 10 stamp_done
stamp=$(cat "$STAMP")
check_eq "... it deleted three" "$(json_num deleted "$stamp")" 3
check_between "... freed their bytes (1000 of output each, and records)" \
	"$(json_num freed_bytes "$stamp")" 3000 4500
check_match "... at a time" "$(json_str at "$stamp")" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
check "... the oldest three are gone" gone $J1 $J2 $J3
check "... the newest finished ones stay" there $J4 $J5
check_eq "... the running job is untouched" "$(state_of "$running")" running
check_eq "... the stamp is private" "$(mode_octal "$STAMP")" 600

# ---- once a minute at the most ----

finished_job 01J0AAAAAAAAAAAAAAAAAAAAAA 90
capture ae run --wait -- true
check "a run within the minute does not collect again" \
	there 01J0AAAAAAAAAAAAAAAAAAAAAA
check_eq "... the stamp is the same" "$(cat "$STAMP")" "$stamp"
rm -f "$STAMP"
capture ae run --wait -- true
wait_for "with the stamp gone, the next run collects" 10 stamp_done
check "... the old job is gone" gone 01J0AAAAAAAAAAAAAAAAAAAAAA

# ---- start and restart collect, create does not ----

rm -f "$STAMP"
created=$(job_id "$(ae create -- true)")
check "create does not collect" test ! -e "$STAMP"
capture ae start --wait "$created"
check_eq "start answers" "$RC" 0
wait_for "start collects after its answer" 10 stamp_done
rm -f "$STAMP"
capture ae restart --wait "$created"
check_eq "restart answers" "$RC" 0
wait_for "restart collects after its answer" 10 stamp_done

# ---- older_than and max_bytes; gc itself is not configured ----

ae kill --signal KILL "$running" >/dev/null
ae kill --signal KILL "$running2" >/dev/null
wait_for "the sleeping jobs end" 10 is_state "$running" killed
wait_for "... both" 10 is_state "$running2" killed
rm -rf "$ROOT"
old_jobs
printf '[gc]\nauto = true\nolder_than = "48d"\n' >"$CONFIG"
capture ae gc --dry-run
check_eq "gc follows its own options, not [gc]" \
	"$(json_str older_than "$OUT") $(json_num would_delete "$OUT")" "30d 5"
capture ae run --wait -- true
wait_for "older_than = \"48d\": collected" 10 stamp_done
check "... what finished more than 48 days ago is gone" gone $J1 $J2 $J3
check "... the rest stays" there $J4 $J5
rm -rf "$ROOT"
old_jobs
printf '[gc]\nauto = true\nmax_bytes = 2_500\n' >"$CONFIG"
# a job that runs: the newest finished ones are J5 and J4 (1171 bytes each)
running=$(start_job -- sleep 30)
wait_for "max_bytes = 2_500: collected" 10 stamp_done
check "... the newest jobs within 2500 bytes stay" there $J4 $J5
check "... the older ones go" gone $J1 $J2 $J3
ae kill --signal KILL "$running" >/dev/null
wait_for "... the sleeping job ends" 10 is_state "$running" killed
rm -rf "$ROOT"
old_jobs
printf '[gc]\nauto = true\nolder_than = 3000000\n' >"$CONFIG"
capture ae run --wait -- true
wait_for "older_than = 3000000 (seconds, 35 days): collected" 10 stamp_done
check "... all five are gone" gone $J1 $J2 $J3 $J4 $J5

# ---- a wrong [gc]: invalid_config, nothing changes ----

rm -rf "$ROOT"
old_jobs
created=$(job_id "$(ae create -- true)")
before=$(ls "$ROOT" | sort | tr '\n' ' ')
line=0
for bad in 'auto = "yes"' 'auto = 1' 'max_jobs = -1' 'max_jobs = "10"' \
	'max_bytes = true' 'older_than = "soon"' 'older_than = ["1d"]' \
	'max_job = 3'; do
	printf '[gc]\nauto = true\n%s\n' "$bad" >"$CONFIG"
	line=3
	case $bad in auto*) line=2; printf '[gc]\n%s\n' "$bad" >"$CONFIG" ;; esac
	check_error "[gc] $bad: run refused" invalid_config ae run -- true
	check_contains "... naming the file, line $line and the key" "$ERR$OUT" \
		"parse config file $CONFIG: line $line: ${bad%% *}: [gc] takes auto"
	check_error "... create refused" invalid_config ae create -- true
done
check_eq "... no job made or deleted" \
	"$(ls "$ROOT" | sort | tr '\n' ' ')" "$before"
# start and restart take the definition recorded at create (0.1 reads no
# config there): a broken [gc] only leaves collection off
capture ae start --wait "$created"
check_eq "start with a wrong [gc] still starts" "$(json_str state "$OUT")" exited
capture ae restart --wait "$created"
check_eq "... so does restart" "$(json_str state "$OUT")" exited
capture ae run --shell-wrapper 'sh -c' --wait -- true
check_eq "... and run --shell-wrapper (the wrapper is not the file's)" "$RC" 0
check "... none of them collected" test ! -e "$STAMP"
check "... all five old jobs stay" there $J1 $J2 $J3 $J4 $J5
printf '[gc]\nauto = true\nmax_jobs = 1\n' >"$TMP/other.toml"
rm -f "$CONFIG"
created=$(job_id "$(ae create -- true)")
capture ae start --config "$TMP/other.toml" --wait "$created"
wait_for "start --config FILE reads [gc] from FILE" 10 stamp_done
check "... and keeps the newest finished job alone" gone $J1 $J2 $J3 $J4 $J5
