#!/bin/sh
# queues (--queue, --slots, --no-queue-wait): the slot limit under many
# launches and under supervisors killed at random, FIFO order and
# queue_position, the refusal, kill/delete/wait of queued jobs, --timeout
# from the start, summary and list, selectors, usage errors, the schema.
. "$(dirname "$0")/lib.sh"

# gated NAME RUN-ARGS...: qrun a job that ends (0) once $TMP/go.NAME exists.
gated() {
	_name=$1
	shift
	qrun "$@" -- sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done' gate \
		"$TMP/go.$_name"
}
release() { : >"$TMP/go.$1"; }
# position ID: the job's queue_position as status reports it.
position() { json_num queue_position "$(ae status "$1")"; }
# place ID: "state waiting_for queue_position" as status reports it.
place() {
	_st=$(ae status "$1")
	echo "$(json_str state "$_st") $(json_str waiting_for "$_st") $(json_num queue_position "$_st")"
}
# place_is ID WANT: for until_true.
place_is() { [ "$(place "$1")" = "$2" ]; }
# count_of STATE JSON: the first "counts" object's number for STATE.
count_of() { json_num "$1" "$(printf '%s\n' "$2" | grep -o '"counts":{[^}]*}' | head -n 1)"; }
# queue_obj NAME JSON: summary's entry of queue NAME, as
# "slots slots_taken running queued".
queue_obj() {
	_q=$(printf '%s\n' "$2" | grep -o "\"$1\":{\"slots\":[0-9]*,\"slots_taken\":[0-9]*,\"counts\":{[^}]*}")
	echo "$(json_num slots "$_q") $(json_num slots_taken "$_q")" \
		"$(json_num running "$_q") $(json_num queued "$_q")"
}
# sup_of ID: the supervisor pid recorded in the job's state.json.
sup_of() { record_num "$1" supervisor_pid; }
# record_status ID: the status field of the job's state.json, as written
# (not observed: a lost supervisor is not recorded by reading the file).
record_status() {
	json_str status "$(cat "$ROOT/$1/state.json" 2>/dev/null)"
}
# is_terminal ID: for until_true.
is_terminal() {
	case $(state_of "$1") in exited | killed | failed) return 0 ;; esac
	return 1
}
# ts_le A B: timestamp A is not after B (same format: string order).
ts_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a "" <= b "") }'; }

# The job of the concurrency runs: conc DIR LOG SECONDS notes how many jobs
# run now (the entries of DIR named after a live, non-zombie process; its
# own included), then stays SECONDS. A job whose supervisor is killed dies
# with it (and its entry no longer counts).
make_script "$TMP/conc" <<'EOS'
mkdir -p "$1/$$"
n=0
for d in "$1"/*; do
	st=$(sed 's/^.*) //' "/proc/${d##*/}/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && n=$((n + 1))
done
echo "$n" >>"$2"
sleep "$3"
rmdir "$1/$$"
EOS

# launch_many N QUEUE SLOTS SECONDS: N runs of conc at once, in the
# background, on QUEUE with --slots SLOTS; waits for the runs to answer
# (bounded). LAUNCH_BAD: how many did not answer ok.
launch_many() {
	mkdir -p "$TMP/$2.d"
	lm_pids=""
	lm_i=1
	while [ "$lm_i" -le "$1" ]; do
		"$AE_BIN" --root "$ROOT" run --snapshot-after 0 --queue "$2" \
			--slots "$3" -- "$TMP/conc" "$TMP/$2.d" "$TMP/$2.log" "$4" \
			>"$TMP/$2.run.$lm_i" 2>&1 &
		lm_pids="$lm_pids $!"
		lm_i=$((lm_i + 1))
	done
	LAUNCH_BAD=0
	for lm_pid in $lm_pids; do
		wait_status "$lm_pid" 30
		[ "$WAIT_STATUS" = 0 ] || LAUNCH_BAD=$((LAUNCH_BAD + 1))
	done
	cat "$TMP/$2.run."* >>"$TMP/answers.run"
}
# launched QUEUE: the ids the runs of launch_many answered, one a line.
launched() { cat "$TMP/$1.run."* | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4; }
# max_of FILE: the largest number in FILE (lines).
max_of() { sort -n "$1" | tail -n 1; }

# ---- --timeout counts from the start (set up first: it takes a few seconds) ----

