#!/bin/sh
# create and start: the created job (records, no process), every definition
# option, start's answers, the create-time cwd, timeout and kill-after,
# invalid states, 8 concurrent starts, kill and wait on a created job.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/d1" "$TMP/d2"
d1=$(cd "$TMP/d1" && pwd -P)
d2=$(cd "$TMP/d2" && pwd -P)

# ---- create ------------------------------------------------------------------------

capture ae create -- sh -c 'echo ran >>"$1"' sh "$TMP/ran.txt"
out=$OUT
id=$(job_id "$out")
check_eq "create exits 0 with one line" "$RC $OUT_LINES" "0 1"
case $out in
'{"schema_version":"0.1","ok":true,"type":"create","job_id":"'"$id"'","state":"created",'*)
	ok "create: envelope, job_id, state created" ;;
*) not_ok "create: envelope, job_id, state created"; echo "#   $out" ;;
esac
check_match "create: job_id is a ULID" "$id" "$ID_RE"
check_eq "create: stdout_log_path" "$(json_str stdout_log_path "$out")" \
	"$ROOT/$id/stdout.log"
check_eq "create: stderr_log_path" "$(json_str stderr_log_path "$out")" \
	"$ROOT/$id/stderr.log"
check_contains "create: tags is []" "$out" '"tags":[]'
check_hasnt "create without --env: no env_vars" env_vars "$out"
for key in snapshot waited_ms elapsed_ms exit_code pid started_at; do
	check_hasnt "create: no $key" "$key" "$out"
done

st=$(ae status "$id")
check_eq "status of a created job: created" "$(json_str state "$st")" created
check_hasnt "status of a created job: no pid" pid "$st"
check_hasnt "status of a created job: no started_at" started_at "$st"
check_hasnt "status of a created job: no finished_at" finished_at "$st"
check_hasnt "status of a created job: no exit_code" exit_code "$st"
check "create: meta.json exists" test -f "$ROOT/$id/meta.json"
check_contains "create: state.json says created" \
	"$(json_flat "$ROOT/$id/state.json")" '"status": "created"'
check_hasnt "create: state.json has no pid" pid \
	"$(cat "$ROOT/$id/state.json")"
check_hasnt "create: state.json has no started_at" started_at \
	"$(cat "$ROOT/$id/state.json")"
for log in stdout.log stderr.log full.log; do
	check_eq "create: $log exists and is empty" "$(file_size "$ROOT/$id/$log")" 0
done

# A created job waits: wait --timeout-ms 1000 times out and nothing has run.
t0=$(now_ms)
out=$(ae wait --timeout-ms 1000 "$id")
check_between "wait --timeout-ms 1000 on a created job takes about 1 s (ms)" \
	$(($(now_ms) - t0)) 950 3000
check_eq "wait on a created job: timed_out true, state created" \
	"$(json_bool timed_out "$out") $(json_str state "$out")" "true created"
check_hasnt "wait on a created job: no exit_code" exit_code "$out"
check "no process ran for the created job (after 1 s)" test ! -e "$TMP/ran.txt"
check_error "kill on a created job: invalid_state" invalid_state ae kill "$id"
check_eq "... and it stays created" "$(state_of "$id")" created

# ---- start -------------------------------------------------------------------------

capture ae start --wait "$id"
out=$OUT
check_eq "start --wait exits 0, one line" "$RC $OUT_LINES" "0 1"
case $out in
'{"schema_version":"0.1","ok":true,"type":"start","job_id":"'"$id"'",'*)
	ok "start: envelope and job_id" ;;
*) not_ok "start: envelope and job_id"; echo "#   $out" ;;
esac
check_eq "start --wait: exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
check_match "start --wait: finished_at" "$(json_str finished_at "$out")" \
	"$TS_RE"
check_has "start --wait: final_snapshot" final_snapshot "$out"
check_hasnt "start --wait: no snapshot" snapshot "$out"
check_contains "start: tags" "$out" '"tags":[]'
check_eq "start: stdout_log_path" "$(json_str stdout_log_path "$out")" \
	"$ROOT/$id/stdout.log"
check_has "start: waited_ms" waited_ms "$out"
check_has "start: elapsed_ms" elapsed_ms "$out"
check_eq "the started job ran once" "$(cat "$TMP/ran.txt" 2>/dev/null)" ran
st=$(ae status "$id")
check_match "status after start: started_at" "$(json_str started_at "$st")" \
	"$TS_RE"
check_match "status after start: pid" "$(json_num pid "$st")" '^[0-9]+$'
check_error "start of a finished job: invalid_state" invalid_state \
	ae start "$id"
