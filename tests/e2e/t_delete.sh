#!/bin/sh
# delete: finished, failed, killed and created jobs, the refusal of a running
# job, --force on a job and on a whole process group, unknown and bad ids.
. "$(dirname "$0")/lib.sh"

# group_size PGID: how many live processes the group has.
group_size() {
	_n=0
	for _p in /proc/[0-9]*; do
		_p=${_p#/proc/}
		[ "$(proc_field "$_p" 5)" = "$1" ] && proc_running "$_p" && _n=$((_n + 1))
	done
	echo "$_n"
}
# group_has PGID N: the group has at least N live processes.
group_has() { [ "$(group_size "$1")" -ge "$2" ]; }
# group_gone PGID: no live process is left in the group.
group_gone() { [ "$(group_size "$1")" = 0 ]; }

# ---- finished jobs --------------------------------------------------------------------

id=$(job_id "$(ae run --wait -- sh -c 'echo output; exit 3')")
bytes=$(dir_bytes "$ROOT/$id")
capture ae delete "$id"
check_eq "delete of a finished job: exit 0, one line" "$RC $OUT_LINES" "0 1"
check_eq "delete: the answer" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"delete","job_id":"'"$id"'","state":"exited","deleted":true,"freed_bytes":'"$bytes"'}'
check "delete: the directory is gone" test ! -e "$ROOT/$id"
check_error "status after delete: job_not_found" job_not_found ae status "$id"
check_error "delete again: job_not_found" job_not_found ae delete "$id"

id=$(job_id "$(ae run --wait --cwd "$TMP/none" -- true)")
out=$(ae delete "$id")
check_eq "delete of a failed job" \
	"$(json_str state "$out") $(json_bool deleted "$out")" "failed true"
check "... gone" test ! -e "$ROOT/$id"

id=$(start_job -- sleep 30)
ae kill --signal KILL "$id" >/dev/null
out=$(ae delete "$id")
check_eq "delete of a killed job" \
	"$(json_str state "$out") $(json_bool deleted "$out")" "killed true"
check "... gone" test ! -e "$ROOT/$id"

id=$(job_id "$(ae create -- true)")
out=$(ae delete "$id")
check_eq "delete of a created job" \
	"$(json_str state "$out") $(json_bool deleted "$out")" "created true"
check "... gone" test ! -e "$ROOT/$id"

id=$(job_id "$(ae run --wait -- true)")
out=$(ae delete "$(printf '%s' "$id" | cut -c1-20)")
check_eq "delete by an unambiguous id prefix" "$(job_id "$out")" "$id"
check "... gone" test ! -e "$ROOT/$id"

# ---- running jobs ------------------------------------------------------------------------

id=$(start_job -- sleep 30)
pid=$(record_num "$id" pid)
check_error "delete of a running job: invalid_state" invalid_state \
	ae delete "$id"
check "... the directory is kept" test -f "$ROOT/$id/state.json"
check "... the job keeps running" proc_running "${pid:-0}"
check_eq "... status still says running" "$(state_of "$id")" running

capture ae delete --force "$id"
check_eq "delete --force of a running job: exit 0" "$RC" 0
check_eq "delete --force: state killed, deleted" \
	"$(json_str state "$OUT") $(json_bool deleted "$OUT")" "killed true"
check_match "delete --force: freed_bytes" "$(json_num freed_bytes "$OUT")" \
	'^[0-9]+$'
check "delete --force: the directory is gone" test ! -e "$ROOT/$id"
wait_for "delete --force: the process is gone" 3 proc_gone "${pid:-0}"

id=$(start_job -- sh -c 'sleep 30 & sleep 30; wait')
pid=$(record_num "$id" pid)
wait_for "a job with two sleeps: 3 processes in its group" 3 \
	group_has "${pid:-0}" 3
out=$(ae delete --force "$id")
check_eq "delete --force of a process group: killed, deleted" \
	"$(json_str state "$out") $(json_bool deleted "$out")" "killed true"
check "... the directory is gone" test ! -e "$ROOT/$id"
wait_for "... no process of the group is left" 3 group_gone "${pid:-0}"

id=$(job_id "$(ae run --wait -- true)")
out=$(ae delete --force "$id")
check_eq "delete --force of a finished job: plain delete" \
	"$(json_str state "$out") $(json_bool deleted "$out")" "exited true"

# ---- errors ----------------------------------------------------------------------------------

check_error "delete of an unknown id: job_not_found" job_not_found \
	ae delete 01ZZZZZZZZZZZZZZZZZZZZZZZZ
check_error "delete ../x: invalid_job_id" invalid_job_id ae delete ../x
check "... nothing outside the root was touched" test -d "$TMP"
check_usage_error "delete without an id: usage error" ae delete
check_usage_error "delete --bogus: usage error" ae delete --bogus x

# a job whose state.json cannot be read: refused, but --force takes it
# once no supervisor has it (its locks say so); one that still runs stays
id=$(job_id "$(ae run --wait -- true)")
echo '{garbled' >"$ROOT/$id/state.json"
check_error "delete of a job whose state.json is garbled: corrupt_record" \
	corrupt_record ae delete "$id"