qrun --queue to -- sleep 3
to_blocker=$ID
t_submit=$(now_ms)
qrun --queue to --timeout 1500 -- sh -c 'echo ran >"$1"; sleep 30' to "$TMP/to.ran"
to_job=$ID
check_eq "a job with --timeout behind a 3 s blocker is queued" \
	"$(json_str state "$OUT")" queued

# ---- FIFO order, queue_position, answers at once ---------------------------------

gated fifo --queue fifo
fifo_blocker=$ID
check_eq "the first job of a queue runs at once" "$(json_str state "$OUT") $(json_str queue "$OUT")" \
	"running fifo"
check_hasnt "... with no waiting_for" waiting_for "$OUT"
positions=""
fifo_ids=""
t0=$(now_ms)
i=1
while [ $i -le 10 ]; do
	# the default --snapshot-after (10 s): a queued job answers at once
	capture ae run --queue fifo -- sh -c 'echo "$1" >>"$2"' fifo "$i" "$TMP/fifo.log"
	keep_answer run
	positions="$positions $(json_num queue_position "$OUT")"
	fifo_ids="$fifo_ids $(job_id "$OUT")"
	[ $i = 1 ] && first_answer=$OUT
	i=$((i + 1))
done
took=$(($(now_ms) - t0))
check_eq "ten jobs behind a blocker: queue_position 0..9, in order of submission" \
	"$positions" " 0 1 2 3 4 5 6 7 8 9"
check_between "... run of a queued job answers at once, not after --snapshot-after (ms)" \
	"$took" 0 "$(bound 8)000"
check_match "... the run answer: queued, its queue, waiting for a slot" "$first_answer" \
	'"state":"queued".*"queue":"fifo","waiting_for":"slot","queue_position":0'
# shellcheck disable=SC2086 # the ids, one argument each
set -- $fifo_ids
check_eq "status of the 5th: queued, waiting for a slot, position 4" "$(place "$5")" \
	"queued slot 4"
capture ae status "$5"
keep_answer status
check_contains "... and its queue" "$OUT" '"queue":"fifo"'
check_hasnt "... no started_at" started_at "$OUT"
check_hasnt "... no pid" pid "$OUT"
check_contains "state.json of a queued job: status queued" \
	"$(json_flat "$ROOT/$5/state.json")" '"status": "queued"'
check_match "... with its queue and waiting_for" "$(json_flat "$ROOT/$5/state.json")" \
	'"queue": *"fifo".*"waiting_for": *"slot"'
check_schema "... a state_record" state_record "$ROOT/$5/state.json"
check "nothing of the queued jobs ran" test ! -e "$TMP/fifo.log"
capture ae wait "$5" --until 0
keep_answer wait
check_match "wait ID of a queued job: its queue, waiting_for and position" "$OUT" \
	'"state":"queued","queue":"fifo","waiting_for":"slot","queue_position":4,"timed_out":true'
capture ae wait --queue fifo --until 0
keep_answer wait_many
check_match "wait --queue: a queued job's entry names its queue and what it waits for" \
	"$(entry "$5" "$OUT")" '"state":"queued","queue":"fifo","waiting_for":"slot"}'
check_hasnt "... and no position (a read of the line each)" queue_position "$OUT"
check_match "... a running job's entry names its queue, nothing more" \
	"$(entry "$fifo_blocker" "$OUT")" '"state":"running","queue":"fifo"}'

# ---- the refusal: --no-queue-wait -------------------------------------------------

before=$(job_dirs)
capture ae run --queue fifo --no-queue-wait -- touch "$TMP/refused.ran"
keep_answer error
check_eq "--no-queue-wait on a full queue: exit 1, one line" "$RC $OUT_LINES" "1 1"
check_match "... error queue_full, retryable" "$OUT" \
	'^\{"schema_version":"0.1","ok":false,"type":"error","error":\{"code":"queue_full","message":"[^"]+","retryable":true\}\}$'
check_eq "... no job directory made" "$(job_dirs)" "$before"
# create starts nothing: --no-queue-wait is for run and start
capture ae create --queue fifo --no-queue-wait -- true
check_eq "create --no-queue-wait: a usage error, stdout empty, nothing made" \
	"$RC [$OUT] $(job_dirs)" "2 [] $before"
