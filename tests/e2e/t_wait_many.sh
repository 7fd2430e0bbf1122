#!/bin/sh
# wait on many jobs: several ids (all of them, --any), selectors, the
# shared deadline, exit statuses, a lost supervisor, the cap; one id keeps
# the answer of 0.1.
. "$(dirname "$0")/lib.sh"

# gated NAME CODE: a job that ends with CODE once the file $TMP/go.NAME
# exists (the job polls for it; the test never sleeps).
gated() {
	start_job --tag gate -- sh -c \
		'while [ ! -e "$1" ]; do sleep 0.02; done; exit "$2"' \
		gate "$TMP/go.$1" "$2"
}
release() { : >"$TMP/go.$1"; }
# counts JSON: the counts object, as "created running exited killed failed".
counts() {
	_c=$(printf '%s\n' "$1" | grep -o '"counts":{[^}]*}')
	echo "$(json_num created "$_c") $(json_num running "$_c")" \
		"$(json_num exited "$_c") $(json_num killed "$_c")" \
		"$(json_num failed "$_c")"
}
# ids_in JSON: the job ids of the answer, in order, on one line.
ids_in() {
	printf '%s\n' "$1" | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4 |
		tr '\n' ' ' | sed 's/ $//'
}
# keep_answer: keep $OUT for the schema check at the end.
keep_answer() { printf '%s\n' "$OUT" >>"$TMP/answers.wait_many"; }
# wait_bg OUTFILE ARGS...: wait ARGS in the background, its pid in BG;
# with --any, return once it sleeps in poll() (its watches are set: what
# happens next is what wakes it), or after a bounded wait.
wait_bg() {
	_file=$1
	shift
	"$AE_BIN" --root "$ROOT" wait "$@" >"$_file" 2>&1 &
	BG=$!
	case " $* " in
	*" --any "*) until_true 5 in_poll "$BG" ;;
	esac
}
# in_poll PID: the process sleeps in poll() (its wait channel says so).
in_poll() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	*poll*) return 0 ;;
	esac
	return 1
}

# ---- one id: the answer of 0.1 -----------------------------------------------------

one=$(job_id "$(ae run --wait -- sh -c 'exit 4')")
capture ae wait "$one"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"wait","job_id":"'"$one"'","state":"exited","exit_code":4,'*)
	ok "wait ID: the single-job answer, unchanged" ;;
*) not_ok "wait ID: the single-job answer, unchanged"; echo "#   $OUT" ;;
esac
check_has "wait ID: its final_snapshot" final_snapshot "$OUT"
check_hasnt "wait ID: no jobs list" jobs "$OUT"

# ---- all of several ids ---------------------------------------------------------------

a=$(gated a 3)
b=$(gated b 0)
check_match "two gated jobs" "$a $b" '^[0-9A-Z]{26} [0-9A-Z]{26}$'
wait_bg "$TMP/all.out" --timeout-ms "$(bound 30)s" --exit-status "$b" "$a"
all=$BG
release a
wait_for "the first job ends" 10 is_state "$a" exited
# the wait blocks on b now: it is still there after a ended
check "wait on two ids is still waiting when one of them ended" proc_running "$all"
release b
wait_status "$all" 10
OUT=$(cat "$TMP/all.out")
keep_answer
check_eq "wait A B: exit status 3 (--exit-status: a's, the failing one)" \
	"$WAIT_STATUS" 3
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"wait","jobs":['*) ok "wait A B: a list of jobs" ;;
*) not_ok "wait A B: a list of jobs"; echo "#   $OUT" ;;
esac
check_eq "wait A B: the jobs in the order given" "$(ids_in "$OUT")" "$b $a"
check_eq "wait A B: b exited 0" \
	"$(json_str state "$(entry "$b" "$OUT")") $(json_num exit_code "$(entry "$b" "$OUT")")" \
	"exited 0"
check_eq "wait A B: a exited 3" \
	"$(json_str state "$(entry "$a" "$OUT")") $(json_num exit_code "$(entry "$a" "$OUT")")" \
	"exited 3"
check_match "wait A B: an entry has short_job_id, finished_at, duration_ms" \
	"$(entry "$a" "$OUT")" '"short_job_id":"[0-9A-Z]{6}".*"finished_at":"[^"]+","duration_ms":[0-9]+'
