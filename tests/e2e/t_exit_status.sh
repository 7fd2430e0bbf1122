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
