#!/bin/sh
# The newer tool's spellings honoured where they keep 0.1 (issue 18):
# run/start/restart --no-wait and --forever, wait --until/--forever/--poll,
# tail --lines, -V, ps and rm; the misreads refused (a flag's "value" that
# would start the command); the hint for a bare duration below 1000.
. "$(dirname "$0")/lib.sh"

# count_dirs: job directories in the root (0 when it does not exist).
count_dirs() { find "$ROOT" -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | wc -l | tr -d ' '; }
# blocker: a job that runs until $TMP/go exists; its id.
blocker() { start_job -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' b "$TMP/go"; }

# ---- a flag's value that would become the command ----

for word in false true yes no on off; do
	check_usage_error "run --wait $word -- echo hi: a usage error" \
		"$AE_BIN" --root "$ROOT" run --wait "$word" -- echo hi
done
check_contains "... naming the flag and the word" "$ERR" '--wait takes no value: "off" would start the command'
check_eq "... and nothing was created" "$(count_dirs)" 0
check_usage_error "run --forever false echo hi: a usage error" \
	"$AE_BIN" --root "$ROOT" run --forever false echo hi
check_usage_error "create --pty yes -- sh: a usage error" \
	"$AE_BIN" --root "$ROOT" create --pty yes -- sh
check_eq "... nothing was created" "$(count_dirs)" 0
capture ae run --wait false
check_eq "run --wait false alone runs the command false (exit 0)" "$RC" 0
check_eq "... which exited 1" "$(json_num exit_code "$OUT")" 1
capture ae run --wait true
check_eq "run --wait true alone runs the command true" "$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
capture ae run --wait -- false -- echo hi
check_eq "after --, false -- echo hi is the command (exit 1)" "$(json_num exit_code "$OUT")" 1

# ---- run/start/restart: --no-wait, --forever ----

capture ae run --no-wait -- sleep 30
id=$(job_id "$OUT")
check_eq "run --no-wait answers at once, the job running" "$(json_str state "$OUT")" running
check "... without a snapshot (as --snapshot-after 0)" sh -c 'case $1 in *'"'"'"snapshot"'"'"'*) exit 1 ;; esac' x "$OUT"
ae kill --signal KILL "$id" >/dev/null
check_usage_error "--no-wait with --snapshot-after: a usage error" \
	"$AE_BIN" --root "$ROOT" run --no-wait --snapshot-after 5 -- true
check_usage_error "--no-wait with --wait: a usage error" \
	"$AE_BIN" --root "$ROOT" run --no-wait --wait -- true
check_usage_error "--no-wait with --until: a usage error" \
	"$AE_BIN" --root "$ROOT" run --no-wait --until 5s -- true
capture ae run --forever -- sh -c 'sleep 1; exit 3'
check_eq "run --forever waits for the end, as --wait" "$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 3"
capture ae run --forever --exit-status -- sh -c 'exit 4'
check_eq "run --forever --exit-status exits with the job's code" "$RC" 4
check_usage_error "--forever with --wait: a usage error" \
	"$AE_BIN" --root "$ROOT" run --forever --wait -- true
check_usage_error "--forever with --until: a usage error" \
	"$AE_BIN" --root "$ROOT" run --forever --until 1s -- true
created=$(job_id "$(ae create -- sh -c 'exit 5')")
capture ae start --forever "$created"
check_eq "start --forever waits for the end" "$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 5"
capture ae restart --no-wait "$created"
check_eq "restart --no-wait answers (the job ends soon)" "$RC $(json_str job_id "$OUT")" "0 $created"
wait_for "... and the restarted job ends" 10 is_state "$created" exited

# ---- run --until: a bare number is seconds (the newer tool's option) ----

capture ae run --until "$(bound 30)" -- sh -c 'sleep 1; echo done'
check_eq "run --until 30 waits for the end (seconds), with the output" \
	"$(json_str state "$OUT") $(json_str stdout_tail "$OUT")" "exited done"
check_between "... waited_ms: the job's second" "$(json_num waited_ms "$OUT")" 900 "$(bound 30)000"
capture ae run --until 300ms -- sleep 30
check_eq "run --until 300ms: a unit is that unit" "$(json_str state "$OUT")" running
check_between "... waited about 300 ms" "$(json_num waited_ms "$OUT")" 250 "$(bound 5)000"
ae kill --signal KILL "$(job_id "$OUT")" >/dev/null
check_usage_error "run --until 1x: a usage error" \
	"$AE_BIN" --root "$ROOT" run --until 1x -- true
check_contains "... saying a bare number is seconds there" "$ERR" 'invalid duration "1x" (seconds, or a number and ms, s, m, h or d'
check_usage_error "run --until 18446744073709552 (seconds beyond 64 bits of ms): a usage error" \
	"$AE_BIN" --root "$ROOT" run --until 18446744073709552 -- true

# ---- wait: --until, --forever, --poll ----

rm -f "$TMP/go"
id=$(blocker)
t0=$(now_ms)
capture ae wait --until 0 "$id"
t1=$(now_ms)
check_eq "wait --until 0 looks once: timed_out, the job running" "$(json_bool timed_out "$OUT") $(json_str state "$OUT")" "true running"
if ms_clock; then
	check_between "... at once (under 900 ms)" "$((t1 - t0))" 0 900
fi
t0=$(now_ms)
capture ae wait --until 1s "$id"
t1=$(now_ms)
check_eq "wait --until 1s gives up: timed_out" "$(json_bool timed_out "$OUT")" true
check_between "... after about a second" "$((t1 - t0))" 900 5000
t0=$(now_ms)
capture ae wait --until 1 "$id"
t1=$(now_ms)
check_eq "wait --until 1 (a bare number: seconds, as the newer tool means)" \
	"$(json_bool timed_out "$OUT")" true
check_between "... after about a second, not a millisecond" "$((t1 - t0))" 900 5000
capture ae wait --until 1s --timeout-ms 5 "$id"
check_eq "--until with --timeout-ms: a usage error" "$RC" 2
check_usage_error "wait --forever --timeout-ms 5: a usage error" \
	"$AE_BIN" --root "$ROOT" wait --forever --timeout-ms 5 "$id"
check_usage_error "wait --forever --until 1s: a usage error" \
	"$AE_BIN" --root "$ROOT" wait --forever --until 1s "$id"
: >"$TMP/go"
capture ae wait --forever --poll 50 "$id"
check_eq "wait --forever --poll 50 waits for the end" "$(json_str state "$OUT") $(json_bool timed_out "$OUT")" "exited false"
check_usage_error "--poll and --poll-ms together: given more than once" \
	"$AE_BIN" --root "$ROOT" wait --poll 5 --poll-ms 5 "$id"
rm -f "$TMP/go"
ids="$(blocker) $(blocker)"
# shellcheck disable=SC2086 # two ids
capture ae wait --until 0 $ids
check_eq "wait --until 0 on two jobs: both still running, timed_out" \
	"$(json_bool timed_out "$OUT") $(printf '%s' "$OUT" | grep -o '"running":[0-9]*' | head -n 1)" "true \"running\":2"
: >"$TMP/go"
# shellcheck disable=SC2086
ae wait $ids >/dev/null

# ---- tail --lines ----

id=$(job_id "$(ae run --wait -- sh -c 'echo one; echo two; echo three')")
capture ae tail --lines 1 "$id"
check_eq "tail --lines 1: the last line" "$(json_str stdout_tail "$OUT")" three
capture ae run --wait --lines 2 -- sh -c 'echo a; echo b; echo c'
check_eq "run --lines 2: two lines in the snapshot (as --tail-lines)" "$(json_str stdout_tail "$OUT")" 'b\nc'
check_usage_error "--lines and --tail-lines together: given more than once" \
	"$AE_BIN" --root "$ROOT" tail --lines 1 --tail-lines 2 "$id"

# ---- -V, ps, rm ----

capture "$AE_BIN" -V
check_eq "-V prints the version, as --version" "$OUT" "$("$AE_BIN" --version)"
rm -f "$TMP/go"
running=$(blocker)
capture ae ps
check_eq "ps lists the running jobs only" "$(ids_in "$OUT")" "$running"
check_eq "... as list does (type list)" "$(json_str type "$OUT")" list
capture ae ps --all
check_eq "ps --all: every directory's running jobs" "$(ids_in "$OUT")" "$running"
check_usage_error "ps --state: a usage error" "$AE_BIN" --root "$ROOT" ps --state exited
check_contains "... saying list --state does it" "$ERR" "list --state"
: >"$TMP/go"
wait_for "the blocker ends" 10 is_state "$running" exited
capture ae rm "$running"
check_eq "rm deletes a job, as delete" "$RC $(json_str type "$OUT")" "0 delete"
check "... its directory is gone" test ! -e "$ROOT/$running"
capture "$AE_BIN" help ps
check_contains "help ps shows list's help" "$OUT" "Usage: agent-exec list"
capture "$AE_BIN" help
check_contains "the overview names ps" "$OUT" "  ps "
check_contains "... and rm" "$OUT" "  rm "

# ---- the hint for a bare duration below 1000 ----

capture ae run --wait --timeout 30000 -- true
check_eq "--timeout 30000: no hint" "$ERR" ""
capture ae run --wait --timeout 30 -- sleep 2
check_eq "--timeout 30: the hint on stderr" "$ERR" "agent-exec: --timeout 30 is 30 ms; write 30s for seconds"
check_eq "... the value still milliseconds: the job timed out" "$(json_str state "$OUT")" killed
check_eq "... stdout one JSON answer" "$OUT_LINES" 1
capture ae run --wait --timeout 30s --kill-after 999 -- true
check_eq "--kill-after 999: the hint (not for 30s)" "$ERR" "agent-exec: --kill-after 999 is 999 ms; write 999s for seconds"
capture ae run --wait --progress-every 5 -- true
check_eq "--progress-every 5: the hint" "$ERR" "agent-exec: --progress-every 5 is 5 ms; write 5s for seconds"
capture ae run --wait --timeout 0 --kill-after 1000 -- true
check_eq "--timeout 0 and --kill-after 1000: no hint" "$ERR" ""
capture ae run --wait --timeout=500ms -- true
check_eq "--timeout=500ms (a unit): no hint" "$ERR" ""

