#!/bin/sh
# dependencies (--after, --after-ok): chains, a failed dependency, several
# dependencies, one missing, the state while waiting, kill of a waiting
# job, dependencies and a queue together, the schema.
. "$(dirname "$0")/lib.sh"

# gated NAME CODE RUN-ARGS...: qrun a job that ends with CODE once
# $TMP/go.NAME exists.
gated() {
	_name=$1
	_code=$2
	shift 2
	qrun "$@" -- sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done; exit "$2"' \
		gate "$TMP/go.$_name" "$_code"
}
release() { : >"$TMP/go.$1"; }
# The job that notes its run: note NAME LOG DEP... appends "NAME" and the
# state of each DEP as status shows it at its start ("B exited"), to LOG.
make_script "$TMP/note" <<'EOS'
name=$1
log=$2
shift 2
line=$name
for dep in "$@"; do
	line="$line $("$AE_BIN" --root "$ROOT" status "$dep" | grep -o '"state":"[a-z]*"' | cut -d'"' -f4)"
done
echo "$line" >>"$log"
EOS
# place ID: "state waiting_for queue_position" as status reports it.
place() {
	_st=$(ae status "$1")
	echo "$(json_str state "$_st") $(json_str waiting_for "$_st") $(json_num queue_position "$_st")"
}
# place_is ID WANT: for until_true.
place_is() { [ "$(place "$1")" = "$2" ]; }
is_terminal() {
	case $(state_of "$1") in exited | killed | failed) return 0 ;; esac
	return 1
}
# logged NAME: the line job NAME noted (empty when it did not run).
logged() { [ -e "$TMP/log" ] && awk -v n="$1" '$1 == n' "$TMP/log"; }
# finished_event ID: the job.finished event line of job ID.
finished_event() {
	ae events | grep "\"job_id\":\"$1\"" | grep '"event_type":"job.finished"'
}
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

# ---- a chain of --after-ok that succeeds: A -> B -> C ----------------------------

gated a 0
a=$ID
qrun --after-ok "$a" -- "$TMP/note" B "$TMP/log" "$a"
b=$ID
check_match "run --after-ok of a running job: queued, waiting for dependencies" "$OUT" \
	'"state":"queued".*"waiting_for":"dependencies"'
check_hasnt "... no queue_position (in no line)" queue_position "$OUT"
qrun --after-ok "$b" -- "$TMP/note" C "$TMP/log" "$a" "$b"
c=$ID
capture ae status "$c"
keep_answer status
check_eq "status of C (after-ok B, itself waiting): queued, dependencies" \
	"$(json_str state "$OUT") $(json_str waiting_for "$OUT")" "queued dependencies"
check_hasnt "... not started" started_at "$OUT"
check_contains "state.json of a waiting job: status queued" \
	"$(json_flat "$ROOT/$c/state.json")" '"status": "queued"'
check_match "... waiting_for dependencies" "$(json_flat "$ROOT/$c/state.json")" \
	'"waiting_for": *"dependencies"'
check_schema "... a state_record" state_record "$ROOT/$c/state.json"
capture ae list --state queued
keep_answer list
check_eq "list --state queued: B and C" "$(ids_in "$OUT")" "$(sorted "$b" "$c")"
check "nothing of the chain ran yet" test ! -e "$TMP/log"
check_eq "B is still queued while A runs" "$(state_of "$b")" queued
release a
capture ae wait --timeout-ms "$(bound 20)s" "$c"
keep_answer wait
check_eq "release A: C ends, exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
check_eq "the chain ran in order, each after the one before had exited" \
	"$(tr '\n' '|' <"$TMP/log")" "B exited|C exited exited|"

# ---- --after-ok on a job that fails -----------------------------------------------

gated f 3
f=$ID
qrun --after-ok "$f" -- "$TMP/note" D "$TMP/log" "$f"
d=$ID
qrun --after "$f" -- "$TMP/note" E "$TMP/log" "$f"
e=$ID
qrun --after-ok "$d" -- "$TMP/note" D2 "$TMP/log" "$d"
d2=$ID
release f
capture ae wait --timeout-ms "$(bound 20)s" "$d"
keep_answer wait
check_eq "--after-ok of a job that exited 3: failed, dependency_failed" \
	"$(json_str state "$OUT") $(json_str error "$OUT")" "failed dependency_failed"
check_eq "... naming the dependency" "$(json_str dependency "$OUT")" "$f"
check_hasnt "... no exit_code" exit_code "$OUT"
capture ae status "$d"
keep_answer status
check_eq "... status says the same" \
	"$(json_str state "$OUT") $(json_str error "$OUT") $(json_str dependency "$OUT")" \
	"failed dependency_failed $f"
