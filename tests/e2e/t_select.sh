#!/bin/sh
# selectors (--tag, --meta, --state) of wait, kill and delete; kill and
# delete by selector, one entry a job; the refusal of neither an id nor a
# selector; summary's counts.
. "$(dirname "$0")/lib.sh"

# counts JSON: summary's counts, "created running exited killed failed
# unknown".
counts() {
	_c=$(printf '%s\n' "$1" | grep -o '"counts":{[^}]*}')
	echo "$(json_num created "$_c") $(json_num running "$_c")" \
		"$(json_num exited "$_c") $(json_num killed "$_c")" \
		"$(json_num failed "$_c") $(json_num unknown "$_c")"
}

# ---- the refusals ----------------------------------------------------------------------

id=$(start_job --tag sel.a -- sleep 60)
before=$(job_dirs)
for cmd in kill delete wait; do
	check_usage_error "$cmd with neither an id nor a selector" ae "$cmd"
	check_usage_error "$cmd with an id and a selector" ae "$cmd" --tag sel.a "$id"
	check_usage_error "$cmd --state with an unknown state" ae "$cmd" --state gone
	check_usage_error "$cmd --meta without =" ae "$cmd" --meta session
done
check_usage_error "kill takes one id" ae kill "$id" "$id"
check_usage_error "delete --force takes one id" ae delete --force "$id" "$id"
check_usage_error "kill --tag: a tag pattern is checked" ae kill --tag 'a..b'
check_usage_error "delete with nothing" ae delete --force
check_contains "the refusal says what to give" "$ERR" "(--tag, --meta, --state, --queue, --all)"
check_eq "no refusal changed anything: the job runs, no job went" \
	"$(state_of "$id") $(job_dirs)" "running $before"

# ---- what selectors match -----------------------------------------------------------

r1=$id
r2=$(start_job --tag sel.b --callback-session S1 -- sleep 60)
r3=$(start_job --tag other --meta ticket=T-1 --callback-session S2 -- sleep 60)
e1=$(job_id "$(ae run --wait --tag sel.a --callback-session S1 -- true)")
e2=$(job_id "$(ae run --wait --tag other --meta ticket=T-1 -- sh -c 'exit 2')")
c1=$(job_id "$(ae create --tag sel.a --callback-session S1 -- true)")
check_match "six jobs" "$r1 $r2 $r3 $e1 $e2 $c1" '^([0-9A-Z]{26} ){5}[0-9A-Z]{26}$'

capture ae wait --tag sel.a --state exited
check_eq "--tag T --state S: both must match" "$(ids_in "$OUT")" "$e1"
capture ae wait --tag 'sel.*' --state exited
check_eq "--tag 'sel.*' takes the namespace" "$(ids_in "$OUT")" "$e1"
capture ae wait --any --tag 'sel.*'
check_eq "--any --tag 'sel.*': the four jobs of sel and sel.*" "$(ids_in "$OUT")" \
	"$(sorted "$r1" "$r2" "$e1" "$c1")"
capture ae wait --meta callback_session=S1 --state exited
check_eq "--meta callback_session=S1" "$(ids_in "$OUT")" "$e1"
capture ae wait --any --meta callback_session=S1
check_eq "--meta callback_session=S1 (any state)" "$(ids_in "$OUT")" \
	"$(sorted "$r2" "$e1" "$c1")"
# (r3 runs: --any would wait for it to end; a short deadline looks now)
capture ae wait --any --timeout-ms 100 --meta ticket=T-1 --meta callback_session=S2
check_eq "two --meta: both must match" "$(ids_in "$OUT")" "$r3"
capture ae wait --any --meta ticket=T-2
check_eq "--meta with another value: none" "$(ids_in "$OUT")" ""
capture ae wait --state exited --tag other --exit-status
check_eq "--state exited --tag other: e2, its status" "$RC $(ids_in "$OUT")" "2 $e2"
mkdir -p "$TMP/elsewhere"
capture sh -c 'cd "$1" && shift && "$@"' sh "$TMP/elsewhere" "$AE_BIN" \
	--root "$ROOT" wait --any --tag 'sel.*'
check_eq "a selector takes the whole root, whatever the current directory" \
	"$(ids_in "$OUT")" "$(sorted "$r1" "$r2" "$e1" "$c1")"

# ---- kill by selector ------------------------------------------------------------------

# r2 ignores TERM until told otherwise; kill signals every job before it
# reports on any, so the whole waits about one second, not one a job
r4=$(start_job --tag sel.b -- sh -c 'trap "echo TERM >>$1" TERM; while :; do sleep 0.05; done' \
	trap "$TMP/r4.term")