check "... the job is still there" test -d "$ROOT/$id"
capture ae delete --force "$id"
check_eq "delete --force of it: deleted, state unknown" \
	"$RC $(json_str state "$OUT") $(json_bool deleted "$OUT")" "0 unknown true"
check "... its directory is gone" test ! -e "$ROOT/$id"
id=$(start_job -- sh -c 'echo $$ >"$1"; exec sleep 30' sh "$TMP/garbled.pid")
until_true 10 test -s "$TMP/garbled.pid"
echo '{garbled' >"$ROOT/$id/state.json"
capture ae delete --force "$id"
check_eq "... but one whose supervisor still runs is refused" \
	"$RC $(json_str code "$OUT")" "1 invalid_state"
check "... and stays" test -d "$ROOT/$id"
kill "$(cat "$TMP/garbled.pid")"	# its end is recorded anew

# ---- deletes seen by concurrent readers -------------------------------------------------
# A job being deleted is there or gone, never half there: no reader may see
# a corrupt record (the deletion must look atomic).

# 8 waits blocked on 8 running jobs that are force-deleted
ids=""
waiters=""
i=0
while [ $i -lt 8 ]; do
	id=$(start_job -- sleep 30)
	ids="$ids $id"
	"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/blocked.$i.out" 2>&1 &
	waiters="$waiters $!"
	i=$((i + 1))
done
# a bounded wait is our 1 s clock: the waiters are blocked by then
ae wait --timeout-ms 1000 "$id" >/dev/null
for id in $ids; do ae delete --force "$id" >/dev/null; done
# all_gone PID...: none of the processes runs any more.
all_gone() {
	for _p in "$@"; do proc_gone "$_p" || return 1; done
}
# shellcheck disable=SC2086 # one argument per pid
until_true 5 all_gone $waiters
check_eq "blocked waits on force-deleted jobs all return" \
	"$(cat "$TMP"/blocked.*.out | grep -c '"type":')" 8
check_eq "... each saying killed (or job_not_found), never corrupt_record" \
	"$(cat "$TMP"/blocked.*.out | grep -c -e '"state":"killed"' -e '"code":"job_not_found"')" 8
grep -h corrupt_record "$TMP"/blocked.*.out | cut -c1-300 | sed 's/^/#   /'
# shellcheck disable=SC2086
kill $waiters 2>/dev/null

# status and list in loops while 20 finished jobs are deleted
ids=""
i=0
while [ $i -lt 20 ]; do
	ids="$ids $(job_id "$(ae run --wait -- true)")"
	i=$((i + 1))
done
status_reader() {
	while [ ! -e "$TMP/deletes.done" ]; do
		for _id in $ids; do "$AE_BIN" --root "$ROOT" status "$_id"; done
	done >"$TMP/reads.status.$1"
}
list_reader() {
	while [ ! -e "$TMP/deletes.done" ]; do
		"$AE_BIN" --root "$ROOT" list --all
	done >"$TMP/reads.list.$1"
}
status_reader 1 &
s1=$!
status_reader 2 &
s2=$!
list_reader 1 &
l1=$!
list_reader 2 &
l2=$!
for id in $ids; do ae delete "$id" >/dev/null; done
: >"$TMP/deletes.done"
wait "$s1" "$s2" "$l1" "$l2"
check_eq "status while jobs are deleted: never corrupt_record" \
	"$(cat "$TMP"/reads.status.* | grep -c corrupt_record)" 0
check_eq "list while jobs are deleted: never an error" \
	"$(cat "$TMP"/reads.list.* | grep -c '"ok":false')" 0
check_eq "list while jobs are deleted: never a skipped (half-deleted) job" \
	"$(cat "$TMP"/reads.list.* | grep -c '"skipped":[1-9]')" 0

# delete racing tag set and notify set on the same job: a delete either
# removes the whole job or fails and changes nothing (the job is there,
# intact); it never hides a job it could not remove.
lost=""
# (fewer under valgrind and the sanitizers, where each command is slow)
rounds=30
writes=20
[ -n "${AE_UNDER_TOOL:-}" ] && rounds=4 && writes=5
i=0
while [ $i -lt $rounds ]; do
	id=$(job_id "$(ae run --wait -- true)")
	(
		n=0
		while [ $n -lt $writes ]; do
			"$AE_BIN" --root "$ROOT" tag set "$id" --tag "t$n" >/dev/null 2>&1
			"$AE_BIN" --root "$ROOT" notify set "$id" --command "true $n" >/dev/null 2>&1
			n=$((n + 1))
		done
	) &
	writer=$!
	capture ae delete "$id"
	wait "$writer"
	if [ "$(json_bool ok "$OUT")" = true ]; then
		[ -e "$ROOT/$id" ] && lost="$lost [$id deleted but still there]"
	else
		st=$(state_of "$id")
		[ "$st" = exited ] || lost="$lost [$id: $(json_text message "$OUT"); then status $st]"
	fi
	i=$((i + 1))
done
check_eq "$rounds deletes racing tag set and notify set: each removed the job or changed nothing" "$lost" ""
check_eq "... no hidden half-deleted job is left" "$(ls -A "$ROOT" | grep -c '^\.deleted-')" 0
