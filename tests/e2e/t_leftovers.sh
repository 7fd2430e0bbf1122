#!/bin/sh
# What a job leaves behind: processes still running when its main process
# has ended (a `cmd &` in a script, a daemon that forks and calls setsid).
# The supervisor reaps every orphan of its job, so it knows each of them;
# status, wait, list and job.finished report them while they live, their
# output still reaches the job's logs, kill ends them, delete refuses (or
# with --force ends them), gc keeps the job, and --kill-leftovers ends them
# when the main process ends.
. "$(dirname "$0")/lib.sh"

# user-mode qemu does not emulate prctl(PR_SET_CHILD_SUBREAPER): orphans
# go to init there, and the supervisor cannot see them
if emulated; then
	echo "# skip: leftovers under qemu-user (no PR_SET_CHILD_SUBREAPER)"
	exit 0
fi

mkdir -p "$TMP/ans"
# leftovers_of ID: the "leftovers" object of the job's status ("" if none)
leftovers_of() {
	ae status "$1" | grep -o '"leftovers":{[^}]*}'
}
no_leftovers() { [ -z "$(leftovers_of "$1")" ]; }
# pid_file_of FILE: the pid a job wrote into FILE (for until_true: exists)
has_pid() { [ -s "$1" ]; }
# parent_of PID
parent_of() { proc_field "$1" 4; }
# session_of PID
session_of() { proc_field "$1" 6; }

# ---- a background command outlives its script --------------------------------------

# The job's script starts three processes and exits at once:
# - a plain `cmd &` (same process group), which prints once released;
# - one that calls setsid (a session and group of its own);
# - a daemon: a process that forks and exits, so its child is an orphan.
cat >"$TMP/leaver.sh" <<EOF
#!/bin/sh
( while [ ! -e "$TMP/release" ]; do sleep 0.05; done; echo "late line" ) &
echo \$! >"$TMP/plain.pid"
setsid sh -c 'echo \$\$ >"$TMP/setsid.pid"; exec sleep 300' >/dev/null 2>&1 &
sh -c 'sh -c "echo \\\$\\\$ >\"$TMP/daemon.pid\"; exec sleep 300" >/dev/null 2>&1 &' &
echo started
EOF
chmod +x "$TMP/leaver.sh"
capture ae run --wait --notify-file "$TMP/finished.ndjson" -- "$TMP/leaver.sh"
id=$(job_id "$OUT")
printf '%s\n' "$OUT" >"$TMP/ans/run"
check_eq "run --wait of a script that leaves 3 processes: exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
until_true 10 has_pid "$TMP/plain.pid"
until_true 10 has_pid "$TMP/setsid.pid"
until_true 10 has_pid "$TMP/daemon.pid"
plain=$(cat "$TMP/plain.pid")
setsid_pid=$(cat "$TMP/setsid.pid")
daemon=$(cat "$TMP/daemon.pid")
sup=$(record_num "$id" supervisor_pid)
check_contains "... the run answer reports the leftovers" "$OUT" '"leftovers":{"count":'
check "... all three still run" proc_running "$plain"
check "... (one left the job's session)" \
	test "$(session_of "$setsid_pid")" != "$(record_num "$id" pid)"
wait_for "... the daemon's orphan is reaped by the supervisor, not init" 10 \
	test "$(parent_of "$daemon")" = "$sup"
capture ae status "$id"
printf '%s\n' "$OUT" >"$TMP/ans/status"
left=$(leftovers_of "$id")
check_eq "status: state exited, leftovers reported" "$(json_str state "$OUT")" exited
for pid in "$plain" "$setsid_pid" "$daemon"; do
	check_match "... with pid $pid" "$left" "[[,]$pid[],]"
done
check_match "... a count" "$left" '"count":[3-9]'
capture ae wait "$id"
printf '%s\n' "$OUT" >"$TMP/ans/wait"
check_match "wait reports them too" "$OUT" \
	"\"leftovers\":{\"count\":[0-9]*,\"pids\":\\[[^]]*[[,]$setsid_pid[],]"
capture ae list
printf '%s\n' "$OUT" >"$TMP/ans/list"
check_contains "list reports them in the job's entry" "$OUT" '"leftovers":{"count":'
check_contains "state.json records them" "$(json_flat "$ROOT/$id/state.json")" \
	'"leftovers": {"count":'
wait_for "job.finished (notify file) says what the job left" 10 \
	has_lines "$TMP/finished.ndjson" 1
check_contains "... its leftovers" "$(cat "$TMP/finished.ndjson")" '"leftovers":{"count":'

# tail says they live, and --wait-ms waits through them: they may write
capture ae tail "$id"
printf '%s\n' "$OUT" >"$TMP/ans/tail"
check_contains "tail reports the leftovers (they still write to its logs)" "$OUT" \
	'"leftovers":{"count":'
