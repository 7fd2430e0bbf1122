#!/bin/sh
# A command that cannot be executed says why (the path at fault, the
# cause, exec_error), as a shell would tell it by 126 or 127; and
# --exit-status makes run --wait, start --wait and wait exit with the
# job's outcome as a shell would: its exit code, 128+N for signal N, 126
# or 127 when it could not be executed, 125 for any other failure, 124
# when a wait's deadline passed.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/work/adir" "$TMP/pbin/pdir" "$TMP/other"
printf '#!/bin/sh\necho should not run\n' >"$TMP/work/noexec"
chmod 644 "$TMP/work/noexec"
printf '#!/bin/sh\necho should not run\n' >"$TMP/pbin/pnoexec"
chmod 644 "$TMP/pbin/pnoexec"
make_script "$TMP/work/prog" <<'EOS'
echo "prog ran in $(pwd)"
EOS

# answer_file NAME: the last captured answer, in a file for check_schema.
answer_file() {
	printf '%s\n' "$OUT" >"$TMP/$1.json"
	echo "$TMP/$1.json"
}
# failed_with DESC EXEC_ERROR TEXT [DEFINITION]: the captured answer (of
# run, else DEFINITION) is failed, with that exec_error and an error
# containing TEXT, and valid.
failed_with() {
	check_out "$1: failed, $2" \
		"$(json_str state "$OUT") $(json_str exec_error "$OUT")" "failed $2"
	check_contains "... the error says: $3" "$(json_text error "$OUT")" "$3"
	check_hasnt "... no exit_code" exit_code "$OUT"
	check_schema "... a valid ${4:-run} answer" "${4:-run}" "$(answer_file failed)"
}

# ---- why a command could not be executed ------------------------------------

cd "$TMP/work" || exit 1
capture ae run --wait -- ./noexec arg
failed_with "a file without execute permission" permission_denied \
	'cannot execute \"./noexec\": Permission denied'
id=$(job_id "$OUT")
check_eq "... state.json records exec_error" \
	"$(json_str exec_error "$(cat "$ROOT/$id/state.json")")" permission_denied
check_schema "... a valid state.json" state_record "$ROOT/$id/state.json"
capture ae status "$id"
check_eq "... status says exec_error" "$(json_str exec_error "$OUT")" \
	permission_denied
check_schema "... a valid status answer" status "$(answer_file status)"
capture ae wait "$id"
check_eq "... wait says exec_error" "$(json_str exec_error "$OUT")" \
	permission_denied
check_schema "... a valid wait answer" wait "$(answer_file wait)"

capture ae run --wait -- ./noexec
failed_with "one word, a file without execute permission (looked up before sh -c)" \
	permission_denied 'cannot execute \"./noexec\": Permission denied'
capture ae run --wait -- ./adir arg
failed_with "a directory" is_a_directory \
	'cannot execute \"./adir\": Is a directory'
capture ae run --wait -- ./adir
failed_with "one word, a directory" is_a_directory \
	'cannot execute \"./adir\": Is a directory'
capture ae run --wait -- ae-no-such-program arg
failed_with "nowhere on PATH" not_found \
	'command not found: \"ae-no-such-program\"'
capture ae run --wait -- ae-no-such-program
failed_with "one word, nowhere on PATH" not_found \
	'command not found: \"ae-no-such-program\"'
capture ae run --wait -- ./ae-no-such-file arg
failed_with "a path to nothing" not_found \
	'command not found: \"./ae-no-such-file\"'

# on PATH: a file without execute permission names where it was found; a
# directory of that name is passed over, as a shell passes it over
capture env PATH="$TMP/pbin:$PATH" "$AE_BIN" --root "$ROOT" run --wait -- pnoexec x
failed_with "on PATH, a file without execute permission" permission_denied \
	"cannot execute \\\"pnoexec\\\" ($TMP/pbin/pnoexec): Permission denied"
capture env PATH="$TMP/pbin:$PATH" "$AE_BIN" --root "$ROOT" run --wait -- pnoexec
failed_with "one word on PATH, a file without execute permission" \
	permission_denied "($TMP/pbin/pnoexec): Permission denied"
capture env PATH="$TMP/pbin:$PATH" "$AE_BIN" --root "$ROOT" run --wait -- pdir x
failed_with "on PATH, only a directory of that name" not_found \
	'command not found: \"pdir\"'