check_contains "... the message names the option" "$ERR" "no-queue-wait"
capture ae create --queue fifo -- true
fifo_created=$(job_id "$OUT")
capture ae start --queue fifo --no-queue-wait "$fifo_created"
keep_answer error
check_eq "start --queue --no-queue-wait on a full queue: queue_full, retryable" \
	"$RC $(json_str code "$OUT") $(json_bool retryable "$OUT")" "1 queue_full true"
check_eq "... the job stays created" "$(state_of "$fifo_created")" created
capture ae start --no-queue-wait "$fifo_created"
check_eq "start --no-queue-wait finds the queue the job was created with" \
	"$RC $(json_str code "$OUT") $(state_of "$fifo_created")" \
	"1 queue_full created"
ae delete "$fifo_created" >/dev/null
qrun --queue nqw --slots 2 --no-queue-wait -- sleep 30
nqw1=$ID
check_eq "--no-queue-wait with a free slot runs at once" "$RC $(json_str state "$OUT")" "0 running"
qrun --queue nqw --no-queue-wait -- sleep 30
nqw2=$ID
check_eq "... and takes the second slot of two" "$RC $(json_str state "$OUT")" "0 running"
capture ae run --queue nqw --no-queue-wait -- true
check_eq "... a third is refused (queue_full, retryable)" \
	"$RC $(json_str code "$OUT") $(json_bool retryable "$OUT")" "1 queue_full true"
ae kill --signal KILL "$nqw1" >/dev/null
ae kill --signal KILL "$nqw2" >/dev/null

# raising the slots: a newcomer still queues behind those in line
gated up --queue up
up_blocker=$ID
qrun --queue up -- true
up1=$ID
qrun --queue up --slots 2 -- sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done' up "$TMP/go.up2"
up2=$ID
check_eq "--slots 2 on a queue with one waiting: the newcomer queues behind it" \
	"$(json_str state "$OUT") $(json_num queue_position "$OUT")" "queued 1"
before=$(job_dirs)
capture ae run --queue up --no-queue-wait -- true
check_eq "... --no-queue-wait does not jump the line: queue_full, nothing made" \
	"$RC $(json_str code "$OUT") $(job_dirs)" "1 queue_full $before"
wait_for "... the head of the line takes the new slot (the blocker still runs)" 10 \
	is_state "$up1" exited
wait_for "... then the newcomer takes it" 10 is_state "$up2" running
check_eq "... the blocker still runs" "$(state_of "$up_blocker")" running
release up
release up2

# ---- FIFO: the line runs in order ------------------------------------------------

release fifo
capture ae wait --queue fifo --timeout-ms "$(bound 30)s"
keep_answer wait_many
check_eq "wait --queue fifo: the eleven jobs, all exited" \
	"$RC $(count_of exited "$OUT") $(json_bool timed_out "$OUT")" "0 11 false"
check_eq "the queued jobs ran in the order they were submitted" \
	"$(tr '\n' ' ' <"$TMP/fifo.log")" "1 2 3 4 5 6 7 8 9 10 "
check_eq "... after the blocker, which exited 0" "$(state_of "$fifo_blocker")" exited
capture ae run --queue fifo -- sleep 5
check_eq "an empty queue: the next job runs at once, answered at once" \
	"$(json_str state "$OUT") $(json_str waiting_for "$OUT")" "running "
check_between "... without a snapshot window (waited_ms)" \
	"$(json_num waited_ms "$OUT")" 0 2999
ae kill "$(job_id "$OUT")" >/dev/null
capture ae run --queue fifo --snapshot-after 5000 -- true
check_eq "... --snapshot-after asks for one: the answer has its end" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"

# ---- kill and delete of queued jobs; wait through queued --------------------------

gated kd --queue kd
kd_blocker=$ID
qrun --queue kd -- touch "$TMP/kd1.ran"
kd1=$ID
qrun --queue kd -- touch "$TMP/kd2.ran"
kd2=$ID
qrun --queue kd -- touch "$TMP/kd3.ran"
kd3=$ID
qrun --queue kd -- touch "$TMP/kd4.ran"
kd4=$ID
qrun --queue kd -- sh -c 'echo ran >"$1"; exit 7' kd "$TMP/kd5.ran"
kd5=$ID
check_eq "five queued behind a blocker: positions 0 1 2 3 4" \
	"$(position "$kd1") $(position "$kd2") $(position "$kd3") $(position "$kd4") $(position "$kd5")" \
	"0 1 2 3 4"
"$AE_BIN" --root "$ROOT" wait "$kd5" >"$TMP/kd5.wait" 2>&1 &
kd_wait=$!