check_eq "... it never ran" "$(logged D)" ""
check_hasnt "... so its status has no started_at" started_at "$OUT"
finished_event "$d" >"$TMP/d.finished"
check_eq "... its own job.finished event: failed, dependency_failed" \
	"$(json_str state "$(cat "$TMP/d.finished")") $(json_str error "$(cat "$TMP/d.finished")") $(line_count "$TMP/d.finished")" \
	"failed dependency_failed 1"
check_schema "... an event_line" event_line --lines "$TMP/d.finished"
check_eq "... no job.started for it" \
	"$(ae events | grep "\"job_id\":\"$d\"" | grep -c '"event_type":"job.started"')" 0
capture ae wait --timeout-ms "$(bound 20)s" "$e"
keep_answer wait
check_eq "--after of the job that exited 3: it runs all the same, exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT") $(logged E)" "exited 0 E exited"
capture ae wait --timeout-ms "$(bound 20)s" "$d2"
check_eq "--after-ok of a job that failed its dependency: fails too, naming it" \
	"$(json_str state "$OUT") $(json_str error "$OUT") $(json_str dependency "$OUT") $(logged D2)" \
	"failed dependency_failed $d "
capture ae wait --exit-status "$d"
check_eq "wait --exit-status on a dependency_failed job: a failure (not 0)" \
	"$(test "$RC" != 0 && echo failure)" failure

# --after of a killed job runs; --after-ok of it does not
k=$(job_id "$(ae run --snapshot-after 0 -- sleep 30)")
qrun --after "$k" -- "$TMP/note" K1 "$TMP/log" "$k"
k1=$ID
qrun --after-ok "$k" -- "$TMP/note" K2 "$TMP/log" "$k"
k2=$ID
ae kill "$k" >/dev/null
ae wait --timeout-ms "$(bound 20)s" "$k1" "$k2" >/dev/null
check_eq "--after of a killed job: runs (after it was killed)" "$(logged K1)" "K1 killed"
check_eq "--after-ok of a killed job: dependency_failed" \
	"$(json_str error "$(ae status "$k2")") $(logged K2)" "dependency_failed "

# one whose --after-ok dependency failed before it was made fails at once,
# and never ran either: no started_at
capture ae run --after-ok "$k" -- "$TMP/note" K3 "$TMP/log" "$k"
check_eq "--after-ok of a job killed before: failed at once, dependency_failed" \
	"$(json_str state "$OUT") $(json_str error "$OUT")" "failed dependency_failed"
k3=$(job_id "$OUT")
check_hasnt "... no started_at in its status" started_at "$(ae status "$k3")"
check_hasnt "... nor in its job.finished" started_at "$(finished_event "$k3")"
check_eq "... and it never ran" "$(logged K3)" ""

# a dependency that has ended already: no wait
qrun --after-ok "$a" --after "$f" -- "$TMP/note" L "$TMP/log" "$a" "$f"
l=$ID
wait_for "dependencies ended already: the job runs at once" 10 is_terminal "$l"
check_eq "... and exited" "$(state_of "$l") $(logged L)" "exited L exited exited"

# ---- several dependencies: all of them -------------------------------------------

gated m1 0
m1=$ID
gated m2 0
m2=$ID
gated m3 5
m3=$ID
qrun --after-ok "$m1" --after-ok "$m2" --after "$m3" -- "$TMP/note" M "$TMP/log" "$m1" "$m2" "$m3"
m=$ID
release m2
wait_for "the second dependency ends" 10 is_state "$m2" exited
release m3
wait_for "the third dependency ends" 10 is_state "$m3" exited
# m waits on m1 (its first): still queued however long one looks
check_eq "two of three dependencies ended: still queued, waiting" \
	"$(place "$m")" "queued dependencies "
check_eq "... it did not run" "$(logged M)" ""
release m1
capture ae wait --timeout-ms "$(bound 20)s" "$m"
check_eq "the last one ends: it runs, after all three" \
	"$(json_str state "$OUT") $(logged M)" "exited M exited exited exited"

# the order of the options does not matter: the first dependency ending
# is not enough either
gated n1 0
n1=$ID
gated n2 0
n2=$ID
qrun --after "$n1" --after "$n2" -- "$TMP/note" N "$TMP/log" "$n1" "$n2"
n=$ID
release n1
wait_for "n1 ends" 10 is_state "$n1" exited
check_eq "--after twice: one ended, still queued" "$(place "$n")" "queued dependencies "
release n2
capture ae wait --timeout-ms "$(bound 20)s" "$n"
check_eq "... both ended: it ran" "$(json_str state "$OUT") $(logged N)" "exited N exited exited"

