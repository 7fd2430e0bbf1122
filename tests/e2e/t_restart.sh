#!/bin/sh
# restart: the same job again. A finished job's attempt is archived (tail
# and log --attempt read it, status lists its end) and the next one runs;
# a running job is stopped first (--signal, SIGKILL after --kill-after); a
# created job is simply started. Events and event ids tell the attempts
# apart. A refusal changes nothing on disk.
. "$(dirname "$0")/lib.sh"

# tree ID: the job's files and the bytes of its records, to compare.
tree() {
	(cd "$ROOT/$1" && find . | sort && cat ./*.json attempts/*/*.json 2>/dev/null)
}
# stdout_of ID [TAIL-OPTIONS]: the job's stdout_tail.
stdout_of() {
	_id=$1
	shift
	json_str stdout_tail "$(ae tail "$@" "$_id")"
}
# shows ID TEXT: the job's stdout ends with TEXT (for until_true).
shows() { [ "$(stdout_of "$1")" = "$2" ]; }

# A job that counts its runs: "out N" and "err N" on the N-th.
make_script "$TMP/count" <<'EOS'
n=$(($(cat "$1" 2>/dev/null || echo 0) + 1))
echo "$n" >"$1"
echo "out $n"
echo "err $n" >&2
EOS

# ---- a finished job: attempt 1 archived, attempt 2 runs --------------------

capture ae run --wait --tag rs.a --meta ticket=T-9 \
	--notify-file "$TMP/sink.ndjson" -- "$TMP/count" "$TMP/n.a"
id=$(job_id "$OUT")
wait_for "the first attempt's job.finished is delivered" 10 \
	delivery_is "$id" delivered
cp "$ROOT/$id/meta.json" "$TMP/meta.before"
capture ae restart --wait "$id"
keep_answer restart
check_eq "restart: exit 0, type restart, the same job" \
	"$RC $(json_str type "$OUT") $(job_id "$OUT")" "0 restart $id"
check_eq "... attempt 2, exited" \
	"$(json_num attempt "$OUT") $(json_str state "$OUT") $(json_num exit_code "$OUT")" \
	"2 exited 0"
check_contains "... answers like start: its final output" "$OUT" \
	'"final_snapshot":{"stdout_tail":"out 2","stderr_tail":"err 2"'
check_contains "... its tags kept" "$OUT" '"tags":["rs.a"]'
check "... meta.json untouched" cmp -s "$TMP/meta.before" "$ROOT/$id/meta.json"

capture ae tail --attempt 1 "$id"
keep_answer tail
check_eq "tail --attempt 1: the first attempt's output" \
	"$(json_str stdout_tail "$OUT") / $(json_str stderr_tail "$OUT")" \
	"out 1 / err 1"
check_eq "... read from its archive" "$(json_str stdout_log_path "$OUT")" \
	"$ROOT/$id/attempts/1/stdout.log"
check_eq "... which ended exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
check_eq "tail: the current attempt's output, fresh" "$(stdout_of "$id")" "out 2"
check_eq "tail --attempt 2 is the current one" \
	"$(json_str stdout_log_path "$(ae tail --attempt 2 "$id")")" \
	"$ROOT/$id/stdout.log"
capture ae log --attempt 1 --stream stderr "$id"
keep_answer log
check_eq "log --attempt 1 --stream stderr: its lines" \
	"$(json_str path "$OUT") $(printf '%s' "$OUT" | grep -o '"lines":[^]]*]')" \
	"$ROOT/$id/attempts/1/stderr.log \"lines\":[\"err 1\"]"
check_contains "log: the current attempt's lines" "$(ae log "$id")" \
	'"lines":["out 2"]'
capture ae log --attempt 1 --stream full "$id"
check_contains "log --attempt 1 --stream full: the first attempt's" "$OUT" "out 1"
check_lacks "... not the second's" "$OUT" "out 2"

capture ae status "$id"
keep_answer status
check_eq "status: attempt 2" "$(json_num attempt "$OUT")" 2
attempts=$(printf '%s\n' "$OUT" | grep -o '"attempts":\[[^]]*\]')
check_match "status: attempts lists the first one's end" "$attempts" \
	'^"attempts":\[\{"attempt":1,"state":"exited","started_at":"[^"]+","exit_code":0,"finished_at":"[^"]+","duration_ms":[0-9]+\}\]$'
check_contains "... beside the delivery's own attempts counter" "$OUT" \
	'"notification":{"delivery":"delivered","attempts":1}'
for name in state.json stdout.log stderr.log full.log completion_event.json; do
	check "attempts/1/$name is kept" test -f "$ROOT/$id/attempts/1/$name"
done
check_eq "state.json says attempt 2; the archived one, none (1)" \
	"$(record_num "$id" attempt)/$(json_num attempt "$(cat "$ROOT/$id/attempts/1/state.json")")" \
	"2/"

# ---- events and event ids per attempt ------------------------------------------

capture ae events --job "$id"
printf '%s\n' "$OUT" >"$TMP/events.ndjson"
check_eq "events: job.created once, then each attempt's start and end" \
	"$(grep -o '"event_type":"job\.[a-z]*"' "$TMP/events.ndjson" | cut -d'"' -f4 | tr '\n' ' ')" \
	"job.created job.started job.finished job.started job.finished "