# a path is taken from the job's --cwd, not from where run was called
cd "$TMP/other" || exit 1
capture ae run --wait --cwd "$TMP/work" -- ./prog
check_out "one word ./prog with --cwd: found in the job's directory" \
	"$(json_str state "$OUT") $(json_str stdout_tail "$OUT")" \
	"exited prog ran in $TMP/work"
capture ae run --wait --cwd "$TMP/work" -- ./noexec x
failed_with "./noexec with --cwd: looked for in the job's directory" \
	permission_denied 'cannot execute \"./noexec\": Permission denied'
capture ae run --wait -- ./noexec x
failed_with "... and not in the caller's" not_found \
	'command not found: \"./noexec\"'
cd "$TMP/work" || exit 1

# the wrapper itself
capture ae run --wait --shell-wrapper 'ae-no-such-shell -c' -- 'echo hi'
failed_with "a wrapper that is nowhere" not_found \
	'command not found: \"ae-no-such-shell\"'

# a single word the shell runs as a script: its 126 and 127 are the
# shell's, an exit code
capture ae run --wait './noexec arg'
check_out "one word with shell syntax: the shell's 126 (exited)" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 126"
check_hasnt "... no exec_error" exec_error "$OUT"
capture ae run --wait 'ae-no-such-program arg'
check_out "one word with shell syntax, nowhere: the shell's 127 (exited)" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 127"

# created, then started: the same
id=$(job_id "$(ae create -- ./adir x)")
capture ae start --wait "$id"
failed_with "start of a created directory" is_a_directory \
	'cannot execute \"./adir\": Is a directory' start
check_schema "... a valid state.json" state_record "$ROOT/$id/state.json"

# other failures have no exec_error
capture ae run --wait --cwd "$TMP/work" --env-file "$TMP/none.env" -- true
check_out "an env file that cannot be read: failed" \
	"$(json_str state "$OUT")" failed
check_hasnt "... without exec_error" exec_error "$OUT"

# ---- --exit-status -----------------------------------------------------------

# exits_with DESC STATUS DEFINITION CMD...: CMD exits STATUS and prints one
# valid answer of DEFINITION, ok:true.
exits_with() {
	_desc=$1
	_status=$2
	_def=$3
	shift 3
	capture "$@"
	check_out "$_desc: exit $_status" "$RC" "$_status"
	check_eq "... one answer on stdout, ok:true" \
		"$OUT_LINES $(json_bool ok "$OUT")" "1 true"
	check_schema "... a valid $_def answer" "$_def" "$(answer_file exits)"
}

# run --wait
exits_with "run --wait --exit-status, exit 0" 0 run \
	ae run --wait --exit-status -- true
exits_with "run --wait --exit-status, exit 3" 3 run \
	ae run --wait --exit-status -- sh -c 'exit 3'
check_eq "... exit_code 3 in the answer" "$(json_num exit_code "$OUT")" 3
exits_with "run --wait --exit-status, the job kills itself with TERM: 128+15" \
	143 run ae run --wait --exit-status -- sh -c 'kill -TERM $$'
check_eq "... killed, signal 15" \
	"$(json_str state "$OUT") $(json_str signal "$OUT")" "killed 15"
exits_with "run --wait --exit-status, a file without execute permission" \
	126 run ae run --wait --exit-status -- ./noexec x
exits_with "run --wait --exit-status, a directory" 126 run \
	ae run --wait --exit-status -- ./adir
exits_with "run --wait --exit-status, not found" 127 run \
	ae run --wait --exit-status -- ae-no-such-program
exits_with "run --wait --exit-status, a --cwd that does not exist (failed)" \
	125 run ae run --wait --exit-status --cwd "$TMP/no-such-dir" -- true
check_eq "... failed" "$(json_str state "$OUT")" failed
exits_with "run --wait --exit-status, an unreadable env file (failed)" 125 run \
	ae run --wait --exit-status --env-file "$TMP/none.env" -- true
exits_with "run --wait without --exit-status, exit 3: status 0 (0.1)" 0 run \
	ae run --wait -- sh -c 'exit 3'

# start --wait
created() { job_id "$(ae create "$@")"; }
exits_with "start --wait --exit-status, exit 0" 0 start \
	ae start --wait --exit-status "$(created -- true)"
exits_with "start --wait --exit-status, exit 3" 3 start \
	ae start --wait --exit-status "$(created -- sh -c 'exit 3')"
exits_with "start --wait --exit-status, killed by TERM" 143 start \
	ae start --wait --exit-status "$(created -- sh -c 'kill -TERM $$')"
exits_with "start --wait --exit-status, a file without execute permission" \
	126 start ae start --wait --exit-status "$(created -- ./noexec)"