r5=$(start_job --tag sel.b -- sh -c 'trap "echo TERM >>$1" TERM; while :; do sleep 0.05; done' \
	trap "$TMP/r5.term")
until_true 5 test -n "$(record_num "$r5" pid)"
t0=$(now_ms)
capture ae kill --tag sel.b
took=$(($(now_ms) - t0))
keep_answer kill_many
check_eq "kill --tag sel.b exits 0, one line" "$RC $OUT_LINES" "0 1"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"kill","jobs":['*) ok "kill by selector: a list of jobs" ;;
*) not_ok "kill by selector: a list of jobs"; echo "#   $OUT" ;;
esac
check_eq "kill --tag sel.b: its three jobs" "$(ids_in "$OUT")" "$(sorted "$r2" "$r4" "$r5")"
check_eq "... r2 killed by TERM, as kill ID says it" \
	"$(json_str state "$(entry "$r2" "$OUT")") $(json_str signal "$(entry "$r2" "$OUT")") $(json_str ending_signal_name "$(entry "$r2" "$OUT")")" \
	"killed TERM SIGTERM"
check_eq "... the jobs that trap TERM got it, and still run" \
	"$(cat "$TMP/r4.term" "$TMP/r5.term" 2>/dev/null | tr '\n' ' ')$(json_str state "$(entry "$r4" "$OUT")") $(json_str state "$(entry "$r5" "$OUT")")" \
	"TERM TERM running running"
check_has "... an entry has observed_within_ms" observed_within_ms "$(entry "$r5" "$OUT")"
check_eq "... no failures" "$(json_num failures "$OUT")" 0
# (a clock of whole seconds reads 1.1 s as 1000 or 2000 ms: not there)
if [ -z "${AE_UNDER_TOOL:-}" ] && ms_clock; then
	check_between "... signalled together: about one second in all, not two (ms)" \
		"$took" 900 1900
else
	echo "# skip: kill by selector's timing (a slow tool, or no ms clock)"
fi
check_eq "a job the selector does not name still runs" "$(state_of "$r3")" running

capture ae kill --signal KILL --meta callback_session=S1
keep_answer kill_many
check_eq "kill --meta callback_session=S1: r2, e1, c1" "$(ids_in "$OUT")" \
	"$(sorted "$r2" "$e1" "$c1")"
check_eq "... the finished ones say their state" \
	"$(json_str state "$(entry "$r2" "$OUT")") $(json_str state "$(entry "$e1" "$OUT")")" \
	"killed exited"
check_eq "... the created one is a failure: invalid_state, as kill ID says" \
	"$(json_str code "$(entry "$c1" "$OUT")") $(json_bool retryable "$(entry "$c1" "$OUT")")" \
	"invalid_state false"
check_has "... with a message" message "$(entry "$c1" "$OUT")"
check_eq "... failures counts it" "$(json_num failures "$OUT")" 1
check_eq "the created job is left as it was" "$(state_of "$c1")" created

# r2 has ended: nothing is sent to it, and its state was read as it was,
# not after the second the two that trap TERM hold the answer up
capture ae kill --tag sel.b
keep_answer kill_many
check_eq "kill by selector: an ended job's entry was observed within 0 ms" \
	"$(json_num observed_within_ms "$(entry "$r2" "$OUT")")" 0
check "... a job still running after the signal's second: more" \
	test "$(json_num observed_within_ms "$(entry "$r4" "$OUT")")" -gt 0
capture ae kill --signal KILL --tag sel.b --state running
keep_answer kill_many
check_eq "kill --tag sel.b --state running: the two that trapped TERM" \
	"$(ids_in "$OUT")" "$(sorted "$r4" "$r5")"
wait_for "... and they end" 5 is_state "$r5" killed
capture ae kill --tag nothing-here
keep_answer kill_many
check_eq "kill by a selector matching nothing: an empty list, exit 0" \
	"$RC $(json_num failures "$OUT")" "0 0"
check_contains "... jobs is []" "$OUT" '"jobs":[]'

# ---- delete by selector ----------------------------------------------------------------

capture ae delete --tag 'sel.*'
keep_answer delete_many
check_eq "delete --tag 'sel.*' exits 0" "$RC" 0
check_eq "... every sel job has an entry" "$(ids_in "$OUT")" \
	"$(sorted "$r1" "$r2" "$r4" "$r5" "$e1" "$c1")"
check_eq "... the running one is a failure (invalid_state), kept" \
	"$(json_str code "$(entry "$r1" "$OUT")") $(state_of "$r1")" "invalid_state running"