# one in the middle of the line
capture ae kill "$kd2"
keep_answer kill
check_eq "kill of a queued job (position 1): exit 0, killed by SIGTERM" \
	"$RC $(json_str state "$OUT") $(json_str ending_signal "$OUT") $(json_str ending_signal_name "$OUT")" \
	"0 killed 15 SIGTERM"
check_hasnt "... no exit_code in the answer" exit_code "$OUT"
check_hasnt "... no error in the answer" error "$OUT"
capture ae status "$kd2"
keep_answer status
check_eq "... status: killed, signal 15, SIGTERM" \
	"$(json_str state "$OUT") $(json_str signal "$OUT") $(json_str signal_name "$OUT")" \
	"killed 15 SIGTERM"
check_hasnt "... no exit_code" exit_code "$OUT"
check_hasnt "... no longer waiting" waiting_for "$OUT"
check_hasnt "... no queue_position" queue_position "$OUT"
ae events >"$TMP/kd.events"
grep "\"job_id\":\"$kd2\"" "$TMP/kd.events" | grep '"event_type":"job.finished"' \
	>"$TMP/kd2.finished"
check_eq "... a job.finished event, killed" \
	"$(grep -c '"state":"killed"' "$TMP/kd2.finished")" 1
check_schema "... an event_line" event_line --lines "$TMP/kd2.finished"
check_eq "... and no job.started" \
	"$(grep "\"job_id\":\"$kd2\"" "$TMP/kd.events" | grep -c '"event_type":"job.started"')" 0
check_eq "the line shrank: the head stays, the jobs behind moved up (0 1 2 3)" \
	"$(position "$kd1") $(position "$kd3") $(position "$kd4") $(position "$kd5")" "0 1 2 3"

# the head of the line, with another signal
capture ae kill --signal INT "$kd1"
keep_answer kill
check_eq "kill --signal INT of the head of the line: killed, signal 2 SIGINT" \
	"$(json_str state "$OUT") $(json_str signal "$(ae status "$kd1")") $(json_str signal_name "$(ae status "$kd1")")" \
	"killed 2 SIGINT"
check_eq "... the jobs behind moved up (0 1 2)" \
	"$(position "$kd3") $(position "$kd4") $(position "$kd5")" "0 1 2"

capture ae kill --signal CONT "$kd4"
keep_answer kill
check_eq "kill --signal CONT (does not end a job): still queued, in place" \
	"$RC $(json_str state "$OUT") $(place "$kd4")" "0 queued queued slot 1"

capture ae delete "$kd4"
keep_answer delete
check_eq "delete of a queued job (position 1) without --force: deleted" \
	"$RC $(json_bool deleted "$OUT")" "0 true"
check "... its directory is gone" test ! -e "$ROOT/$kd4"
check_eq "... the last one moved up (0 1)" "$(position "$kd3") $(position "$kd5")" "0 1"
capture ae delete "$kd3"
keep_answer delete
check_eq "delete of the head of the line: deleted, gone" \
	"$RC $(json_bool deleted "$OUT") $(test -e "$ROOT/$kd3" && echo there)" "0 true "
check_eq "... the last one is next in line" "$(place "$kd5")" "queued slot 0"
check "wait on a queued job is waiting" proc_running "$kd_wait"
check_eq "... the job is still queued" "$(state_of "$kd5")" queued

release kd
wait_status "$kd_wait" 20
OUT=$(cat "$TMP/kd5.wait")
keep_answer wait
check_eq "wait waits through queued and running: exited 7" \
	"$WAIT_STATUS $(json_str state "$OUT") $(json_num exit_code "$OUT")" "0 exited 7"
check "... it ran" test -s "$TMP/kd5.ran"
check "the killed and deleted queued jobs never ran" \
	test ! -e "$TMP/kd1.ran" -a ! -e "$TMP/kd2.ran" -a ! -e "$TMP/kd3.ran" -a ! -e "$TMP/kd4.ran"
check_eq "the blocker exited 0" "$(state_of "$kd_blocker")" exited

# ---- a lost supervisor -------------------------------------------------------------