check_error "start of an unknown id: job_not_found" job_not_found \
	ae start 01ZZZZZZZZZZZZZZZZZZZZZZZZ

# without --wait: the true state, a snapshot shaped by the flags
id=$(job_id "$(ae create -- sh -c 'seq 1 10; echo err >&2')")
out=$(ae start --snapshot-after 5000 --tail-lines 2 "$id")
check_eq "start of a quick job: its true state, exited" \
	"$(json_str state "$out")" exited
check_has "start --snapshot-after: a snapshot" snapshot "$out"
check_eq "start --tail-lines 2 shapes the snapshot" \
	"$(json_str stdout_tail "$out")" '9\n10'
check_eq "start: the snapshot has stderr" "$(json_str stderr_tail "$out")" err
# ended inside the window: how it ended (issue 15), still no final_snapshot
check_eq "start without --wait, ended in the window: exit_code 0" \
	"$(json_num exit_code "$out")" 0
check_match "... finished_at" "$(json_str finished_at "$out")" "$TS_RE"
check_hasnt "start without --wait: no final_snapshot" final_snapshot "$out"
id=$(job_id "$(ae create -- printf abcdefgh)")
out=$(ae start --snapshot-after 5000 --max-bytes 3 "$id")
check_eq "start --max-bytes 3 shapes the snapshot" \
	"$(json_str stdout_tail "$out")" fgh

id=$(job_id "$(ae create -- sleep 30)")
out=$(ae start --snapshot-after 0 "$id")
check_eq "start of a sleeping job: running" "$(json_str state "$out")" running
check_eq "start --snapshot-after 0: waited_ms 0, no snapshot" \
	"$(json_num waited_ms "$out") $(json_has snapshot "$out" && echo snap)" "0 "
pid=$(record_num "$id" pid)
check "the started job's process is alive" proc_running "${pid:-0}"
check_error "start of a running job: invalid_state" invalid_state \
	ae start "$id"
check_eq "... and it is still the same process" "$(record_num "$id" pid)" "$pid"
ae kill --signal KILL "$id" >/dev/null

id=$(job_id "$(ae create -- sh -c 'exit 3')")
out=$(ae start --wait --wait-poll-ms 5 "$id")
check_eq "start --wait --wait-poll-ms: exit code 3" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 3"

# ---- the create-time cwd -------------------------------------------------------------

id=$(job_id "$(cd "$TMP/d1" && ae create -- pwd -P)")
out=$(cd "$TMP/d2" && ae start --wait "$id")
check_eq "start from another directory: the job runs in the create-time cwd" \
	"$(json_str stdout_tail "$out")" "$d1"
id=$(job_id "$(cd "$TMP" && ae create --cwd d2 -- pwd -P)")
out=$(cd "$TMP/d1" && ae start --wait "$id")
check_eq "a relative --cwd is resolved at create time" \
	"$(json_str stdout_tail "$out")" "$d2"
id=$(job_id "$(ae create --cwd "$TMP/nonexistent" -- true)")
out=$(ae start --wait "$id")
check_eq "start with a vanished --cwd: failed" "$(json_str state "$out")" failed
check_contains "... the error names the directory" "$(json_text error "$out")" \
	nonexistent

# ---- timeout and kill-after from create ---------------------------------------------

id=$(job_id "$(ae create --timeout 1000 -- sleep 30)")
t0=$(now_ms)
out=$(ae start --wait "$id")
check_eq "create --timeout 1000: killed by the timeout" \
	"$(json_str state "$out") $(json_bool timed_out "$out")" "killed true"
check_eq "... with SIGTERM" "$(json_str signal "$out")" 15
check_between "... after about 1 s (ms)" $(($(now_ms) - t0)) 900 4000

id=$(job_id "$(ae create --timeout 1000 --kill-after 1000 -- \
	sh -c 'trap "" TERM; sleep 30')")
t0=$(now_ms)
out=$(ae start --wait "$id")
took=$(($(now_ms) - t0))
check_eq "create --kill-after 1000: a TERM-proof job is SIGKILLed" \
	"$(json_str state "$out") $(json_str signal "$out")" "killed 9"
check_between "... after timeout + kill-after, about 2 s (ms)" "$took" 1900 5000

# ---- every definition option -------------------------------------------------------

printf 'FROMFILE=1\n' >"$TMP/opts.env"
capture ae create --timeout 5000 --kill-after 700 --cwd "$TMP/d1" \
	--env A=av --env-file "$TMP/opts.env" --no-inherit-env --mask A \
	--tag t1 --tag t2 --log "$TMP/custom.log" --progress-every 300 \
	--config "$TMP/no-such-config.toml" --shell-wrapper "sh -c" \
	--meta k=v --callback-session sess --callback-agent agent \
	-- sh -c 'echo "$A/$FROMFILE"'