check_eq "wait A B: counts" "$(counts "$OUT")" "0 0 2 0 0"
check_eq "wait A B: not timed out" "$(json_bool timed_out "$OUT")" false
check_hasnt "wait A B: no output in a many-job answer" final_snapshot "$OUT"

# the same job twice (id, short id, prefix) is one entry
short=$(json_str short_job_id "$(ae status "$a")")
capture ae wait "$a" "$short" "$(printf '%s' "$a" | cut -c1-20)" "$b"
check_eq "a job named three ways is waited on once" "$(ids_in "$OUT")" "$a $b"
capture ae wait --exit-status "$b" "$b"
check_eq "--exit-status: 0 when every job exited 0" "$RC $(ids_in "$OUT")" "0 $b"

# ---- the deadline --------------------------------------------------------------------

c=$(gated c 0)
t0=$(now_ms)
capture ae wait --timeout-ms 500 --exit-status "$a" "$c"
took=$(($(now_ms) - t0))
keep_answer
check_eq "a deadline passed: exit status 124" "$RC" 124
check_eq "... timed_out true" "$(json_bool timed_out "$OUT")" true
check_eq "... the job still running listed as such, the ended one as ended" \
	"$(json_str state "$(entry "$c" "$OUT")") $(json_str state "$(entry "$a" "$OUT")")" \
	"running exited"
check_hasnt "... the running job has no exit_code" exit_code "$(entry "$c" "$OUT")"
check_eq "... counts" "$(counts "$OUT")" "0 1 1 0 0"
low=0
ms_clock && low=450
check_between "... after about the deadline (ms)" "$took" "$low" "$(bound 5)000"
check_eq "the job is untouched by the wait" "$(state_of "$c")" running

# ---- --any ----------------------------------------------------------------------------

d=$(gated d 5)
# --poll-ms 60000: a poll could not answer in time; only the watch does
wait_bg "$TMP/any.out" --any --poll-ms 60000 --timeout-ms "$(bound 30)s" \
	--exit-status "$c" "$d"
any=$BG
check "wait --any is waiting while no job ended" proc_running "$any"
t0=$(now_ms)
release d
wait_status "$any" 10
took=$(($(now_ms) - t0))
OUT=$(cat "$TMP/any.out")
keep_answer
check_between "wait --any wakes when the first job ends, not on a poll (ms)" \
	"$took" 0 "$(bound 5)000"
check_eq "wait --any: exit status 5, the ended job's" "$WAIT_STATUS" 5
check_eq "wait --any: d exited 5, c still running" \
	"$(json_str state "$(entry "$d" "$OUT")") $(json_num exit_code "$(entry "$d" "$OUT")") $(json_str state "$(entry "$c" "$OUT")")" \
	"exited 5 running"
check_eq "wait --any: not timed out" "$(json_bool timed_out "$OUT")" false
check_eq "wait --any: counts" "$(counts "$OUT")" "0 1 1 0 0"

capture ae wait --any --exit-status "$c" "$b"
check_eq "wait --any with one job already ended answers at once, 0" \
	"$RC $(json_bool timed_out "$OUT") $(json_str state "$(entry "$c" "$OUT")")" \
	"0 false running"
capture ae wait --any --timeout-ms 300 --exit-status "$c"
keep_answer
check_eq "wait --any past its deadline: 124, timed_out" \
	"$RC $(json_bool timed_out "$OUT")" "124 true"
check_has "wait --any on one id: a list all the same" jobs "$OUT"

# a created job is watched too: its start and end wake the wait
e=$(job_id "$(ae create --tag late -- sh -c 'exit 6')")
wait_bg "$TMP/created.out" --any --poll-ms 60000 --timeout-ms "$(bound 30)s" \
	"$c" "$e"
created=$BG
ae start --snapshot-after 0 "$e" >/dev/null
wait_status "$created" 10
OUT=$(cat "$TMP/created.out")
check_eq "wait --any sees a created job start and end" \
	"$WAIT_STATUS $(json_str state "$(entry "$e" "$OUT")")" "0 exited"

# a supervisor that dies ends its job: the pidfd wakes the wait (valgrind
# has no pidfd_open, ENOSYS: there the poll alone sees it, as on a kernel
# older than 5.3)
lost_poll=60000
[ "${AE_UNDER_TOOL:-}" = valgrind ] && lost_poll=500
f=$(start_job -- sleep 60)
sup=$(record_num "$f" supervisor_pid)
pid=$(record_num "$f" pid)
wait_bg "$TMP/lost.out" --any --poll-ms "$lost_poll" \
	--timeout-ms "$(bound 30)s" "$c" "$f"
