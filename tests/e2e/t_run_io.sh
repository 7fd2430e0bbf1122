#!/bin/sh
# run: the job's environment (--env, --no-inherit-env), --log, and the three
# logs (stdout.log and stderr.log raw, full.log timestamped lines).
. "$(dirname "$0")/lib.sh"

# ---- environment -----------------------------------------------------------------

AE_TEST_INHERITED=from-caller
export AE_TEST_INHERITED
out=$(ae run --wait --env AE_TEST_K=hello -- \
	sh -c 'printf "%s,%s" "$AE_TEST_K" "$AE_TEST_INHERITED"')
check_eq "--env reaches the job, the caller's environment too" \
	"$(json_str stdout_tail "$out")" "hello,from-caller"
check_contains "run answers env_vars" "$out" '"env_vars":["AE_TEST_K=hello"]'
out=$(ae run --wait --env A=1 --env A=2 --env B=x=y -- \
	sh -c 'printf "%s;%s" "$A" "$B"')
check_eq "a later --env wins; the value may contain =" \
	"$(json_str stdout_tail "$out")" "2;x=y"
check_contains "env_vars lists every --env in order" "$out" \
	'"env_vars":["A=1","A=2","B=x=y"]'
out=$(ae run --wait --env AE_TEST_INHERITED=overridden -- \
	sh -c 'printf %s "$AE_TEST_INHERITED"')
check_eq "--env overrides an inherited variable" \
	"$(json_str stdout_tail "$out")" overridden
out=$(ae run --wait --no-inherit-env --env AE_TEST_INHERITED -- \
	/bin/sh -c 'echo "[${AE_TEST_INHERITED-unset}]"')
check_eq "--env KEY without = passes the caller's value (--no-inherit-env)" \
	"$(json_str stdout_tail "$out")" "[from-caller]"
out=$(ae run --wait --inherit-env -- sh -c 'printf %s "$AE_TEST_INHERITED"')
check_eq "--inherit-env is the default behaviour" \
	"$(json_str stdout_tail "$out")" from-caller

env_prog=$(command -v env)
# (two words: executed directly, no login shell to add its profile)
# (every job also gets AGENT_EXEC=1, its id and its root)
out=$(ae run --wait --no-inherit-env --env A=1 --env B=2 -- "$env_prog" Z=3)
check_eq "--no-inherit-env: only the --env and AGENT_EXEC variables" \
	"$(json_str stdout_tail "$out")" \
	"A=1\\nB=2\\nAGENT_EXEC=1\\nAGENT_EXEC_JOB_ID=$(job_id "$out")\\nAGENT_EXEC_ROOT=$ROOT\\nZ=3"
out=$(ae run --wait --no-inherit-env -- "$env_prog" Z=3)
check_eq "--no-inherit-env without --env: only the AGENT_EXEC variables" \
	"$(json_str stdout_tail "$out")" \
	"AGENT_EXEC=1\\nAGENT_EXEC_JOB_ID=$(job_id "$out")\\nAGENT_EXEC_ROOT=$ROOT\\nZ=3"
out=$(ae run --wait --no-inherit-env -- sh -c 'echo "[$AE_TEST_INHERITED]"')
check_eq "--no-inherit-env: a program is still found without PATH" \
	"$(json_str state "$out") $(json_str stdout_tail "$out")" "exited []"

# ---- --log -----------------------------------------------------------------------

out=$(ae run --wait --log "$TMP/logs/deeper/custom.log" -- \
	sh -c 'echo one; echo two >&2')
id=$(job_id "$out")
custom=$(cat "$TMP/logs/deeper/custom.log" 2>/dev/null)
check_contains "--log: the combined log is written there (stdout)" \
	"$custom" "[STDOUT] one"
check_contains "--log: the combined log is written there (stderr)" \
	"$custom" "[STDERR] two"
check_eq "--log: full.log in the job directory stays empty" \
	"$(file_size "$ROOT/$id/full.log")" 0
check_eq "--log: stdout.log still has the output" "$(cat "$ROOT/$id/stdout.log")" \
	one
echo "a file" >"$TMP/afile"
out=$(ae run --wait --log "$TMP/afile/x.log" -- echo hi)
# the run fails as a JSON error or as a failed job; either way it says
# which path is at fault
if [ "$(json_bool ok "$out")" = false ]; then
	why=$(json_text message "$out")
else
	check_eq "--log under a file: the job failed" "$(json_str state "$out")" \
		failed
	why=$(json_text error "$out")
fi
check_contains "--log under a file: the error names the path" "$why" \
	"$TMP/afile"
mkdir -p "$TMP/rel"
out=$(cd "$TMP/rel" && ae run --wait --log relative.log -- echo rel)
check_contains "a relative --log is relative to the caller" \
	"$(cat "$TMP/rel/relative.log" 2>/dev/null)" "[STDOUT] rel"

# ---- the three logs --------------------------------------------------------------

out=$(ae run --wait -- sh -c \
	'printf "out1\nout2"; printf "err1\n" >&2; printf "\001\377\r\n" >&2')
id=$(job_id "$out")
dir=$ROOT/$id
printf 'out1\nout2' >"$TMP/want.out"
printf 'err1\n\001\377\r\n' >"$TMP/want.err"
check "stdout.log holds the raw bytes" cmp -s "$dir/stdout.log" "$TMP/want.out"
check "stderr.log holds the raw bytes" cmp -s "$dir/stderr.log" "$TMP/want.err"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
check "full.log: a timestamped [STDOUT] line" \
	grep -qE "^$ts \\[STDOUT\\] out1\$" "$dir/full.log"
check "full.log: the unterminated last line is there too" \
	grep -qE "^$ts \\[STDOUT\\] out2\$" "$dir/full.log"
check "full.log: a timestamped [STDERR] line" \
	grep -qE "^$ts \\[STDERR\\] err1\$" "$dir/full.log"
check_eq "full.log: one line per output line (4)" \
	"$(wc -l <"$dir/full.log" | tr -d ' ')" 4
check_eq "full.log: every line has the prefix" \
	"$(grep -cE "^$ts \\[(STDOUT|STDERR)\\] " "$dir/full.log")" 4

out=$(ae run --wait -- sh -c 'i=0; while [ $i -lt 3 ]; do echo "o$i"; echo "e$i" >&2; i=$((i + 1)); done')
dir=$ROOT/$(job_id "$out")
check_eq "full.log keeps each stream's order (stdout)" \
	"$(sed -n 's/^.* \[STDOUT\] //p' "$dir/full.log" | tr '\n' ' ')" "o0 o1 o2 "
check_eq "full.log keeps each stream's order (stderr)" \
	"$(sed -n 's/^.* \[STDERR\] //p' "$dir/full.log" | tr '\n' ' ')" "e0 e1 e2 "

out=$(ae run --wait -- true)
dir=$ROOT/$(job_id "$out")
check_eq "a silent job: empty logs" \
	"$(file_size "$dir/stdout.log") $(file_size "$dir/stderr.log") $(file_size "$dir/full.log")" \
	"0 0 0"
