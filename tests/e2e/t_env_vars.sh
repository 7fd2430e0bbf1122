#!/bin/sh
# What every job can rely on: AGENT_EXEC=1, AGENT_EXEC_JOB_ID (its own id)
# and AGENT_EXEC_ROOT (the absolute root), whatever the caller's environment
# and options; and the name list derives from a job's command.
. "$(dirname "$0")/lib.sh"

# The job prints the three variables, separated by |.
show='printf "%s|%s|%s" "${AGENT_EXEC-unset}" "${AGENT_EXEC_JOB_ID-unset}" "${AGENT_EXEC_ROOT-unset}"'
# printed ID: what the job printed.
printed() { cat "$ROOT/$1/stdout.log"; }

# ---- AGENT_EXEC_* ----------------------------------------------------------------------------

id=$(job_id "$(ae run --wait -- sh -c "$show")")
check_eq "a job sees AGENT_EXEC=1, its id, the root" "$(printed "$id")" "1|$id|$ROOT"
id=$(job_id "$(ae run --wait "$show")")
check_eq "... a shell-string job too" "$(printed "$id")" "1|$id|$ROOT"
id=$(job_id "$(ae run --wait --no-inherit-env -- sh -c "$show")")
check_eq "... with --no-inherit-env" "$(printed "$id")" "1|$id|$ROOT"
id=$(job_id "$(AGENT_EXEC=0 AGENT_EXEC_JOB_ID=bogus AGENT_EXEC_ROOT=/nowhere \
	ae run --wait -- sh -c "$show")")
check_eq "... the caller's own AGENT_EXEC, _JOB_ID, _ROOT are overridden" \
	"$(printed "$id")" "1|$id|$ROOT"
id=$(job_id "$(AGENT_EXEC_JOB_ID=bogus ae run --wait --no-inherit-env -- sh -c "$show")")
check_eq "... also with --no-inherit-env" "$(printed "$id")" "1|$id|$ROOT"
printf 'AGENT_EXEC_JOB_ID=from-file\nAGENT_EXEC_ROOT=/file\n' >"$TMP/agent.env"
id=$(job_id "$(ae run --wait --env-file "$TMP/agent.env" --env AGENT_EXEC=7 \
	--env AGENT_EXEC_JOB_ID=from-env -- sh -c "$show")")
check_eq "... and an --env or --env-file cannot change them" \
	"$(printed "$id")" "1|$id|$ROOT"
id=$(job_id "$(AGENT_EXEC_JOB_ID=bogus ae create -- sh -c "$show")")
AGENT_EXEC_JOB_ID=other ae start --wait "$id" >/dev/null
check_eq "a created job, started later, sees its own id" "$(printed "$id")" "1|$id|$ROOT"
id=$(job_id "$(ae run --pty --wait -- sh -c "$show")")
check_eq "a pty job sees them too" "$(printed "$id")" "1|$id|$ROOT"
out=$(ae run --wait -- sh -c 'ae_inner=$(env | grep -c "^AGENT_EXEC"); echo "$ae_inner"')
check_eq "... and no other AGENT_EXEC variable by default" "$(printed "$(job_id "$out")")" 3