lost=$BG
kill -KILL "${sup:-none}"
wait_status "$lost" 10
OUT=$(cat "$TMP/lost.out")
keep_answer
check_eq "wait --any wakes when a supervisor dies: failed, supervisor_lost" \
	"$WAIT_STATUS $(json_str state "$(entry "$f" "$OUT")") $(json_str error "$(entry "$f" "$OUT")")" \
	"0 failed supervisor_lost"
[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null

# ... and one that dies while the wait looks away, between reading the
# state and watching the supervisor (the wait stopped right there): it
# cannot be watched any more, so its state is read again, not polled for
g=$(start_job -- sleep 60)
gsup=$(record_num "$g" supervisor_pid)
gpid=$(record_num "$g" pid)
AGENT_EXEC_TEST_STOP_AT=wait-watch "$AE_BIN" --root "$ROOT" wait --any \
	--poll-ms 60000 --timeout-ms "$(bound 30)s" "$g" >"$TMP/race.out" 2>&1 &
racer=$!
kill_at_exit "$racer"
wait_for "the wait stops before it watches a supervisor" 10 \
	proc_stopped "$racer"
kill -KILL "${gsup:-none}"
wait_for "... whose supervisor is then killed" 10 proc_gone "$gsup"
kill -CONT "$racer"
wait_status "$racer" 10
OUT=$(cat "$TMP/race.out")
check_eq "... wakes at once all the same: failed, supervisor_lost" \
	"$WAIT_STATUS $(json_str state "$(entry "$g" "$OUT")") $(json_str error "$(entry "$g" "$OUT")")" \
	"0 failed supervisor_lost"
[ -n "$gpid" ] && kill -KILL "-$gpid" 2>/dev/null

# ---- exit statuses of the first failing job -------------------------------------------

k=$(start_job -- sleep 60)
ae kill "$k" >/dev/null
n=$(job_id "$(ae run --wait -- nosuch-command-xyz)")
capture ae wait --exit-status "$b" "$k" "$n"
check_eq "killed by TERM first among the failures: 143" "$RC" 143
capture ae wait --exit-status "$n" "$k"
check_eq "not found first: 127" "$RC" 127
check_eq "... counts" "$(counts "$OUT")" "0 0 0 1 1"
keep_answer

# ---- selectors ------------------------------------------------------------------------

release c
capture ae wait --tag gate --timeout-ms "$(bound 30)s"
keep_answer
check_eq "wait --tag gate: the four gated jobs, all ended" \
	"$(counts "$OUT") $(json_bool timed_out "$OUT")" "0 0 4 0 0 false"
check_eq "... newest first" "$(ids_in "$OUT")" "$d $c $b $a"
capture ae wait --tag late --exit-status
check_eq "wait --tag late: the one job, exit 6" "$RC $(ids_in "$OUT")" "6 $e"
capture ae wait --tag no-such-tag --exit-status
keep_answer
check_eq "a selector matching nothing: no jobs, exit 0" \
	"$RC $(counts "$OUT") $(json_bool timed_out "$OUT")" "0 0 0 0 0 0 false"
check_contains "... an empty list" "$OUT" '"jobs":[]'
capture ae wait --any --tag no-such-tag
check_eq "--any on nothing answers at once" "$RC $(json_bool timed_out "$OUT")" \
	"0 false"

# ---- errors ---------------------------------------------------------------------------

check_error "an unknown id among several: job_not_found" job_not_found \
	ae wait "$a" 01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_usage_error "wait with no id and no selector" ae wait --any
check_usage_error "wait with ids and a selector" ae wait --tag gate "$a"
check_usage_error "wait --state with an unknown state" ae wait --state done
ids=$(awk 'BEGIN { for (i = 0; i <= 10000; i++) printf "%s ", "x" i }')
# shellcheck disable=SC2086 # one argument an id
check_error "wait on 10001 jobs: too_many_jobs" too_many_jobs ae wait $ids
check_contains "... the message says the cap" "$OUT" "at most 10000"

# ---- every answer matches the schema --------------------------------------------------

check_schema "every answer on many jobs is a wait_many" wait_many --lines \
	"$TMP/answers.wait_many"
check_schema "... and matches the schema's answers" - --lines \
	"$TMP/answers.wait_many"
