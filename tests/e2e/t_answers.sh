#!/bin/sh
# Answers that need no second call (issue 15, "One call instead of two"):
# run/start say how a job that ended inside the snapshot window ended, wait
# returns the output and tells its own deadline from the job's --timeout,
# status says what the job is and where its notification stands, list says
# its scope, kill what it observed, and every signal number comes with its
# name. (job.finished's tags and host: t_notify; matched_at:
# t_notify_match; gc --dry-run: t_gc.)
. "$(dirname "$0")/lib.sh"

# answer_file NAME: the last captured answer, in a file for check_schema.
answer_file() {
	printf '%s\n' "$OUT" >"$TMP/$1.json"
	echo "$TMP/$1.json"
}

# ---- run/start: a job that ended inside the snapshot window ----------------

capture ae run --snapshot-after 5000 -- sh -c 'echo out; exit 3'
check_eq "run, ended in the window: exited 3" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 3"
check_match "... finished_at" "$(json_str finished_at "$OUT")" "$TS_RE"
check "... duration_ms" json_has duration_ms "$OUT"
check_eq "... the snapshot stays under its 0.1 key" \
	"$(json_str stdout_tail "$OUT")" out
check_hasnt "... and there is no final_snapshot" final_snapshot "$OUT"
check_schema "... a valid run answer" run "$(answer_file run_ended)"

capture ae run --snapshot-after 5000 -- sh -c 'kill -TERM $$'
check_eq "run, killed in the window: killed, signal 15, SIGTERM" \
	"$(json_str state "$OUT") $(json_str signal "$OUT") $(json_str signal_name "$OUT")" \
	"killed 15 SIGTERM"
check_hasnt "... no exit_code" exit_code "$OUT"
check_schema "... a valid run answer" run "$(answer_file run_killed)"

capture ae run --snapshot-after 0 -- sleep 30
id=$(job_id "$OUT")
check_eq "run, still running: no exit_code, finished_at, duration_ms" \
	"$(json_has exit_code "$OUT" && echo e)$(json_has finished_at "$OUT" && echo f)$(json_has duration_ms "$OUT" && echo d)" ""
ae kill --signal KILL "$id" >/dev/null

id=$(job_id "$(ae create -- sh -c 'exit 4')")
capture ae start --snapshot-after 5000 "$id"
check_eq "start, ended in the window: exited 4, with duration_ms" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT") $(json_has duration_ms "$OUT" && echo d)" \
	"exited 4 d"
check_schema "... a valid start answer" start "$(answer_file start_ended)"

capture ae run --wait -- true
check "run --wait: duration_ms" json_has duration_ms "$OUT"

# ---- wait: its own deadline, the job's timeout, the output ----------------

id=$(start_job --timeout 300 -- sh -c 'echo before; sleep 30')
capture ae wait "$id"
check_eq "wait on a job its --timeout killed: timed_out false, job_timed_out true" \
	"$(json_bool timed_out "$OUT") $(json_bool job_timed_out "$OUT")" "false true"
check_eq "... killed by 15, SIGTERM" \
	"$(json_str state "$OUT") $(json_str signal "$OUT") $(json_str signal_name "$OUT")" \
	"killed 15 SIGTERM"
check_eq "... final_snapshot with the output" "$(json_str stdout_tail "$OUT")" before
check "... finished_at and duration_ms" \
	sh -c "printf '%s' '$OUT' | grep -q '\"finished_at\".*\"duration_ms\"'"
check_schema "... a valid wait answer" wait "$(answer_file wait_job_timeout)"

id=$(start_job -- sh -c 'i=1; while [ $i -le 5 ]; do echo line$i; i=$((i+1)); done; sleep 30')
wait_for "the job wrote its 5 lines" 5 sh -c \
	"[ \$(wc -l <'$ROOT/$id/stdout.log') -ge 5 ]"
capture ae wait --timeout-ms 300 --tail-lines 2 "$id"
check_eq "wait past its deadline: timed_out true, no job_timed_out" \
	"$(json_bool timed_out "$OUT") $(json_has job_timed_out "$OUT" && echo j)" "true "
check_contains "... a snapshot" "$OUT" '"snapshot":{'
check_hasnt "... no final_snapshot" final_snapshot "$OUT"
check_eq "... bounded by --tail-lines 2" "$(json_str stdout_tail "$OUT")" \
	'line4\nline5'
check_schema "... a valid wait answer" wait "$(answer_file wait_deadline)"
capture ae wait --timeout-ms 300 --max-bytes 3 "$id"
check_between "... and by --max-bytes 3" \
	"$(json_num stdout_included_bytes "$OUT")" 1 3
ae kill --signal KILL "$id" >/dev/null
capture ae wait "$id"
check_eq "wait once killed by SIGKILL: signal 9, SIGKILL, final_snapshot" \
	"$(json_str signal "$OUT") $(json_str signal_name "$OUT") $(json_has final_snapshot "$OUT" && echo f)" \
	"9 SIGKILL f"