gated lost --queue lost
lost_blocker=$ID
lost_pid=$(record_num "$lost_blocker" pid)
qrun --queue lost -- true
lost_q1=$ID
qrun --queue lost -- true
lost_q2=$ID
qrun --queue lost -- true
lost_q3=$ID
qrun --queue lost -- true
lost_next=$ID
sup_q1=$(sup_of "$lost_q1")
sup_q2=$(sup_of "$lost_q2")
sup_q3=$(sup_of "$lost_q3")
kill -KILL "${sup_q1:-none}" "${sup_q2:-none}" "${sup_q3:-none}"
until_true 5 proc_gone "${sup_q3:-0}"
check_eq "queued jobs' supervisors SIGKILLed: the records still say queued" \
	"$(record_status "$lost_q1") $(record_status "$lost_q2") $(record_status "$lost_q3")" \
	"queued queued queued"
capture ae status "$lost_q1"
keep_answer status
check_eq "status records a lost queued job: failed, supervisor_lost" \
	"$(json_str state "$OUT") $(json_str error "$OUT")" "failed supervisor_lost"
capture ae list --queue lost
keep_answer list
check_eq "list records one: failed, supervisor_lost" \
	"$(json_str state "$(entry "$lost_q2" "$OUT")") $(record_status "$lost_q2")" "failed failed"
capture ae wait "$lost_q3"
keep_answer wait
check_eq "wait records one: failed, supervisor_lost" \
	"$(json_str state "$OUT") $(json_str error "$OUT")" "failed supervisor_lost"
# (the lost ones' entries are removed by the one behind: soon, not at once)
wait_for "the job behind the lost ones is next in line" 5 place_is "$lost_next" "queued slot 0"
# the blocker's supervisor dies: its slot is free, the head notices
sup_b=$(sup_of "$lost_blocker")
t0=$(now_ms)
kill -KILL "${sup_b:-none}"
wait_for "a running job's supervisor SIGKILLed: the next job runs" 10 is_terminal "$lost_next"
took=$(($(now_ms) - t0))
check_between "... within about a second (ms)" "$took" 0 "$(bound 3)000"
check_eq "... it exited 0" "$(state_of "$lost_next")" exited
check_eq "... the blocker is failed, supervisor_lost" \
	"$(json_str state "$(ae status "$lost_blocker")") $(json_str error "$(ae status "$lost_blocker")")" \
	"failed supervisor_lost"
[ -n "$lost_pid" ] && until_true 5 proc_gone "$lost_pid"

# ---- --timeout: checked now ---------------------------------------------------------

wait_for "the --timeout job ends" 20 is_terminal "$to_job"
took=$(($(now_ms) - t_submit))
capture ae status "$to_job"
keep_answer status
check_eq "the queued job with --timeout 1500 ran (not killed in line)" \
	"$(cat "$TMP/to.ran" 2>/dev/null)" ran
check_eq "... then was killed by its timeout" \
	"$(json_str state "$OUT") $(json_bool timed_out "$(cat "$ROOT/$to_job/state.json")")" \
	"killed true"
check_between "... about 1.5 s after its own start (duration_ms)" \
	"$(json_num duration_ms "$OUT")" 500 "$(bound 3)000"
check "... it started when the blocker had ended (started_at >= finished_at)" \
	ts_le "$(json_str finished_at "$(ae status "$to_blocker")")" "$(json_str started_at "$OUT")"
low=0
ms_clock && low=3500
check_between "... it ended about 4.5 s after its submission (ms)" "$took" "$low" "$(bound 12)000"

# ---- the slot limit under 50 launches at once ---------------------------------------

launch_many 50 conc 3 0.2
check_eq "50 runs at once on a queue of 3 slots: all answered" "$LAUNCH_BAD" 0
check_eq "... 50 distinct jobs" "$(launched conc | sort -u | wc -l | tr -d ' ')" 50
check_eq "... the slots are kept in .queues/conc/slots" \
	"$(tr -d ' \n' <"$ROOT/.queues/conc/slots" 2>/dev/null)" 3
capture ae wait --queue conc --timeout-ms "$(bound 40)s"
keep_answer wait_many
check_eq "... all 50 exited 0 (wait --queue)" \
	"$RC $(count_of exited "$OUT") $(json_bool timed_out "$OUT")" "0 50 false"
check_eq "... none with another exit code" \
	"$(printf '%s\n' "$OUT" | grep -o '"exit_code":[0-9]*' | sort -u | tr '\n' ' ')" '"exit_code":0 '
