#!/bin/sh
# run: the answer's keys and their presence rules, the true state, the
# snapshot, launch failures, cwd, how the command is executed, the caller's
# pipe. Environment, --log and the three logs are in t_run_io.sh.
. "$(dirname "$0")/lib.sh"

# The 10 s clamp of --snapshot-after takes 10 s: measure it in the
# background while the rest runs.
(
	t0=$(now_ms)
	ae run --snapshot-after 60000 -- sleep 30 >"$TMP/clamp.out"
	echo $(($(now_ms) - t0)) >"$TMP/clamp.ms"
) &
clamp_pid=$!

# ---- without --wait, no snapshot ---------------------------------------------

out=$(ae run --snapshot-after 0 -- sleep 30)
id=$(job_id "$out")
case $out in
'{"schema_version":"0.1","ok":true,"type":"run",'*) ok "run: the envelope" ;;
*) not_ok "run: the envelope"; echo "#   $out" ;;
esac
check_match "run: job_id is a ULID" "$id" "$ID_RE"
check_eq "run: a sleeping job is running" "$(json_str state "$out")" running
check_contains "run: tags is []" "$out" '"tags":[]'
check_hasnt "run --snapshot-after 0: no snapshot" snapshot "$out"
check_eq "run --snapshot-after 0: waited_ms is exactly 0" \
	"$(json_num waited_ms "$out")" 0
check_match "run: elapsed_ms is a number" "$(json_num elapsed_ms "$out")" \
	'^[0-9]+$'
for key in exit_code finished_at final_snapshot env_vars; do
	check_hasnt "run without --wait: no $key" "$key" "$out"
done
check_eq "run: stdout_log_path is the job's stdout.log" \
	"$(json_str stdout_log_path "$out")" "$ROOT/$id/stdout.log"
check_eq "run: stderr_log_path is the job's stderr.log" \
	"$(json_str stderr_log_path "$out")" "$ROOT/$id/stderr.log"
check "run: stdout.log exists when run returns" \
	test -f "$(json_str stdout_log_path "$out")"
check "run: stderr.log exists when run returns" \
	test -f "$(json_str stderr_log_path "$out")"
check "run: full.log exists when run returns" test -f "$ROOT/$id/full.log"
check_eq "run: one line of compact JSON" \
	"$(ae run --snapshot-after 0 -- true | wc -l | tr -d ' ')" 1

# The recorded pid is the command itself, leader of its own group.
pid=$(record_num "$id" pid)
check_eq "the recorded pid is the command (sleep)" \
	"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" "sleep 30 "
check_eq "the command leads its own process group" "$(proc_field "$pid" 5)" \
	"$pid"
check_eq "status reports the same pid" "$(json_num pid "$(ae status "$id")")" \
	"${pid:-missing}"

# ---- the snapshot --------------------------------------------------------------

t0=$(now_ms)
out=$(ae run --snapshot-after 5000 -- true)
took=$(($(now_ms) - t0))
check_eq "run of a job that ended at once says exited" \
	"$(json_str state "$out")" exited
check_between "the snapshot wait ends when the job ends (ms)" "$took" 0 3000
check_between "waited_ms is below the snapshot delay" \
	"$(json_num waited_ms "$out")" 0 3000
check_has "run --snapshot-after 5000: a snapshot" snapshot "$out"
snap=$(printf '%s' "$out" | sed 's/.*"snapshot":{\([^}]*\)}.*/\1/')
for key in stdout_tail stderr_tail truncated encoding stdout_observed_bytes \
	stderr_observed_bytes stdout_included_bytes stderr_included_bytes; do
	check_has "snapshot has $key" "$key" "$snap"
done
check_eq "snapshot encoding" "$(json_str encoding "$snap")" utf-8-lossy
# ended inside the window: how it ended (issue 15), still no final_snapshot
check_eq "run without --wait, ended in the window: exit_code, finished_at" \
	"$(json_num exit_code "$out") $(json_has finished_at "$out" && echo f)" "0 f"
check_hasnt "run without --wait: no final_snapshot" final_snapshot "$out"

out=$(ae run --snapshot-after 1000 -- sh -c 'echo early; echo oops >&2; sleep 30')
check_eq "snapshot of a running job: state running" \
	"$(json_str state "$out")" running