# the second of two --after-ok fails: dependency_failed names it
gated o1 0
o1=$ID
gated o2 1
o2=$ID
qrun --after-ok "$o1" --after-ok "$o2" -- "$TMP/note" O "$TMP/log"
o=$ID
release o2
wait_for "o2 exits 1" 10 is_state "$o2" exited
release o1
capture ae wait --timeout-ms "$(bound 20)s" "$o"
check_eq "one --after-ok of two exits 1: dependency_failed naming it" \
	"$(json_str state "$OUT") $(json_str error "$OUT") $(json_str dependency "$OUT") $(logged O)" \
	"failed dependency_failed $o2 "

# ---- a dependency that is not there ---------------------------------------------

before=$(job_dirs)
for opt in --after --after-ok; do
	check_error "run $opt of an unknown job: job_not_found" job_not_found \
		ae run "$opt" 01ZZZZZZZZZZZZZZZZZZZZZZZZ -- touch "$TMP/missing.ran"
	keep_answer error
	check_contains "... the message names it" "$OUT" 01ZZZZZZZZZZZZZZZZZZZZZZZZ
	check_contains "... and the option that did" "$OUT" "\"message\":\"$opt: job not found"
	check_error "create $opt of an unknown job: job_not_found" job_not_found \
		ae create "$opt" 01ZZZZZZZZZZZZZZZZZZZZZZZZ -- true
done
check_error "one known and one unknown dependency: job_not_found" job_not_found \
	ae run --after "$a" --after-ok 01ZZZZZZZZZZZZZZZZZZZZZZZZ -- true
check_error "an id that is no id: job_not_found" job_not_found \
	ae run --after no-such-job -- true
check_eq "nothing was created" "$(job_dirs)" "$before"
check "... nothing ran" test ! -e "$TMP/missing.ran"
capture ae run --wait --after "$(json_str short_job_id "$(ae status "$a")")" -- true
check_eq "a dependency named by its short id is fine" "$RC $(json_str state "$OUT")" "0 exited"

# ---- kill of a job waiting on dependencies ---------------------------------------

gated w 0
w=$ID
qrun --after "$w" -- "$TMP/note" W "$TMP/log" "$w"
w1=$ID
capture ae kill "$w1"
keep_answer kill
check_eq "kill of a job waiting on dependencies: killed by SIGTERM" \
	"$RC $(json_str state "$OUT") $(json_str ending_signal_name "$OUT")" "0 killed SIGTERM"
if [ -z "${AE_UNDER_TOOL:-}" ]; then
	# (a job waiting for a slot is taken out in a few ms)
	check_between "... promptly: observed_within_ms under 500" \
		"$(json_num observed_within_ms "$OUT")" 0 499
fi
wait_for "... it ends killed" 10 is_terminal "$w1"
capture ae status "$w1"
keep_answer status
check_eq "... status: killed, signal 15 SIGTERM, no exit_code" \
	"$(json_str state "$OUT") $(json_str signal "$OUT") $(json_str signal_name "$OUT") $(json_num exit_code "$OUT")" \
	"killed 15 SIGTERM "
check_hasnt "... no longer waiting" waiting_for "$OUT"
check_eq "... a job.finished event, killed" \
	"$(json_str state "$(finished_event "$w1")")" killed
qrun --after "$w" -- "$TMP/note" W2 "$TMP/log" "$w"
w2=$ID
capture ae kill --signal KILL "$w2"
keep_answer kill
wait_for "kill --signal KILL of one: it ends" 10 is_terminal "$w2"
check_eq "... killed, signal 9" \
	"$(state_of "$w2") $(json_str signal "$(ae status "$w2")")" "killed 9"
capture ae delete "$(job_id "$(ae run --snapshot-after 0 --after "$w" -- true)")"
keep_answer delete
check_eq "delete of a job waiting on dependencies (no --force): deleted" \
	"$RC $(json_bool deleted "$OUT")" "0 true"
release w
wait_for "the dependency ends" 10 is_state "$w" exited
# the dependency ended: had a killed job still waited, it would run now
capture ae wait --timeout-ms "$(bound 10)s" "$w1" "$w2"
check_eq "the killed jobs never ran, even after their dependency ended" \
	"$(logged W)$(logged W2) $(state_of "$w1") $(state_of "$w2")" " killed killed"

# ---- dependencies and a queue together -------------------------------------------

gated qb 0 --queue dq
qblocker=$ID
gated g 0
g=$ID
qrun --after "$g" --queue dq -- "$TMP/note" Q "$TMP/log" "$g" "$qblocker"
q=$ID
check_match "--after and --queue: queued, its queue, waiting for dependencies first" "$OUT" \
	'"state":"queued".*"queue":"dq","waiting_for":"dependencies"'
capture ae status "$q"
keep_answer status
check_eq "... status: waiting for dependencies, not in line" \
	"$(json_str state "$OUT") $(json_str waiting_for "$OUT") $(json_str queue "$OUT") $(json_num queue_position "$OUT")" \
	"queued dependencies dq "