check_eq "... each noted the jobs running with it" "$(line_count "$TMP/conc.log")" 50
max=$(max_of "$TMP/conc.log")
echo "# at most $max jobs ran at once (of 50, 3 slots)"
check_between "... never more than 3 at once" "$max" 1 3
check_between "... and the slots were used together (at least 2 at once)" "$max" 2 3

# ---- the slot limit while supervisors are SIGKILLed -----------------------------

# L1 runs first (5 s: surely running when its supervisor dies); 24 short
# jobs; L2 last (surely still in line when its supervisor dies).
mkdir -p "$TMP/conc2.d"
qrun --queue conc2 --slots 3 -- "$TMP/conc" "$TMP/conc2.d" "$TMP/conc2.log" 5
long1=$ID
launch_many 24 conc2 3 0.3
qrun --queue conc2 -- "$TMP/conc" "$TMP/conc2.d" "$TMP/conc2.log" 5
long2=$ID
check_eq "24 runs at once, with a long job first and one last: all answered" \
	"$LAUNCH_BAD $(state_of "$long2")" "0 queued"
victims="$long1 $long2"
# gone_dir ID PID: once the job's process is gone, its entry in conc2.d
# (which it could not remove) goes too, so a reused pid is never counted.
gone_dir() {
	[ -n "$2" ] && until_true 5 proc_gone "$2" && rm -rf "${TMP:?}/conc2.d/$2"
}
until_true 5 is_state "$long1" running
l1_pid=$(record_num "$long1" pid)
kill -KILL "$(sup_of "$long1")"
kill -KILL "$(sup_of "$long2")"
gone_dir "$long1" "$l1_pid"
# three more at random moments (the sleeps pick the moments, they wait
# for nothing), whatever their state then
seed=$$
echo "# random victims: seed $seed"
launched conc2 | awk -v seed="$seed" 'BEGIN { srand(seed) } { id[NR] = $0 }
	END { for (k = 0; k < 3; k++) printf "%.2f %s\n", rand() * 0.6, id[int(rand() * NR) + 1] }' \
	>"$TMP/victims"
while read -r delay pick; do
	sleep "$delay"
	v_pid=$(record_num "$pick" pid)
	v_sup=$(sup_of "$pick")
	[ -n "$v_sup" ] && kill -KILL "$v_sup" 2>/dev/null
	victims="$victims $pick"
	gone_dir "$pick" "$v_pid"
done <"$TMP/victims"
capture ae wait --queue conc2 --timeout-ms "$(bound 40)s"
keep_answer wait_many
check_eq "wait --queue conc2: all 26 ended, none timed out" \
	"$RC $(($(count_of exited "$OUT") + $(count_of failed "$OUT"))) $(json_bool timed_out "$OUT")" \
	"0 26 false"
check_eq "... L1 (killed running) and L2 (killed queued): failed, supervisor_lost" \
	"$(json_str error "$(entry "$long1" "$OUT")") $(json_str error "$(entry "$long2" "$OUT")")" \
	"supervisor_lost supervisor_lost"
bad=""
for id in $(printf '%s\n' "$OUT" | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4); do
	e=$(entry "$id" "$OUT")
	case " $victims " in
	*" $id "*)
		case "$(json_str state "$e") $(json_str error "$e")" in
		"failed supervisor_lost" | "exited ") ;;
		*) bad="$bad $id:$(json_str state "$e")" ;;
		esac ;;
	*) [ "$(json_str state "$e") $(json_num exit_code "$e")" = "exited 0" ] ||
		bad="$bad $id:$(json_str state "$e")" ;;
	esac
done
check_eq "... every other job exited 0; a victim is failed/supervisor_lost (or ended before)" \
	"$bad" ""
max=$(max_of "$TMP/conc2.log")
echo "# at most $max jobs ran at once (of 26, 3 slots, 5 supervisors killed)"
check_between "... never more than 3 ran at once" "$max" 1 3
# (L1 and the victims that ran noted their start too; L2 never ran)
check_between "... every job that exited noted its start, L2 did not" \
	"$(line_count "$TMP/conc2.log")" "$(($(count_of exited "$OUT") + 1))" 25

# ---- summary, list, selectors -------------------------------------------------------

gated sq1 --queue sq --slots 2
sq1=$ID
gated sq2 --queue sq
sq2=$ID
qrun --queue sq -- sh -c 'touch "$1"; sleep 30' sq "$TMP/sq3.ran"
sq3=$ID
qrun --queue sq -- sh -c 'touch "$1"; sleep 30' sq "$TMP/sq4.ran"
sq4=$ID
capture ae summary
keep_answer summary
check_eq "summary: queue sq has 2 slots, 2 taken, 2 running, 2 queued" \
	"$(queue_obj sq "$OUT")" "2 2 2 2"