cur=$(json_str cursor "$OUT")
t0=$(now_ms)
capture ae tail --cursor "$cur" --wait-ms 2000 "$id"
took=$(($(now_ms) - t0))
check_eq "tail --cursor --wait-ms of the ended job: nothing new, still their leftovers" \
	"$(json_str state "$OUT") $(json_str stdout_tail "$OUT") $(printf '%s' "$OUT" | grep -c '"leftovers":{')" \
	"exited  1"
if [ -z "${AE_UNDER_TOOL:-}" ] && ms_clock; then
	check_between "... after waiting the whole --wait-ms for them, not at once (ms)" \
		"$took" 1950 60000
fi
( ae tail --cursor "$cur" --wait-ms 30000 "$id" >"$TMP/tail-late.out"
  echo "$?" >"$TMP/tail-late.rc" ) &

# their output still goes to the job's logs
touch "$TMP/release"
wait_for "a leftover's output reaches stdout.log after the job ended" 10 \
	grep -q "late line" "$ROOT/$id/stdout.log"
wait_for "... and once it ends, it is no longer reported" 10 proc_gone "$plain"
# not_reported ID PID: status no longer names PID among the leftovers
not_reported() {
	! leftovers_of "$1" | grep -q "[[,]$2[],]"
}
wait_for "... (status)" 10 not_reported "$id" "$plain"
check_contains "tail shows the late line" "$(ae tail "$id")" "late line"
wait_for "tail --cursor --wait-ms from before: answers with the late line" 15 \
	test -s "$TMP/tail-late.rc"
check_eq "... exit 0" "$(cat "$TMP/tail-late.rc")" 0
check_contains "... the line" "$(json_str stdout_tail "$(cat "$TMP/tail-late.out")")" \
	"late line"

# ---- gc and delete keep a job whose processes run ------------------------------------

capture ae gc --older-than 0s --dry-run
printf '%s\n' "$OUT" >"$TMP/ans/gc"
check_contains "gc keeps the job: reason leftovers" "$OUT" \
	"\"job_id\":\"$id\",\"state\":\"exited\",\"action\":\"skipped\",\"reason\":\"leftovers\""
check_error "delete without --force: invalid_state" invalid_state ae delete "$id"
check_contains "... saying what runs and what to do" "$OUT" "left 2 process(es) running"
check_contains "... (kill or --force)" "$OUT" "use delete --force"
check "... the job stays" test -d "$ROOT/$id"

# ---- kill ends them -----------------------------------------------------------------------

capture ae kill "$id"
printf '%s\n' "$OUT" >"$TMP/ans/kill"
check_eq "kill of the exited job: ok, state exited, 2 leftovers signalled" \
	"$RC $(json_str state "$OUT") $(json_num leftovers_signalled "$OUT")" "0 exited 2"
wait_for "... the setsid process is gone" 10 proc_gone "$setsid_pid"
wait_for "... the daemon is gone" 10 proc_gone "$daemon"
wait_for "... status no longer reports leftovers" 10 no_leftovers "$id"
wait_for "... state.json neither" 10 sh -c "! grep -q '\"leftovers\"' '$ROOT/$id/state.json'"
wait_for "... and the supervisor, with nothing left to do, ends" 10 proc_gone "$sup"
capture ae kill "$id"
check_eq "kill again: nothing left, nothing signalled" \
	"$RC $(json_has leftovers_signalled "$OUT" && echo said)" "0 "
capture ae delete "$id"
check_eq "... now delete works" "$RC $(json_bool deleted "$OUT")" "0 true"

# ---- delete --force ----------------------------------------------------------------------

rm -f "$TMP/setsid.pid"
capture ae run --wait -- sh -c "setsid sh -c 'echo \$\$ >\"$TMP/setsid.pid\"; exec sleep 300' >/dev/null 2>&1 &"
id=$(job_id "$OUT")
until_true 10 has_pid "$TMP/setsid.pid"
pid=$(cat "$TMP/setsid.pid")
capture ae delete --force "$id"
check_eq "delete --force of a job with a leftover: deleted" "$RC $(json_bool deleted "$OUT")" "0 true"
check "... the leftover is gone" until_true 10 proc_gone "$pid"
check "... so is the directory" test ! -e "$ROOT/$id"

# ---- a notify command is not a leftover ------------------------------------------------

capture ae run --wait --notify-command "while [ ! -e '$TMP/notify-go' ]; do sleep 0.05; done" \
	-- true
id=$(job_id "$OUT")
until_true 10 test -e "$ROOT/$id/completion_event.json"
check "while its notify command runs, the job reports no leftovers" no_leftovers "$id"
touch "$TMP/notify-go"
wait_for "... which then delivers" 10 delivery_is "$id" delivered

# ---- --kill-leftovers ----------------------------------------------------------------------

rm -f "$TMP/setsid.pid" "$TMP/stubborn.pid"
capture ae run --wait --kill-leftovers --kill-after 1000 -- sh -c "
	setsid sh -c 'echo \$\$ >\"$TMP/setsid.pid\"; exec sleep 300' >/dev/null 2>&1 &
	sh -c 'trap \"\" TERM; echo \$\$ >\"$TMP/stubborn.pid\"; while :; do sleep 1; done' >/dev/null 2>&1 &
	while [ ! -s '$TMP/setsid.pid' ] || [ ! -s '$TMP/stubborn.pid' ]; do sleep 0.05; done"