qrun --queue dq -- "$TMP/note" R "$TMP/log" "$qblocker"
r=$ID
check_eq "a job in the same queue without dependencies: ahead in line (position 0)" \
	"$(json_str state "$OUT") $(json_num queue_position "$OUT")" "queued 0"
release g
wait_for "the dependency ended: the job now waits for a slot, behind R" 10 \
	place_is "$q" "queued slot 1"
release qb
capture ae wait --timeout-ms "$(bound 20)s" "$q" "$r"
keep_answer wait_many
check_eq "the blocker ends: both run" \
	"$(json_num exited "$(printf '%s\n' "$OUT" | grep -o '"counts":{[^}]*}')")" 2
check_eq "... R first, then Q, each after the blocker ended" \
	"$(logged R) | $(logged Q)" "R exited | Q exited exited"
check "... Q ran after R had ended" \
	awk -v r="$(json_str finished_at "$(ae status "$r")")" \
	-v q="$(json_str started_at "$(ae status "$q")")" 'BEGIN { exit !(r != "" && r <= q) }'

# a queue whose slot is free: the job waiting on dependencies holds none
gated h 0
h=$ID
qrun --after "$h" --queue hq -- true
hq1=$ID
qrun --queue hq -- true
check_match "a job waiting on dependencies holds no slot: another runs at once" \
	"$(json_str state "$OUT")" '^(running|exited)$'
capture ae summary
keep_answer summary
check_eq "... summary: the queue's slot is free" \
	"$(printf '%s\n' "$OUT" | grep -o '"hq":{"slots":[0-9]*,"slots_taken":[0-9]*' | cut -d: -f4)" 0
release h
wait_for "... and it runs once its dependency ended" 10 is_state "$hq1" exited

# with --no-queue-wait too, the slot is taken at launch and held while the
# dependencies run: the job never waits in line
gated nw 0
nw=$ID
qrun --after "$nw" --queue nwq --slots 1 --no-queue-wait -- "$TMP/note" NW "$TMP/log" "$nw"
nwj=$ID
check_eq "--after with --no-queue-wait on a free queue: queued for its dependencies" \
	"$RC $(place "$nwj")" "0 queued dependencies "
capture ae run --queue nwq --no-queue-wait -- true
check_eq "... it holds the slot meanwhile: another --no-queue-wait is queue_full" \
	"$RC $(json_str code "$OUT")" "1 queue_full"
capture ae summary
check_eq "... summary: the slot taken" \
	"$(printf '%s\n' "$OUT" | grep -o '"nwq":{"slots":[0-9]*,"slots_taken":[0-9]*' | cut -d: -f4)" 1
before_nw=$(job_dirs)
capture ae run --after "$nw" --queue nwq --no-queue-wait -- true
check_eq "... and one with --after as well is refused at launch: queue_full, nothing made" \
	"$RC $(json_str code "$OUT") $(job_dirs)" "1 queue_full $before_nw"
release nw
capture ae wait --timeout-ms "$(bound 20)s" "$nwj"
check_eq "... once its dependency ended it ran, without waiting in line" \
	"$(json_str state "$OUT") $(logged NW)" "exited NW exited"

# create --after, then start
gated s 0
s=$ID
capture ae create --after-ok "$s" -- "$TMP/note" S "$TMP/log" "$s"
keep_answer create
cs=$(job_id "$OUT")
check_eq "create --after-ok: created" "$(state_of "$cs")" created
capture ae start --snapshot-after 0 "$cs"
keep_answer start
check_eq "... start: queued, waiting for dependencies" \
	"$(json_str state "$OUT") $(json_str waiting_for "$OUT")" "queued dependencies"
release s
capture ae wait --timeout-ms "$(bound 20)s" "$cs"
check_eq "... then runs" "$(json_str state "$OUT") $(logged S)" "exited S exited"

# a dependency that is only created: waited for until it has run
capture ae create -- true
cdep=$(job_id "$OUT")
qrun --after "$cdep" -- "$TMP/note" T "$TMP/log" "$cdep"
t=$ID
check_eq "--after of a created job: waits" "$(place "$t")" "queued dependencies "
ae start --snapshot-after 0 "$cdep" >/dev/null
capture ae wait --timeout-ms "$(bound 20)s" "$t"
check_eq "... runs once it has been started and ended" \
	"$(json_str state "$OUT") $(logged T)" "exited T exited"

# ---- every answer matches the schema --------------------------------------------

for kind in run status list kill delete wait create start wait_many summary error; do
	check_schema "every $kind answer matches its definition" "$kind" --lines \
		"$TMP/answers.$kind"
done