# abs_root FILE: the root a job printed, if it is absolute and names an
# existing directory: that directory without symlinks or dot-dots.
abs_root() {
	_printed=$(cut -d'|' -f3 "$1" 2>/dev/null)
	case $_printed in
	/*) (cd "$_printed" 2>/dev/null && pwd -P) ;;
	*) echo "not absolute: $_printed" ;;
	esac
}
mkdir -p "$TMP/cwd"
real_tmp=$(cd "$TMP" && pwd -P)
out=$(cd "$TMP/cwd" && "$AE_BIN" --root ../relroot run --wait -- sh -c "$show")
id=$(job_id "$out")
check_eq "--root given as a relative path: AGENT_EXEC_ROOT is absolute (and the root)" \
	"$(abs_root "$TMP/relroot/$id/stdout.log")" "$real_tmp/relroot"
echo "# note: --root ../relroot gives AGENT_EXEC_ROOT=$(cut -d'|' -f3 "$TMP/relroot/$id/stdout.log")"
check_eq "... the job's id is there" "$(cut -d'|' -f1,2 "$TMP/relroot/$id/stdout.log")" "1|$id"
out=$(cd "$TMP/cwd" && AGENT_EXEC_ROOT=rel2 "$AE_BIN" run --wait -- sh -c "$show")
id=$(job_id "$out")
check_eq "... the root from \$AGENT_EXEC_ROOT (relative) too" \
	"$(abs_root "$TMP/cwd/rel2/$id/stdout.log")" "$real_tmp/cwd/rel2"

# the variables lead back to the job: it can ask about itself
out=$(ae run --wait -- sh -c '"$1" --root "$AGENT_EXEC_ROOT" status "$AGENT_EXEC_JOB_ID"' sh "$AE_BIN")
id=$(job_id "$out")
check_contains "a job can ask status about itself with them" "$(printed "$id")" \
	"\"job_id\":\"$id\",\"state\":\"running\""

# ---- the caller's environment, PATH included ------------------------------------------------

# A directory on the caller's PATH that no profile knows: a one-word
# command (through the default wrapper) finds the program in it, and so
# does a notify command.
mkdir -p "$TMP/callerbin"
printf '#!/bin/sh\necho "hello from the caller PATH"\n' >"$TMP/callerbin/ae-caller-tool"
printf '#!/bin/sh\ncat >"$1"\n' >"$TMP/callerbin/ae-report-back"
chmod +x "$TMP/callerbin/ae-caller-tool" "$TMP/callerbin/ae-report-back"
CALLER_PATH="$TMP/callerbin:$PATH"
capture env PATH="$CALLER_PATH" "$AE_BIN" --root "$ROOT" run --wait ae-caller-tool
id=$(job_id "$OUT")
check_eq "a one-word command on the caller's PATH runs: exited 0" \
	"$(json_str state "$OUT") $(json_num exit_code "$OUT")" "exited 0"
check_eq "... and prints" "$(printed "$id")" "hello from the caller PATH"
check_contains "... meta.json records the default wrapper sh -c" \
	"$(json_flat "$ROOT/$id/meta.json")" '"shell_wrapper": ["sh","-c"]'
capture env PATH="$CALLER_PATH" "$AE_BIN" --root "$ROOT" run --wait \
	--notify-command "ae-report-back '$TMP/reported.json'" -- true
id=$(job_id "$OUT")
wait_for "a notify command on the caller's PATH is found and delivers" 20 \
	delivery_is "$id" delivered
check_eq "... it got the job.finished event" \
	"$(json_str event_type "$(cat "$TMP/reported.json")")" job.finished

# one word (through sh -c) and argv (executed directly) see the same
# environment: the caller's, with --env and AGENT_EXEC*, nothing from a
# profile (a shell adds PWD, SHLVL and _, which are left out here, as is
# the job's own id)
env_of() {
	sed -n '/^[A-Za-z_][A-Za-z0-9_]*=/p' "$ROOT/$1/stdout.log" |
		grep -v '^PWD=\|^SHLVL=\|^_=\|^OLDPWD=\|^AGENT_EXEC_JOB_ID=' | sort
}
id1=$(job_id "$(env PATH="$CALLER_PATH" AE_PROBE='a b' "$AE_BIN" --root "$ROOT" \
	run --wait --env EXTRA=1 -- env)")
id2=$(job_id "$(env PATH="$CALLER_PATH" AE_PROBE='a b' "$AE_BIN" --root "$ROOT" \
	run --wait --env EXTRA=1 -- env -u AE_NOT_SET)")
check "run -- env (one word) printed an environment" test -n "$(env_of "$id1")"
check_eq "... the same as run -- env -u X (argv)" "$(env_of "$id1")" "$(env_of "$id2")"
check_contains "... the caller's PATH, unchanged" "$(env_of "$id1")" "PATH=$CALLER_PATH"
check_contains "... the caller's variables" "$(env_of "$id1")" "AE_PROBE=a b"
check_contains "... and --env" "$(env_of "$id1")" "EXTRA=1"
want=$(env PATH="$CALLER_PATH" AE_PROBE='a b' EXTRA=1 AGENT_EXEC=1 \
	AGENT_EXEC_ROOT="$ROOT" env |
	grep -v '^PWD=\|^SHLVL=\|^_=\|^OLDPWD=\|^AGENT_EXEC_JOB_ID=' | sort)
check_contains "... and its own id" "$(cat "$ROOT/$id1/stdout.log")" \
	"AGENT_EXEC_JOB_ID=$id1"
check_eq "... exactly the caller's environment, --env and AGENT_EXEC*" \
	"$(env_of "$id1")" "$want"
# a login shell stays one option away
capture ae run --wait --shell-wrapper 'sh -lc' 'echo $0'
check_eq "--shell-wrapper 'sh -lc': a login shell runs the word" \
	"$(json_str state "$OUT") $(printed "$(job_id "$OUT")")" "exited sh"

# ---- names in list ---------------------------------------------------------------------------

# name_of ID: the name list gives the job.
name_of() {
	ae list --all | grep -o "\"job_id\":\"$1\",\"name\":\"[^\"]*\"" |
		sed 's/.*"name":"//; s/"$//'
}
# name_is DESC WANT CREATE-ARGS...: create a job, check its name.
name_is() {
	_desc=$1
	_want=$2
	shift 2
	_id=$(job_id "$(ae create "$@")")
	check_eq "name: $_desc" "$(name_of "$_id")" "$_want"
}
name_is "npm run build" "npm run build" -- npm run build
name_is "/usr/bin/pytest -q tests/ (path dropped, option skipped)" \
	"pytest tests/" -- /usr/bin/pytest -q tests/
name_is "'make -j4 && make test' (one shell word: stops at &&)" make \
	-- 'make -j4 && make test'
name_is "'make || echo failed' (stops at ||)" make -- 'make || echo failed'
name_is "'cargo build | tee log' (stops at |)" "cargo build" -- 'cargo build | tee log'
name_is "'make -j4 ; make install' (stops at ;)" make -- 'make -j4 ; make install'
name_is "'make&&make test' (&& without spaces)" make -- 'make&&make test'
name_is "'npm test; echo done' (; right after a word)" "npm test" -- 'npm test; echo done'
name_is "npm run build --prod extra (at most 3 words)" "npm run build" \
	-- npm run build --prod extra
name_is "cargo test --release -p foo (options skipped)" "cargo test foo" \
	-- cargo test --release -p foo
name_is "python3 -m pytest -x tests/unit" "python3 pytest tests/unit" \
	-- python3 -m pytest -x tests/unit
name_is "sleep 30" "sleep 30" -- sleep 30
name_is "make (one word)" make -- make
name_is "./build.sh --fast (path dropped)" build.sh -- ./build.sh --fast
name_is "bin/tool run x y (path dropped, 3 words)" "tool run x" -- bin/tool run x y
name_is "'  npm   ci  ' (spaces)" "npm ci" -- '  npm   ci  '
name_is "a shell word with tabs" "make all" -- "$(printf 'make\t-j4\tall')"
name_is "/usr/local/bin/node server.js" "node server.js" -- /usr/local/bin/node server.js
id=$(job_id "$(ae run --wait -- sh -c 'exit 0')")
check "... a finished job has a name too" test -n "$(name_of "$id")"
ae list --all >"$TMP/list.json"
check_schema "the list answer (with names) is an answer" - "$TMP/list.json"
check_schema "... and matches list" list "$TMP/list.json"