check_eq "snapshot: stdout so far" "$(json_str stdout_tail "$out")" early
check_eq "snapshot: stderr so far" "$(json_str stderr_tail "$out")" oops
check_eq "snapshot: observed bytes" \
	"$(json_num stdout_observed_bytes "$out")" 6
check_eq "snapshot: included bytes" \
	"$(json_num stdout_included_bytes "$out")" 5
check_between "snapshot of a running job waits the full delay (waited_ms)" \
	"$(json_num waited_ms "$out")" 950 4000
check_between "elapsed_ms covers waited_ms" "$(json_num elapsed_ms "$out")" \
	"$(json_num waited_ms "$out")" 60000

out=$(ae run --snapshot-after 3000 --tail-lines 2 -- seq 1 10)
check_eq "--tail-lines shapes the snapshot" "$(json_str stdout_tail "$out")" \
	'9\n10'
check_eq "--tail-lines: snapshot truncated" "$(json_bool truncated "$out")" true
out=$(ae run --snapshot-after 3000 --max-bytes 4 -- printf abcdefgh)
check_eq "--max-bytes shapes the snapshot" "$(json_str stdout_tail "$out")" \
	efgh
out=$(ae run --wait --tail-lines 3 -- seq 1 10)
check_eq "--tail-lines shapes the final snapshot" \
	"$(json_str stdout_tail "$out")" '8\n9\n10'
out=$(ae run --snapshot-after 3000 -- seq 1 10)
check_eq "default snapshot: all 10 lines, not truncated" \
	"$(json_bool truncated "$out") $(json_str stdout_tail "$out")" \
	"false $(seq 1 10 | join_lines)"

# ---- --wait --------------------------------------------------------------------

out=$(ae run --wait -- sh -c 'echo hello; exit 42')
check_eq "run --wait: exited" "$(json_str state "$out")" exited
check_eq "run --wait: exit code 42" "$(json_num exit_code "$out")" 42
check_match "run --wait: finished_at" "$(json_str finished_at "$out")" "$TS_RE"
check_has "run --wait: final_snapshot" final_snapshot "$out"
check_hasnt "run --wait: no snapshot" snapshot "$out"
check_eq "run --wait: final snapshot has the output" \
	"$(json_str stdout_tail "$out")" hello
check_eq "status agrees on the exit code" \
	"$(json_num exit_code "$(ae status "$(job_id "$out")")")" 42

# ---- launch failures -------------------------------------------------------------

out=$(ae run --wait -- nosuchcommand-xyz --flag)
check_eq "run --wait of a missing program: failed" "$(json_str state "$out")" \
	failed
check_contains "the error names the missing program" \
	"$(json_text error "$out")" nosuchcommand-xyz
check_hasnt "a failed launch has no exit_code" exit_code "$out"
st=$(ae status "$(job_id "$out")")
check_eq "status agrees: failed" "$(json_str state "$st")" failed
check_contains "status has the same error" "$(json_text error "$st")" \
	nosuchcommand-xyz
out=$(ae run --snapshot-after 0 -- nosuchcommand-xyz --flag)
check_eq "run without --wait of a missing program: failed at once" \
	"$(json_str state "$out")" failed

# A plain single word that names no program cannot be launched either.
out=$(ae run --wait -- nosuchcommand-xyz)
check_eq "run --wait -- nosuchcommand-xyz: failed" "$(json_str state "$out")" \
	failed
check_contains "... with an error naming it" "$(json_text error "$out")" \
	nosuchcommand-xyz
check_eq "... and status agrees" \
	"$(json_str state "$(ae status "$(job_id "$out")")")" failed

out=$(ae run --wait --cwd /nonexistent -- true)
check_eq "run --cwd /nonexistent: failed" "$(json_str state "$out")" failed
check_contains "the error names the directory" "$(json_text error "$out")" \
	/nonexistent
out=$(ae run --snapshot-after 0 --cwd /nonexistent -- true)
check_eq "run --cwd /nonexistent without --wait: failed" \
	"$(json_str state "$out")" failed

# ---- cwd -------------------------------------------------------------------------

mkdir -p "$TMP/work/sub"
work=$(cd "$TMP/work" && pwd -P)
out=$(ae run --wait --cwd "$TMP/work" -- pwd -P)
check_eq "--cwd DIR: the job runs there" "$(json_str stdout_tail "$out")" \
	"$work"