exits_with "start --wait --exit-status, a directory" 126 start \
	ae start --wait --exit-status "$(created -- ./adir x)"
exits_with "start --wait --exit-status, not found" 127 start \
	ae start --wait --exit-status "$(created -- ae-no-such-program x)"
mkdir "$TMP/gone"
id=$(created --cwd "$TMP/gone" -- true)
rmdir "$TMP/gone"
exits_with "start --wait --exit-status, its --cwd removed since create" 125 \
	start ae start --wait --exit-status "$id"

# wait, on jobs started without waiting
started() { start_job "$@"; }
exits_with "wait --exit-status, exit 0" 0 wait \
	ae wait --exit-status "$(started -- true)"
exits_with "wait --exit-status, exit 3" 3 wait \
	ae wait --exit-status "$(started -- sh -c 'exit 3')"
exits_with "wait --exit-status, killed by TERM" 143 wait \
	ae wait --exit-status "$(started -- sh -c 'kill -TERM $$')"
exits_with "wait --exit-status, a file without execute permission" 126 wait \
	ae wait --exit-status "$(started -- ./noexec x)"
exits_with "wait --exit-status, a directory" 126 wait \
	ae wait --exit-status "$(started -- ./adir x)"
exits_with "wait --exit-status, not found" 127 wait \
	ae wait --exit-status "$(started -- ae-no-such-program)"
exits_with "wait --exit-status, an unreadable env file" 125 wait \
	ae wait --exit-status "$(started --env-file "$TMP/none.env" -- true)"
id=$(started -- sleep 30)
exits_with "wait --exit-status, deadline passed on a running job: 124" 124 \
	wait ae wait --exit-status --timeout-ms 300 "$id"
check_eq "... the answer says running, timed_out" \
	"$(json_str state "$OUT") $(json_bool timed_out "$OUT")" "running true"
ae kill --signal KILL "$id" >/dev/null
exits_with "wait --exit-status on the job killed with KILL: 128+9" 137 wait \
	ae wait --exit-status "$id"
exits_with "wait --exit-status, deadline passed on a created job: 124" 124 \
	wait ae wait --exit-status --timeout-ms 300 "$(created -- true)"
exits_with "wait without --exit-status, exit 3: status 0 (0.1)" 0 wait \
	ae wait "$(started -- sh -c 'exit 3')"

# a job's 1 or 2 against agent-exec's own errors: ok tells them apart
exits_with "a job that exits 1: status 1, ok:true" 1 run \
	ae run --wait --exit-status -- false
check_error "an error of agent-exec keeps status 1, ok:false" job_not_found \
	ae wait --exit-status 0NOSUCHJOB
dirs=$(job_dirs)
check_usage_error "run --exit-status without --wait: a usage error" \
	ae run --exit-status -- true
check_contains "... saying it needs --wait" "$ERR" "--exit-status needs --wait"
check_eq "... and no job was made" "$(job_dirs)" "$dirs"
check_usage_error "start --exit-status without --wait: a usage error" \
	ae start --exit-status "$(created -- true)"
check_usage_error "create --exit-status: a usage error (no such option)" \
	ae create --exit-status -- true

# in a shell script
got=$(ae run --wait --exit-status -- sh -c 'exit 3' >/dev/null && echo no)
check_eq "run --wait --exit-status -- sh -c 'exit 3' && echo no: no echo" \
	"$got" ""
got=$(ae run --wait --exit-status -- true >/dev/null && echo deploy)
check_eq "run --wait --exit-status -- true && echo deploy: deploys" \
	"$got" deploy
ae run --wait --exit-status -- sh -c 'exit 3' >/dev/null
check_eq "... \$? is the job's 3" "$?" 3

# exec_error reaches job.finished and list too
capture ae run --wait --notify-file "$TMP/exec-error.ndjson" -- ae-no-such-program-xyz
id=$(job_id "$OUT")
wait_for "a job whose command is not found: job.finished delivered" 10 \
	has_lines "$TMP/exec-error.ndjson" 1
check_eq "... job.finished says exec_error not_found" \
	"$(json_str exec_error "$(cat "$TMP/exec-error.ndjson")")" not_found
check_match "... its list entry too" "$(ae list)" \
	"\"job_id\":\"$id\"[^}]*\"exec_error\":\"not_found\""
ae list >"$TMP/exec-error.list"
check_schema "... a valid list" list "$TMP/exec-error.list"
check_schema "... a valid job.finished" job_finished_event --lines "$TMP/exec-error.ndjson"