check_eq "... job.started carries the attempt" \
	"$(grep '"job.started"' "$TMP/events.ndjson" | grep -o '"attempt":[0-9]*' | tr '\n' ' ')" \
	'"attempt":1 "attempt":2 '
check_eq "... job.finished too, with an event_id unique per attempt" \
	"$(grep '"job.finished"' "$TMP/events.ndjson" | grep -o '"event_id":"[^"]*"\|"attempt":[0-9]*' | tr '\n' ' ')" \
	"\"event_id\":\"$id:job.finished\" \"attempt\":1 \"event_id\":\"$id:job.finished-a2\" \"attempt\":2 "
wait_for "the second attempt's job.finished is delivered" 10 \
	delivery_is "$id" delivered
check_eq "the sink got both, told apart" \
	"$(grep -o '"event_id":"[^"]*"' "$TMP/sink.ndjson" | tr '\n' ' ')" \
	"\"event_id\":\"$id:job.finished\" \"event_id\":\"$id:job.finished-a2\" "
check_eq "each attempt keeps its own completion record" \
	"$(json_str event_id "$(cat "$ROOT/$id/attempts/1/completion_event.json")") $(json_str event_id "$(cat "$ROOT/$id/completion_event.json")")" \
	"$id:job.finished $id:job.finished-a2"

# ---- a running job: stopped first ------------------------------------------------

run=$(start_job -- sh -c 'trap "echo got-term; exit 3" TERM; echo up; while :; do sleep 0.05; done')
wait_for "a running job traps TERM" 10 shows "$run" up
pid1=$(record_num "$run" pid)
capture ae restart --snapshot-after 0 "$run"
keep_answer restart
check_eq "restart of a running job: attempt 2 runs" \
	"$RC $(json_num attempt "$OUT") $(json_str state "$OUT")" "0 2 running"
wait_for "... the first attempt's process is gone" 10 proc_gone "$pid1"
check_match "... it ended on TERM (its trap said so, exit 3)" \
	"$(ae status "$run" | grep -o '"attempts":\[[^]]*\]')" \
	'"attempt":1,"state":"exited",.*"exit_code":3'
check_eq "... tail --attempt 1 shows the trap" "$(stdout_of "$run" --attempt 1)" \
	'up\ngot-term'
wait_for "attempt 2 traps TERM" 10 shows "$run" up
pid2=$(record_num "$run" pid)
capture ae restart --signal KILL --snapshot-after 0 "$run"
keep_answer restart
check_eq "restart --signal KILL: attempt 3 runs" \
	"$RC $(json_num attempt "$OUT") $(json_str state "$OUT")" "0 3 running"
wait_for "... attempt 2's process is gone" 10 proc_gone "$pid2"
check_match "... attempt 2 was killed by SIGKILL, no trap" \
	"$(ae status "$run" | grep -o '"attempts":\[.*\]')" \
	'"attempt":2,"state":"killed",.*"signal":"9"'
check_lacks "... so it said nothing on TERM" "$(stdout_of "$run" --attempt 2)" got-term

deaf=$(start_job -- sh -c 'trap "" TERM; echo up; while :; do sleep 0.05; done')
wait_for "a job that ignores TERM runs" 10 shows "$deaf" up
capture ae restart --kill-after 200ms --snapshot-after 0 "$deaf"
keep_answer restart
check_eq "restart of a job deaf to TERM: SIGKILL after --kill-after, attempt 2" \
	"$RC $(json_num attempt "$OUT")" "0 2"
check_match "... attempt 1 was killed by SIGKILL" \
	"$(ae status "$deaf" | grep -o '"attempts":\[.*\]')" \
	'"attempt":1,"state":"killed",.*"signal":"9"'
ae kill --signal KILL "$run" >/dev/null
ae kill --signal KILL "$deaf" >/dev/null

# user-mode qemu has no PR_SET_CHILD_SUBREAPER: the supervisor cannot see
# what a job leaves there (t_leftovers skips too)
if emulated; then
	echo "# skip: restart of a job that left a process (under qemu-user)"
else
	left=$(job_id "$(ae run --wait -- sh -c 'sleep 60 & echo bg')")
	lpid=$(ae status "$left" | grep -o '"pids":\[[0-9]*' |
		grep -o '[0-9]*$')
	check_match "a job that left a process running" "$lpid" '^[0-9]+$'
	capture ae restart --snapshot-after 0 "$left"
	keep_answer restart
	check_eq "... restarts: attempt 2" "$RC $(json_num attempt "$OUT")" "0 2"
	wait_for "... what the first attempt left is gone" 10 proc_gone "$lpid"
	ae kill --signal KILL "$left" >/dev/null
fi

# ---- a created job: simply started ---------------------------------------------

created=$(job_id "$(ae create --tag rs.c -- "$TMP/count" "$TMP/n.c")")
capture ae restart --wait "$created"
keep_answer restart
check_eq "restart of a created job: started, attempt 1" \
	"$RC $(json_num attempt "$OUT") $(json_str state "$OUT")" "0 1 exited"
check_contains "... its output" "$OUT" '"stdout_tail":"out 1"'
check "... nothing archived" test ! -e "$ROOT/$created/attempts"
capture ae status "$created"
check_eq "... status: attempt 1" "$(json_num attempt "$OUT")" 1
check_lacks "... and no attempts list" "$OUT" '"attempts":['

# ---- the archive is read as it is: no waiting --------------------------------------

t0=$(now_ms)
capture ae tail --attempt 1 --cursor 0:0 --wait-ms 20s "$id"
check_eq "tail --wait-ms on an archived attempt answers at once" \
	"$RC $(json_str stdout_tail "$OUT")" '0 out 1\n'
check_between "... well before its 20 s" "$(($(now_ms) - t0))" 0 10000
ae tail --follow --attempt 1 "$id" >"$TMP/follow.out" 2>&1 &
follower=$!
wait_for "tail --follow of an archived attempt ends" 10 proc_gone "$follower"
check_eq "... having copied its output" "$(cat "$TMP/follow.out")" \
	"out 1
err 1"

# ---- refusals change nothing ----------------------------------------------------------

before=$(tree "$id")
check_error "tail --attempt 3 of a job with 2" invalid_argument ae tail --attempt 3 "$id"
check_contains "... the message names the attempts there are" "$OUT" \
	"has no attempt 3: it has 1 to 2"
check_error "log --attempt 0" invalid_argument ae log --attempt 0 "$id"
check_error "restart --signal NOPE" invalid_signal ae restart --signal NOPE "$id"
check_error "restart of an unknown job" job_not_found ae restart 01NOSUCHJOBNOSUCHJOBNOSUCH
check_usage_error "restart --exit-status needs --wait" ae restart --exit-status "$id"
check_eq "... none of them changed the job" "$(tree "$id")" "$before"

# a supervisor still delivering holds the job: refused, then done once it ends
capture ae run --wait --notify-command "while [ ! -e '$TMP/go' ]; do sleep 0.05; done" \
	-- "$TMP/count" "$TMP/n.d"
held=$(job_id "$OUT")
before=$(tree "$held")
check_error "restart while the supervisor delivers" invalid_state ae restart "$held"
check_contains "... the message names what holds the job" "$OUT" "is delivering its job.finished"
check_eq "... nothing changed" "$(tree "$held")" "$before"
: >"$TMP/go"
wait_for "the delivery ends" 10 delivery_is "$held" delivered
capture ae restart --wait "$held"
keep_answer restart
check_eq "... then restart goes" "$RC $(json_num attempt "$OUT") $(json_str stdout_tail "$OUT")" \
	"0 2 out 2"

# ---- a job run with --env: its values are kept for the next attempt ------------

capture ae run --wait --env U=plain --env SECRET=s3cr3t --mask SECRET \
	-- sh -c 'echo "[$U] [$SECRET] ${#SECRET}"'
ev=$(job_id "$OUT")
check_eq "run --env: the job sees its values (the masked one masked in the answer)" \
	"$(json_str stdout_tail "$OUT")" "[plain] [***] 6"
check "... and run kept them in env.json, 0600" \
	test "$(stat -c %a "$ROOT/$ev/env.json")" = 600
capture ae restart --wait "$ev"
keep_answer restart
check_eq "restart of a job run with --env: attempt 2 sees the same values" \
	"$RC $(json_num attempt "$OUT") $(json_str stdout_tail "$OUT")" "0 2 [plain] [***] 6"

# a running job whose definition cannot be read back (its env.json gone) is
# not stopped: the refusal changes nothing
capture ae run --snapshot-after 0 --env U=plain -- sleep 60
lost_env=$(job_id "$OUT")
rm "$ROOT/$lost_env/env.json"
before=$(tree "$lost_env")
check_error "restart of a job whose env.json is gone: corrupt_record" corrupt_record \
	ae restart "$lost_env"
check_contains "... the message names the file" "$OUT" "env.json"
check_eq "... the job still runs, its first attempt, nothing changed" \
	"$(state_of "$lost_env") $(json_num attempt "$(ae status "$lost_env")") $(test "$(tree "$lost_env")" = "$before" && echo same)" \
	"running 1 same"
ae kill --signal KILL "$lost_env" >/dev/null

# ---- every answer and record matches the schema ---------------------------------

check_schema "every restart answer matches its definition" restart --lines \
	"$TMP/answers.restart"
for kind in restart status tail log; do
	check_schema "... every $kind answer is an answer" - --lines "$TMP/answers.$kind"
done
check_schema "state.json, current and archived, are state_records" state_record \
	"$ROOT/$id/state.json" "$ROOT/$id/attempts/1/state.json"
check_schema "both completion records are completion_records" completion_record \
	"$ROOT/$id/completion_event.json" "$ROOT/$id/attempts/1/completion_event.json"
check_schema "the sink's events are job_finished_events" job_finished_event --lines \
	"$TMP/sink.ndjson"
check_schema "the events are event_lines" event_line --lines "$TMP/events.ndjson"
