#!/bin/sh
# The supervisor is detached: its own session, stdio on /dev/null, not the
# caller's child; the job survives signals to the caller's process group;
# output without newlines keeps memory and full.log lines bounded.
. "$(dirname "$0")/lib.sh"

# ---- session and descriptors -----------------------------------------------------

id=$(start_job -- sleep 30)
pid=$(record_num "$id" pid)
sup=$(record_num "$id" supervisor_pid)
check "the supervisor runs" proc_running "$sup"
# differ A B: two known, different values
differ() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]; }
check "the supervisor is not in the caller's session" \
	differ "$(proc_field "$sup" 6)" "$(proc_field $$ 6)"
check "the supervisor is not in the caller's process group" \
	differ "$(proc_field "$sup" 5)" "$(proc_field $$ 5)"
check "the supervisor is not the caller's child" \
	differ "$(proc_field "$sup" 4)" $$
for fd in 0 1 2; do
	check_eq "the supervisor's fd $fd is /dev/null" \
		"$(readlink "/proc/$sup/fd/$fd")" /dev/null
done
check_eq "the job's stdin is /dev/null" "$(readlink "/proc/$pid/fd/0")" /dev/null
case $(readlink "/proc/$pid/fd/1") in
pipe:*) ok "the job's stdout is a pipe" ;;
*) not_ok "the job's stdout is a pipe"; readlink "/proc/$pid/fd/1" | sed 's/^/#   /' ;;
esac
check_eq "the job inherits no other descriptor" \
	"$(ls "/proc/$pid/fd" | sort | tr '\n' ' ')" "0 1 2 "
check "the job is not in the caller's session" \
	differ "$(proc_field "$pid" 6)" "$(proc_field $$ 6)"
# the supervisor keeps nothing of the caller's: only /dev/null, the job's
# files, pipes and anonymous inodes (signalfd, eventfd)
foreign=""
[ -d "/proc/$sup/fd" ] || foreign="no /proc/$sup/fd"
for fd in /proc/"$sup"/fd/*; do
	target=$(readlink "$fd") || continue
	case $target in
	/dev/null | "$ROOT"/* | pipe:* | anon_inode:*) ;;
	*) foreign="$foreign $fd=$target" ;;
	esac
done
check_eq "the supervisor holds no descriptor of the caller's" "$foreign" ""
ae kill --signal KILL "$id" >/dev/null

# ---- signals to the caller's process group --------------------------------------

if command -v setsid >/dev/null 2>&1; then
	# A: the launcher runs in its own session and group and, right after
	# run answers, HUPs and KILLs that whole group (itself included).
	AE_ROOT_FOR_LAUNCHER=$ROOT setsid sh -c '
		"$1" --root "$AE_ROOT_FOR_LAUNCHER" run --snapshot-after 0 -- \
			sh -c "sleep 2; echo survived" >"$2.tmp"
		mv "$2.tmp" "$2"
		trap "" HUP
		kill -HUP 0
		kill -KILL 0
	' launcher "$AE_BIN" "$TMP/a.out" </dev/null >/dev/null 2>&1 &
	# B: the group is HUPed and KILLed from outside while run is still
	# waiting for its snapshot.
	AE_ROOT_FOR_LAUNCHER=$ROOT setsid sh -c '
		echo $$ >"$2.pgid"
		exec "$1" --root "$AE_ROOT_FOR_LAUNCHER" run --snapshot-after 10000 \
			-- sh -c "sleep 2; echo survived too" >"$2"
	' launcher "$AE_BIN" "$TMP/b.out" </dev/null >/dev/null 2>&1 &
	# job_b: the job B started (the dir whose meta.json has "survived too")
	job_b() {
		grep -l 'survived too' "$ROOT"/*/meta.json 2>/dev/null |
			sed 's|/meta.json$||; s|^.*/||' | head -n 1
	}
	b_running() { [ -n "$(job_b)" ] && is_state "$(job_b)" running; }
	wait_for "B: the job runs while run waits for its snapshot" 5 b_running
	pgid=$(cat "$TMP/b.out.pgid")
	kill -HUP "-$pgid" 2>/dev/null
	kill -KILL "-$pgid" 2>/dev/null
	b_gone() { ! kill -0 "-$pgid" 2>/dev/null; }
	wait_for "B: the launcher's group is gone" 3 b_gone
	check_eq "B: the killed run printed nothing" "$(file_size "$TMP/b.out")" 0
	id_b=$(job_b)
	a_done() { [ -s "$TMP/a.out" ]; }
	wait_for "A: the launcher ran the job, then killed its group" 5 a_done
	id_a=$(job_id "$(cat "$TMP/a.out" 2>/dev/null)")
	check_eq "A: right after the group was killed the job runs" \
		"$(state_of "$id_a")" running
	for v in a b; do
		eval "id=\$id_$v"
		wait_for "$v: the job survives and finishes normally" 6 \
			is_state "$id" exited
		check_eq "$v: with exit code 0" \
			"$(json_num exit_code "$(ae status "$id")")" 0
	done
	check_eq "A: all its output" "$(cat "$ROOT/$id_a/stdout.log" 2>/dev/null)" \
		survived
	check_eq "B: all its output" "$(cat "$ROOT/$id_b/stdout.log" 2>/dev/null)" \
		"survived too"
else
	echo "# setsid missing: cannot test signals to the caller's group"
	not_ok "setsid is available for the process group test"
fi

# ---- 20 MB without a newline ----------------------------------------------------------

out=$(ae run --wait -- sh -c "head -c 20000000 /dev/zero | tr '\\000' a")
id=$(job_id "$out")
check_eq "20 MB without newlines: the job exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_eq "stdout.log has every byte" "$(file_size "$ROOT/$id/stdout.log")" \
	20000000
check_eq "stdout.log is only a's" \
	"$(tr -d a <"$ROOT/$id/stdout.log" | wc -c | tr -d ' ')" 0
longest=$(LC_ALL=C awk '{ if (length($0) > max) max = length($0) }
	END { print max + 0 }' "$ROOT/$id/full.log")
check_between "full.log lines stay bounded (<= 64 KiB)" "$longest" 1 65536
check_eq "full.log still holds every byte, split into lines" \
	"$(sed 's/^[^]]*\] //' "$ROOT/$id/full.log" | tr -d '\n' | wc -c | tr -d ' ')" \
	20000000
check "full.log lines are all [STDOUT] lines" \
	test "$(grep -c '\[STDOUT\] ' "$ROOT/$id/full.log")" -eq \
	"$(wc -l <"$ROOT/$id/full.log")"
check_eq "the tail is bounded by --max-bytes" \
	"$(json_num stdout_included_bytes "$out")" 65536