out=$(cd "$TMP/work" && ae run --wait --cwd sub -- pwd -P)
check_eq "a relative --cwd is relative to the caller" \
	"$(json_str stdout_tail "$out")" "$work/sub"
out=$(cd "$TMP/work/sub" && ae run --wait -- pwd -P)
check_eq "without --cwd the job runs in the caller's directory" \
	"$(json_str stdout_tail "$out")" "$work/sub"

# ---- how the command runs --------------------------------------------------------

out=$(ae run --wait 'echo a; echo b')
check_eq "a single word is a shell script" "$(json_str stdout_tail "$out")" \
	'a\nb'
out=$(ae run --wait -- printf '%s|' 'a b' "c'd" '$HOME' '*')
check_eq "several words are executed directly, verbatim" \
	"$(json_str stdout_tail "$out")" "a b|c'd|\$HOME|*|"
out=$(ae run --wait -- sh -c 'echo "$#:$1:$2"' zero 'x y' '')
check_eq "empty and spaced arguments are kept" \
	"$(json_str stdout_tail "$out")" "2:x y:"
out=$(ae run --wait -- sh -c 'read -r line; echo "[$line]"')
check_eq "the job's stdin is empty (/dev/null)" \
	"$(json_str stdout_tail "$out")" "[]"

# ---- the caller's pipe ------------------------------------------------------------

t0=$(now_ms)
ae run --snapshot-after 0 -- sleep 5 2>&1 | cat >/dev/null
check_between "run --snapshot-after 0 -- sleep 5 | cat returns at once (ms)" \
	$(($(now_ms) - t0)) 0 3000
# the default window: a job that ends in it is waited for, pipe or not
t0=$(now_ms)
out=$(ae run -- sleep 1 | cat)
check_between "run -- sleep 1 | cat (default window) answers when the job ends (ms)" \
	$(($(now_ms) - t0)) 900 8000
check_eq "... exited" "$(json_str state "$out")" exited
t0=$(now_ms)
ae run --snapshot-after 0 -- sh -c 'sleep 5 & echo started' | cat >/dev/null
check_between "... also when a background descendant lingers (ms)" \
	$(($(now_ms) - t0)) 0 3000

# ---- the snapshot clamp (started at the top) -------------------------------------

wait "$clamp_pid"
out=$(cat "$TMP/clamp.out")
check_eq "--snapshot-after 60000 on a long job: running" \
	"$(json_str state "$out")" running
check_between "--snapshot-after is clamped to 10000 (waited_ms)" \
	"$(json_num waited_ms "$out")" 9000 11000
check_between "--snapshot-after 60000 returns after about 10 s (ms)" \
	"$(cat "$TMP/clamp.ms")" 9000 13000
check_eq "... and says so: clamped.snapshot_after_ms" \
	"$(printf '%s' "$out" | grep -o '"clamped":{[^}]*}')" \
	'"clamped":{"snapshot_after_ms":10000}'
printf '%s\n' "$out" >"$TMP/clamped.json"
check_schema "... an answer the schema describes (run)" run "$TMP/clamped.json"
out=$(ae run --snapshot-after 10s -- true)
check_lacks "--snapshot-after 10s (not above the limit): no clamped" "$out" clamped

# ---- durations take units --------------------------------------------------------
out=$(ae run --snapshot-after 5s --timeout 300ms --kill-after 1s -- sleep 30)
check_eq "--timeout 300ms: the job is timed out" \
	"$(json_str state "$(ae wait --timeout-ms 1m "$(job_id "$out")")")" killed
for opt in --snapshot-after --timeout --kill-after --progress-every \
	--wait-poll-ms --notify-timeout; do
	check_usage_error "run $opt 5x: usage error" ae run "$opt" 5x -- true
	check_contains "... naming the option and the units" "$ERR" \
		"$opt: invalid duration \"5x\" (milliseconds, or a number and ms, s, m, h or d"
done
check_usage_error "wait --timeout-ms 1w: usage error" ae wait --timeout-ms 1w 01ABC
capture ae wait --timeout-ms 100ms --poll-ms 1s "$(job_id "$out")"
check_eq "wait --timeout-ms 100ms --poll-ms 1s: accepted" "$RC" 0
