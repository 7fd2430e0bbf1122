#!/bin/sh
# The output-match rule defined with the job (issue 18): run and create
# take --output-pattern, --output-match-type, --output-stream,
# --output-command and --output-file, so the rule sees the job's first
# line; mistakes are caught before anything is created.
. "$(dirname "$0")/lib.sh"

count_dirs() { find "$ROOT" -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | wc -l | tr -d ' '; }
# matched FILE: the lines of job.output.matched events in FILE.
matched() { grep -c '"event_type":"job.output.matched"' "$1" 2>/dev/null || echo 0; }

capture ae run --wait --output-pattern READY --output-file "$TMP/m1" -- \
	sh -c 'echo READY first; echo not this; echo READY again'
check_eq "run --output-pattern: the job ran" "$(json_str state "$OUT")" exited
wait_for "... both matching lines are delivered, the first line among them" 10 \
	sh -c '[ "$(grep -c "job.output.matched" "$1" 2>/dev/null)" = 2 ]' x "$TMP/m1"
check_contains "... the first line matched" "$(cat "$TMP/m1")" '"line":"READY first"'
check "... not the line without the pattern" sh -c '! grep -q "not this" "$1"' x "$TMP/m1"

capture ae run --wait --output-pattern '^E[0-9]+$' --output-match-type regex \
	--output-stream stderr --output-file "$TMP/m2" -- sh -c 'echo E1; echo E2 >&2; echo E3x >&2'
wait_for "regex on stderr only: one match (E2)" 10 \
	sh -c '[ "$(grep -c "job.output.matched" "$1" 2>/dev/null)" = 1 ]' x "$TMP/m2"
check_contains "... E2 from stderr" "$(cat "$TMP/m2")" '"line":"E2"'

capture ae run --wait --output-pattern hit --output-command "cat >>'$TMP/m3'" -- echo hit
wait_for "--output-command: the event on the command's stdin" 10 \
	grep -q '"event_type":"job.output.matched"' "$TMP/m3"

id=$(job_id "$(ae create --output-pattern go --output-file "$TMP/m4" -- echo go now)")
capture ae status "$id"
check_contains "create --output-pattern: the rule is in the job's notification" "$(cat "$ROOT/$id/meta.json")" '"pattern": "go"'
ae start --wait "$id" >/dev/null
wait_for "... and start delivers the first line's match" 10 \
	grep -q '"line":"go now"' "$TMP/m4"

before=$(count_dirs)
check_error "an invalid regex: invalid_regex" invalid_regex \
	ae run --output-pattern '(' --output-match-type regex -- true
check_eq "... nothing created" "$(count_dirs)" "$before"
check_usage_error "--output-file without --output-pattern: a usage error" \
	"$AE_BIN" --root "$ROOT" run --output-file "$TMP/x" -- true
check_usage_error "create --output-stream without --output-pattern: a usage error" \
	"$AE_BIN" --root "$ROOT" create --output-stream stdout -- true
check_usage_error "--output-stream bogus: a usage error" \
	"$AE_BIN" --root "$ROOT" run --output-pattern x --output-stream bogus -- true
check_eq "... nothing created" "$(count_dirs)" "$before"
capture ae run --wait --output-pattern '' -- echo x
check_eq "an empty --output-pattern sets no rule" "$(json_str state "$OUT")" exited
check "... none recorded" sh -c '! grep -q "\"pattern\"" "$1"' x "$ROOT/$(json_str job_id "$OUT")/meta.json"