# ---- signal_name beside every ending signal --------------------------------

capture ae status "$id"
check_eq "status: signal 9, SIGKILL" \
	"$(json_str signal "$OUT") $(json_str signal_name "$OUT")" "9 SIGKILL"
check_schema "... a valid status answer" status "$(answer_file status_killed)"

# ---- status: what the job is, how long, its notification ------------------

mkdir -p "$TMP/st"
id=$(cd "$TMP/st" && start_job --tag t1 -- sh -c 'sleep 30')
wait_for "the job has run for a second" 5 sh -c \
	"\"\$AE_BIN\" --root '$ROOT' status '$id' | grep -q '\"elapsed_ms\":[1-9]'"
capture ae status "$id"
check_contains "status: command is the argv" "$OUT" '"command":["sh","-c","sleep 30"]'
check_eq "status: cwd" "$(json_str cwd "$OUT")" "$TMP/st"
check_contains "status: tags" "$OUT" '"tags":["t1"]'
check_hasnt "status of a running job: no duration_ms" duration_ms "$OUT"
check_contains "status: no sink, delivery none" "$OUT" \
	'"notification":{"delivery":"none","attempts":0}'
check_schema "... a valid status answer" status "$(answer_file status_running)"
ae kill "$id" >/dev/null
capture ae status "$id"
check_eq "status once ended: duration_ms, no elapsed_ms" \
	"$(json_has duration_ms "$OUT" && echo d)$(json_has elapsed_ms "$OUT" && echo e)" d

id=$(start_job --notify-file "$TMP/st/events.ndjson" -- true)
wait_for "a file sink: the delivery is recorded" 10 sh -c \
	"\"\$AE_BIN\" --root '$ROOT' status '$id' | grep -q '\"delivery\":\"delivered\"'"
capture ae status "$id"
check_contains "status: delivered after 1 attempt" "$OUT" \
	'"notification":{"delivery":"delivered","attempts":1}'
check_schema "... a valid status answer" status "$(answer_file status_delivered)"

id=$(start_job --notify-command false --notify-retries 0 -- true)
wait_for "a failing sink: the delivery fails" 10 sh -c \
	"\"\$AE_BIN\" --root '$ROOT' status '$id' | grep -q '\"delivery\":\"failed\"'"
capture ae status "$id"
check_contains "status: failed after 1 attempt" "$OUT" \
	'"notification":{"delivery":"failed","attempts":1}'

# ---- list: command, cwd_scope, signal_name ---------------------------------

capture sh -c "cd '$TMP/st' && \"\$AE_BIN\" --root '$ROOT' list"
check_eq "list: cwd_scope is the directory listed" "$(json_str cwd_scope "$OUT")" "$TMP/st"
check_contains "... its entry carries the command" "$OUT" '"command":["sh","-c","sleep 30"]'
check_contains "... and the ending signal with its name" "$OUT" \
	'"signal":"15","signal_name":"SIGTERM"'
check_schema "... a valid list answer" list "$(answer_file list_scope)"
capture ae list --all
check_contains "list --all: cwd_scope null" "$OUT" '"cwd_scope":null'
check_schema "... a valid list answer" list "$(answer_file list_all)"

# ---- kill: what it observed ---------------------------------------------------

id=$(start_job -- sleep 30)
capture ae kill --signal kill "$id"
check_eq "kill --signal kill: signal echoed, signal_name normalised" \
	"$(json_str signal "$OUT") $(json_str signal_name "$OUT")" "KILL SIGKILL"
check_eq "... killed, ending_signal 9 SIGKILL" \
	"$(json_str state "$OUT") $(json_str ending_signal "$OUT") $(json_str ending_signal_name "$OUT")" \
	"killed 9 SIGKILL"
check_between "... observed_within_ms" "$(json_num observed_within_ms "$OUT")" 0 1500
check_schema "... a valid kill answer" kill "$(answer_file kill_ended)"

id=$(start_job -- sh -c 'trap "" TERM; sleep 30')
t0=$(now_ms)
capture ae kill --no-wait "$id"
check_eq "kill --no-wait of a job that ignores TERM: still running, at once" \
	"$(json_str state "$OUT") $(json_str signal_name "$OUT") $(json_has ending_signal "$OUT" && echo e)" \
	"running SIGTERM "
check_between "... without the 1 s wait (ms)" $(($(now_ms) - t0)) 0 900
check_schema "... a valid kill answer" kill "$(answer_file kill_nowait)"
capture ae kill --signal 9 "$id"
check_eq "kill --signal 9: 0.1's signal stays \"9\", signal_name SIGKILL" \
	"$(json_str signal "$OUT") $(json_str signal_name "$OUT") $(json_str state "$OUT")" \
	"9 SIGKILL killed"