check_eq "... counts has queued: 2" "$(count_of queued "$OUT")" 2
check_eq "... a queue never given --slots has 1 (fifo), none taken" \
	"$(queue_obj fifo "$OUT")" "1 0 0 0"
check_eq "... the queue of 50 shows them exited" \
	"$(json_num exited "$(printf '%s\n' "$OUT" | grep -o '"conc":{[^}]*}')")" 50
check_eq "... the jobs: running first, then the queued ones" \
	"$(printf '%s\n' "$OUT" | grep -o '"job_id":"[^"]*","short_job_id":"[^"]*","state":"[a-z]*"' | cut -d'"' -f12 | tr '\n' ' ')" \
	"running running queued queued "
check_match "... a queued one with its queue and waiting_for" "$(entry "$sq3" "$OUT")" \
	'"state":"queued".*"queue":"sq","waiting_for":"slot"'
check "... and no started_at (it has not started)" \
	sh -c '! printf "%s" "$1" | grep -q started_at' x "$(entry "$sq3" "$OUT")"
capture ae list --state queued
keep_answer list
check_eq "list --state queued: the two queued jobs" "$(ids_in "$OUT")" "$(sorted "$sq3" "$sq4")"
check_eq "... each entry says its queue and what it waits for" \
	"$(json_str queue "$(entry "$sq3" "$OUT")") $(json_str waiting_for "$(entry "$sq3" "$OUT")")" \
	"sq slot"
capture ae list --queue sq
keep_answer list
check_eq "list --queue sq: its four jobs" "$(ids_in "$OUT")" "$(sorted "$sq1" "$sq2" "$sq3" "$sq4")"
capture ae list --queue sq --state running
check_eq "list --queue sq --state running: the two running" "$(ids_in "$OUT")" "$(sorted "$sq1" "$sq2")"
capture ae list --queue no-such-queue
check_eq "list --queue of an unknown queue: nothing" "$RC $(ids_in "$OUT")" "0 "
capture ae wait --queue sq --timeout-ms 300 --exit-status
keep_answer wait_many
check_eq "wait --queue sq --exit-status with a short deadline: 124, its four jobs" \
	"$RC $(json_bool timed_out "$OUT") $(ids_in "$OUT")" \
	"124 true $(sorted "$sq1" "$sq2" "$sq3" "$sq4")"
check_eq "... two running, two queued" \
	"$(count_of running "$OUT") $(count_of queued "$OUT")" "2 2"

gated sd --queue sd
sd1=$ID
qrun --queue sd -- true
sd2=$ID
qrun --queue sd -- true
sd3=$ID
capture ae delete --queue sd
keep_answer delete_many
check_eq "delete --queue sd: the queued ones deleted, the running one a failure" \
	"$(json_bool deleted "$(entry "$sd2" "$OUT")") $(json_bool deleted "$(entry "$sd3" "$OUT")") $(json_str code "$(entry "$sd1" "$OUT")") $(json_num failures "$OUT")" \
	"true true invalid_state 1"
check "... gone" test ! -e "$ROOT/$sd2" -a ! -e "$ROOT/$sd3"
check_eq "... the running one runs on" "$(state_of "$sd1")" running

capture ae kill --queue sq
keep_answer kill_many
check_eq "kill --queue sq: its four jobs, all killed" \
	"$RC $(ids_in "$OUT") $(json_num failures "$OUT")" \
	"0 $(sorted "$sq1" "$sq2" "$sq3" "$sq4") 0"
wait_for "... they end" 10 is_terminal "$sq4"
check_eq "... all four killed" \
	"$(state_of "$sq1") $(state_of "$sq2") $(state_of "$sq3") $(state_of "$sq4")" \
	"killed killed killed killed"
check "... the queued ones never started (no slot freed by the kill went to them)" \
	test ! -e "$TMP/sq3.ran" -a ! -e "$TMP/sq4.ran"
capture ae summary
check_eq "... the queue's slots are free" "$(queue_obj sq "$OUT")" "2 0 0 0"
capture ae delete --queue sq
keep_answer delete_many
check_eq "delete --queue sq: all four deleted" \
	"$RC $(json_num failures "$OUT") $(ids_in "$OUT")" "0 0 $(sorted "$sq1" "$sq2" "$sq3" "$sq4")"