id=$(job_id "$OUT")
check_eq "create with every definition option: exit 0" "$RC" 0
check_contains "create: tags as given" "$OUT" '"tags":["t1","t2"]'
check_contains "create --env --mask: env_vars masked" "$OUT" \
	'"env_vars":["A=***"]'
meta=$(json_flat "$ROOT/$id/meta.json")
check_contains "meta.json: timeout_ms" "$meta" '"timeout_ms": 5000'
check_contains "meta.json: kill_after_ms" "$meta" '"kill_after_ms": 700'
check_contains "meta.json: progress_every_ms" "$meta" '"progress_every_ms": 300'
check_contains "meta.json: inherit_env false" "$meta" '"inherit_env": false'
check_contains "meta.json: cwd" "$meta" "\"cwd\": \"$d1\""
check_contains "meta.json: shell_wrapper" "$meta" \
	'"shell_wrapper": ["sh","-c"]'
check_contains "meta.json: env_files" "$meta" '"env_files": ['
check_contains "meta.json: mask" "$meta" '"mask": ["A"]'
check_contains "meta.json: callback_session" "$meta" \
	'"callback_session": "sess"'
out=$(ae start --wait "$id")
check_eq "the job defined with every option runs with env (masked) and env file" \
	"$(json_str state "$out") $(json_str stdout_tail "$out")" "exited ***/1"
check_contains "--log: the combined log goes to the given path" \
	"$(cat "$TMP/custom.log" 2>/dev/null)" '[STDOUT] ***/1'
check_eq "--log: the job's own full.log stays empty" \
	"$(file_size "$ROOT/$id/full.log")" 0

out=$(ae create --inherit-env -- true)
check_eq "create --inherit-env is accepted" "$(json_str state "$out")" created
check_usage_error "create --inherit-env --no-inherit-env: usage error" \
	ae create --inherit-env --no-inherit-env -- true
for opt in "--snapshot-after 10" "--tail-lines 5" "--max-bytes 5" \
	"--wait" "--wait-poll-ms 5"; do
	# shellcheck disable=SC2086 # the option and its value are two words
	check_usage_error "create $opt: usage error" ae create $opt -- true
done
check_usage_error "create without a command: usage error" ae create
check_usage_error "start without an id: usage error" ae start
check_usage_error "start --timeout (a create option): usage error" \
	ae start --timeout 5 01ZZZZZZZZZZZZZZZZZZZZZZZZ

# ---- 8 concurrent starts ---------------------------------------------------------------

id=$(job_id "$(ae create -- sh -c 'echo started >>"$1"' sh "$TMP/starts.txt")")
i=0
pids=""
while [ $i -lt 8 ]; do
	"$AE_BIN" --root "$ROOT" start --snapshot-after 0 "$id" \
		>"$TMP/start.$i.out" 2>/dev/null &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
oks=$(cat "$TMP"/start.*.out | grep -c '"ok":true')
invalid=$(cat "$TMP"/start.*.out | grep -c '"code":"invalid_state"')
check_eq "8 concurrent starts: exactly one ok" "$oks" 1
check_eq "8 concurrent starts: the 7 others invalid_state" "$invalid" 7
out=$(ae wait --timeout-ms 5000 "$id")
check_eq "the concurrently started job ends" "$(json_str state "$out")" exited
check_eq "exactly one process ran" \
	"$(wc -l <"$TMP/starts.txt" 2>/dev/null | tr -d ' ')" 1

# ---- a wait blocked on a created job ---------------------------------------------------

id=$(job_id "$(ae create -- sh -c 'exit 7')")
"$AE_BIN" --root "$ROOT" wait "$id" >"$TMP/blocked.out" &
waiter=$!
# a bounded wait on the same job is our 1 s clock
ae wait --timeout-ms 1000 "$id" >/dev/null
check "a wait on a created job keeps waiting" proc_running "$waiter"
(cd "$TMP/d2" && ae start --snapshot-after 0 "$id" >/dev/null)
wait_for "the blocked wait returns once the job is started and ends" 5 \
	proc_gone "$waiter"
wait "$waiter"
out=$(cat "$TMP/blocked.out")
check_eq "... reporting exited 7" \
	"$(json_str state "$out") $(json_num exit_code "$out") $(json_bool timed_out "$out")" \
	"exited 7 false"