check_eq "... the others deleted, as delete ID says" \
	"$(json_bool deleted "$(entry "$e1" "$OUT")") $(json_bool deleted "$(entry "$c1" "$OUT")") $(json_bool deleted "$(entry "$r5" "$OUT")")" \
	"true true true"
check "... and gone" test ! -e "$ROOT/$e1" -a ! -e "$ROOT/$c1" -a ! -e "$ROOT/$r2"
check_eq "... failures 1" "$(json_num failures "$OUT")" 1
sum=0
for n in $(printf '%s\n' "$OUT" | grep -o '"freed_bytes":[0-9]*' | sed '$d' | cut -d: -f2); do
	sum=$((sum + n))
done
check_eq "... freed_bytes is the entries' sum" \
	"$(printf '%s\n' "$OUT" | grep -o '"freed_bytes":[0-9]*' | tail -n 1 | cut -d: -f2)" \
	"$sum"
check_between "... something was freed" "$sum" 1 100000000
capture ae delete --force --tag 'sel.*'
keep_answer delete_many
check_eq "delete --force --tag 'sel.*': the running job too" \
	"$(ids_in "$OUT") $(json_num failures "$OUT")" "$r1 0"
check "... gone" test ! -e "$ROOT/$r1"
check_eq "the jobs of other tags are all there" \
	"$(state_of "$r3") $(state_of "$e2")" "running exited"

# ---- summary -----------------------------------------------------------------------------

c2=$(job_id "$(ae create -- true)")
f1=$(job_id "$(ae run --wait -- nosuch-command-xyz)")
r6=$(start_job -- sleep 60)
lost=$(start_job -- sleep 60)
lost_pid=$(record_num "$lost" pid)
sup=$(record_num "$lost" supervisor_pid)
kill -KILL "${sup:-none}"
until_true 5 proc_gone "${sup:-0}"
mkdir "$ROOT/01BROKENBROKENBROKENBROKEN"
echo garbage >"$ROOT/01BROKENBROKENBROKENBROKEN/state.json"
capture ae summary
keep_answer summary
check_eq "summary exits 0, one line" "$RC $OUT_LINES" "0 1"
case $OUT in
'{"schema_version":"0.1","ok":true,"type":"summary","root":"'"$ROOT"'",'*)
	ok "summary: envelope and root" ;;
*) not_ok "summary: envelope and root"; echo "#   $OUT" ;;
esac
# created c2; running r3 r6; exited e2; killed r4 r5 gone; failed f1 and
# the lost one (recorded now); unknown the broken directory
check_eq "summary: counts by state (a lost supervisor counted failed)" \
	"$(counts "$OUT")" "1 2 1 0 2 1"
check_eq "... the lost job is recorded failed" "$(json_str error "$(ae status "$lost")")" \
	supervisor_lost
check_eq "summary: the running jobs listed, longest running first" \
	"$(printf '%s\n' "$OUT" | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')" \
	"$r3 $r6 "
check_contains "... with their command" "$(entry "$r6" "$OUT")" '"command":["sleep","60"]'
check_match "... their short id and elapsed_ms" "$(entry "$r6" "$OUT")" \
	'"short_job_id":"[0-9A-Z]{6}","state":"running".*"elapsed_ms":[0-9]+'
check_eq "... and started_at, as status says it" \
	"$(json_str started_at "$(entry "$r6" "$OUT")")" \
	"$(json_str started_at "$(ae status "$r6")")"
check_match "summary --human: a running job's start in STARTED" \
	"$(ae summary --human | grep "^$(printf '%s' "$r6" | tail -c 6) ")" \
	'running +- +20[0-9-]+T[0-9:]+Z +sleep 60$'
check_contains "summary: queues is empty" "$OUT" '"queues":{}'
capture "$AE_BIN" --root "$TMP/no-root" summary
keep_answer summary
check_eq "summary of a missing root: nothing, exit 0" "$RC $(counts "$OUT")" \
	"0 0 0 0 0 0 0"
check "... and the root is not made" test ! -e "$TMP/no-root"
rm -r "$ROOT/01BROKENBROKENBROKENBROKEN"
[ -n "$lost_pid" ] && kill -KILL "-$lost_pid" 2>/dev/null

# ---- every answer matches the schema ----------------------------------------------------

for kind in kill_many delete_many summary; do
	check_schema "every $kind answer matches its definition" "$kind" --lines \
		"$TMP/answers.$kind"
	check_schema "... and the schema's answers" - --lines "$TMP/answers.$kind"
done
ae kill --signal KILL --state running >/dev/null