id=$(job_id "$OUT")
printf '%s\n' "$OUT" >"$TMP/ans/run.kill"
check_eq "run --kill-leftovers: exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
wait_for "... the leftover goes with the main process (SIGTERM)" 10 \
	proc_gone "$(cat "$TMP/setsid.pid")"
wait_for "... one that ignores SIGTERM goes after --kill-after (SIGKILL)" 10 \
	proc_gone "$(cat "$TMP/stubborn.pid")"
check_match "... state.json records that it ended them" \
	"$(json_flat "$ROOT/$id/state.json")" '"leftovers_killed": [2-9]'
check_contains "... meta.json records the option" \
	"$(json_flat "$ROOT/$id/meta.json")" '"kill_leftovers": true'
wait_for "... status reports no leftovers any more" 10 no_leftovers "$id"
check_match "... and says it killed them" "$(ae status "$id")" '"leftovers_killed":[2-9]'

# without --kill-after: SIGKILL after a grace of 1 s
rm -f "$TMP/stubborn.pid"
capture ae run --wait --kill-leftovers -- sh -c "
	sh -c 'trap \"\" TERM; echo \$\$ >\"$TMP/stubborn.pid\"; while :; do sleep 1; done' >/dev/null 2>&1 &
	while [ ! -s '$TMP/stubborn.pid' ]; do sleep 0.05; done"
check_eq "run --kill-leftovers without --kill-after: exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
wait_for "... a leftover that ignores SIGTERM still goes (SIGKILL after 1 s)" 10 \
	proc_gone "$(cat "$TMP/stubborn.pid")"

# create --kill-leftovers, and start --kill-leftovers of a job created without
for how in create start; do
	rm -f "$TMP/setsid.pid"
	if [ $how = create ]; then
		capture ae create --kill-leftovers -- sh -c "setsid sh -c 'echo \$\$ >\"$TMP/setsid.pid\"; exec sleep 300' >/dev/null 2>&1 & while [ ! -s '$TMP/setsid.pid' ]; do sleep 0.05; done"
		capture ae start --wait "$(job_id "$OUT")"
	else
		capture ae create -- sh -c "setsid sh -c 'echo \$\$ >\"$TMP/setsid.pid\"; exec sleep 300' >/dev/null 2>&1 & while [ ! -s '$TMP/setsid.pid' ]; do sleep 0.05; done"
		capture ae start --wait --kill-leftovers "$(job_id "$OUT")"
	fi
	printf '%s\n' "$OUT" >"$TMP/ans/start.$how"
	check_eq "$how --kill-leftovers, start --wait: exited 0" \
		"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
	wait_for "... its leftover is ended" 10 proc_gone "$(cat "$TMP/setsid.pid")"
done

# ---- the supervisor killed after the job ended: leftovers still seen ---------------

rm -f "$TMP/setsid.pid"
capture ae run --wait -- sh -c "setsid sh -c 'echo \$\$ >\"$TMP/setsid.pid\"; exec sleep 300' >/dev/null 2>&1 & while [ ! -s '$TMP/setsid.pid' ]; do sleep 0.05; done"
id=$(job_id "$OUT")
pid=$(cat "$TMP/setsid.pid")
sup=$(record_num "$id" supervisor_pid)
kill -KILL "$sup"
wait_for "a supervisor killed after its job ended" 10 proc_gone "$sup"
check_match "... status still reports the leftover (by the job's marks)" \
	"$(leftovers_of "$id")" "\"pids\":\\[$pid\\]"
check_eq "... the job stays exited" "$(state_of "$id")" exited
capture ae kill --signal KILL "$id"
check_eq "... kill ends it" "$(json_num leftovers_signalled "$OUT")" 1
wait_for "... gone" 10 proc_gone "$pid"
# forgotten ID: a look at the job leaves state.json without leftovers
forgotten() {
	ae status "$1" >/dev/null
	! grep -q '"leftovers"' "$ROOT/$1/state.json"
}
wait_for "... and the record forgets it at the next look" 10 forgotten "$id"

# ---- the answers match the schema --------------------------------------------------------

check_schema "the run answers are run answers" run "$TMP/ans/run" "$TMP/ans/run.kill"
check_schema "the start answers are start answers" start "$TMP"/ans/start.*
check_schema "the status answer is a status" status "$TMP/ans/status"
check_schema "the tail answer is a tail" tail "$TMP/ans/tail"
check_schema "the wait answer is a wait" wait "$TMP/ans/wait"
check_schema "the list answer is a list" list "$TMP/ans/list"
check_schema "the kill answer is a kill" kill "$TMP/ans/kill"
check_schema "the gc answer is a gc" gc "$TMP/ans/gc"
check_schema "job.finished with leftovers is a job_finished_event" job_finished_event \
	--lines "$TMP/finished.ndjson"