check "... no directories left" test ! -e "$ROOT/$sq1" -a ! -e "$ROOT/$sq4"
release sd
capture ae wait --queue sd --timeout-ms "$(bound 10)s"
check_eq "wait --queue sd: the one left, exited" "$(ids_in "$OUT") $(count_of exited "$OUT")" "$sd1 1"

# ---- create --queue, start --queue, --slots kept ---------------------------------

capture ae create --queue cq -- true
keep_answer create
cq1=$(job_id "$OUT")
check_eq "create --queue: created, with its queue" \
	"$(state_of "$cq1") $(json_str queue "$(ae status "$cq1")")" "created cq"
capture ae start --snapshot-after 0 "$cq1"
keep_answer start
wait_for "... start runs it through its queue" 10 is_state "$cq1" exited
gated cq --queue cq
capture ae create -- true
cq2=$(job_id "$OUT")
capture ae start --snapshot-after 0 --queue cq "$cq2"
keep_answer start
check_eq "start --queue of a job created without one: queued behind the blocker" \
	"$(json_str state "$OUT") $(json_str queue "$OUT") $(json_num queue_position "$OUT")" \
	"queued cq 0"
release cq
wait_for "... then runs" 10 is_state "$cq2" exited
ae run --snapshot-after 0 --queue conc --slots 5 -- true >/dev/null
check_eq "--slots changes a queue's slots" "$(tr -d ' \n' <"$ROOT/.queues/conc/slots")" 5
ae run --snapshot-after 0 --queue conc -- true >/dev/null
check_eq "... a run without --slots keeps them" \
	"$(tr -d ' \n' <"$ROOT/.queues/conc/slots") $(queue_obj conc "$(ae summary)" | cut -d' ' -f1)" "5 5"

# ---- usage errors -------------------------------------------------------------------

before=$(job_dirs)
long=$(printf '%065d' 0)
for cmd in run create; do
	check_usage_error "$cmd --queue .hidden" ae "$cmd" --queue .hidden -- true
	check_usage_error "$cmd --queue a/b" ae "$cmd" --queue a/b -- true
	check_usage_error "$cmd --queue with a space" ae "$cmd" --queue 'a b' -- true
	check_usage_error "$cmd --queue ''" ae "$cmd" --queue '' -- true
	check_usage_error "$cmd --queue of 65 characters" ae "$cmd" --queue "$long" -- true
	check_usage_error "$cmd --slots 0" ae "$cmd" --queue q --slots 0 -- true
	check_usage_error "$cmd --slots 1025" ae "$cmd" --queue q --slots 1025 -- true
	check_usage_error "$cmd --slots x" ae "$cmd" --queue q --slots x -- true
	check_usage_error "$cmd --slots without --queue" ae "$cmd" --slots 2 -- true
	check_usage_error "$cmd --no-queue-wait without --queue" ae "$cmd" --no-queue-wait -- true
done
capture ae create -- true
c=$(job_id "$OUT")
check_usage_error "start --queue with a bad name" ae start --queue '.x' "$c"
# start finds the queue in the job's definition: a job without one says so
check_error "start --slots of a job without a queue" invalid_argument \
	ae start --slots 2 "$c"
check_contains "... the message says it has no queue" "$OUT" "has no queue"
check_eq "... the job is still created" "$(state_of "$c")" created
check_usage_error "list --queue with a bad name" ae list --queue 'a/b'
check_eq "no usage error made a job or a queue" \
	"$(job_dirs) $(test -e "$ROOT/.queues/q" && echo queue-q)" "$((before + 1)) "
ok_name="$(printf '%064d' 0)"
capture ae run --snapshot-after 0 --queue "$ok_name" --slots 1024 -- true
check_eq "a name of 64 characters and --slots 1024 are fine" "$RC" 0
capture ae run --snapshot-after 0 --queue 'A-z_0.9' -- true
check_eq "a name with letters, digits, '.', '_' and '-' is fine" "$RC" 0

# ---- every answer matches the schema ----------------------------------------------

for kind in run status list summary kill delete wait create start wait_many \
	kill_many delete_many error; do
	check_schema "every $kind answer matches its definition" "$kind" --lines \
		"$TMP/answers.$kind"
done
