#!/bin/sh
# --mask, what the job prints: a masked value the job prints (whole, split
# across two reads of its pipe, on stderr, on a terminal; from --env, an
# env file or the caller's environment) is "***" in its logs and so in
# every answer (run, start, status, tail, wait, log), snapshot, event line,
# completion_event.json, job.output.matched event and notify payload; a
# notify command's environment lacks the masked keys; only the env.json of
# a job given the value by --env holds it, and the job itself always gets
# it.
. "$(dirname "$0")/lib.sh"

secret=s3cr3t
# grep for the secret through a file, so that no command line holds it
printf '%s\n' "$secret" >"$TMP/secret.pat"
printf '%s' "$secret" >"$TMP/secret.txt"
# has_secret TEXT: whether TEXT holds the secret
has_secret() { printf '%s\n' "$1" | grep -qF -f "$TMP/secret.pat"; }
check_no_secret() {
	if has_secret "$2"; then
		not_ok "$1"
		echo "#   the secret is in: $(printf '%s' "$2" | head -c 400)"
	else
		ok "$1"
	fi
}
# files_with_secret DIR: the files under DIR holding the secret
files_with_secret() { grep -rlF -f "$TMP/secret.pat" "$1" 2>/dev/null; }
# job_saw: the job compares its TOKEN with the real value (read from a
# file outside the root, so no record holds the value) and says so
job_saw='if test "$TOKEN" = "$(cat "$1")"; then echo real; else echo wrong; fi'

# ---- the issue's command ---------------------------------------------------------

capture ae run --wait --env TOKEN=s3cr3t --mask TOKEN -- sh -c 'echo token is $TOKEN'
id=$(job_id "$OUT")
check_eq "the issue's command: stdout_tail is token is ***" \
	"$(json_str stdout_tail "$OUT")" "token is ***"
check_no_secret "... the run --wait answer lacks the value" "$OUT"
check_eq "... stdout.log holds the redacted line" \
	"$(cat "$ROOT/$id/stdout.log")" "token is ***"
check_contains "... so does full.log" "$(cat "$ROOT/$id/full.log")" \
	"[STDOUT] token is ***"
check_eq "... observed bytes count the redacted log" \
	"$(json_num stdout_observed_bytes "$OUT")" 13
capture ae run --wait --env TOKEN=s3cr3t --mask TOKEN -- sh -c "$job_saw" sh \
	"$TMP/secret.txt"
check_eq "the job itself gets the real value" "$(json_str stdout_tail "$OUT")" real

# ---- split across two reads of the pipe --------------------------------------------

capture ae run --wait --env TOKEN=s3cr3t --mask TOKEN -- \
	sh -c 'printf s3c; sleep 1; printf "r3t\n"'
id=$(job_id "$OUT")
check_eq "a value split by a pause (two reads): stdout_tail is ***" \
	"$(json_str stdout_tail "$OUT")" "***"
check_eq "... stdout.log is ***" "$(cat "$ROOT/$id/stdout.log")" "***"

# Held back, then completed: the job prints the first bytes, then (once
# the supervisor has read them: the stderr line after them is in the log)
# the rest. Until then the first bytes are not in the log at all.
make_script "$TMP/halves.sh" <<'EOS'
printf s3c
printf 'first half\n' >&2
i=0
while [ ! -e "$1" ]; do
	sleep 0.02
	i=$((i + 1))
	[ $i -gt 1500 ] && exit 9
done
printf 'r3t and s3c'
EOS
id=$(start_job --env TOKEN=s3cr3t --mask TOKEN -- "$TMP/halves.sh" "$TMP/go")
wait_for "the job printed the first half (read by the supervisor)" 10 \
	grep -q "first half" "$ROOT/$id/stderr.log"
check_eq "... a possible start of the value is held back: stdout.log empty" \
	"$(file_size "$ROOT/$id/stdout.log")" 0
: >"$TMP/go"
capture ae wait --timeout-ms "$(($(bound 10) * 1000))" "$id"
check_eq "... the second half completes it: ***, and a final prefix shows at the end" \
	"$(cat "$ROOT/$id/stdout.log")" "*** and s3c"
check_no_secret "... the wait answer lacks the value" "$OUT"

# ---- the sources of the value, the streams, a terminal -----------------------------

printf 'TOKEN=%s\nOTHER=x\n' "$secret" >"$TMP/token.env"
capture ae run --wait --env-file "$TMP/token.env" --mask TOKEN -- \
	sh -c 'echo "file $TOKEN"'
from_file=$(job_id "$OUT")
check_eq "a value from --env-file: redacted" "$(json_str stdout_tail "$OUT")" \
	"file ***"
capture ae run --wait --env-file "$TMP/token.env" --mask TOKEN -- \
	sh -c "$job_saw" sh "$TMP/secret.txt"
check_eq "... the job gets the real value from the file" \
	"$(json_str stdout_tail "$OUT")" real
capture env TOKEN="$secret" "$AE_BIN" --root "$ROOT" run --wait --mask TOKEN \
	-- sh -c 'echo "inherited $TOKEN"'
inherited=$(job_id "$OUT")
check_eq "a value from the caller's environment: redacted" \
	"$(json_str stdout_tail "$OUT")" "inherited ***"
capture ae run --wait --env TOKEN=s3cr3t --mask TOKEN -- \
	sh -c 'echo "on stderr $TOKEN" >&2; echo out'
id=$(job_id "$OUT")
check_eq "on stderr: stderr_tail redacted" "$(json_str stderr_tail "$OUT")" \
	"on stderr ***"
check_no_secret "... stderr.log lacks the value" "$(cat "$ROOT/$id/stderr.log")"
check_contains "... full.log has the redacted stderr line" \
	"$(cat "$ROOT/$id/full.log")" "[STDERR] on stderr ***"
capture ae run --wait --pty --env TOKEN=s3cr3t --mask TOKEN -- \
	sh -c 'echo "tty $TOKEN"'
id=$(job_id "$OUT")
check_eq "--pty: redacted" "$(json_str stdout_tail "$OUT")" "tty ***"
check_no_secret "... stdout.log lacks the value" "$(cat "$ROOT/$id/stdout.log")"
capture ae run --wait --env TOKEN=s3cr3t --env OTHER=s3 --mask TOKEN --mask OTHER \
	-- sh -c 'echo "$OTHER $TOKEN ${TOKEN}x $OTHER"'
check_eq "two masked values, one the start of the other: each replaced" \
	"$(json_str stdout_tail "$OUT")" "*** *** ***x ***"
capture ae run --wait --env EMPTY= --mask EMPTY -- sh -c 'echo "[$EMPTY]"'
check_eq "an empty masked value hides nothing" "$(json_str stdout_tail "$OUT")" \
	"[]"
{ printf 'LONG='; head -c 100000 /dev/zero | tr '\0' y; echo; } >"$TMP/long.env"
capture ae run --wait --env-file "$TMP/long.env" --mask LONG -- \
	sh -c 'printf "%s\n%s\n" "$LONG" "$LONG"; printf "%s" "$LONG" | head -c 99999'
id=$(job_id "$OUT")
# each line of stdout.log as itself, or its length when long
check_eq "a 100,000-byte value, over several reads: replaced; a prefix at the end is not" \
	"$(awk '{ print (length($0) > 20 ? length($0) " bytes" : $0) }' \
		"$ROOT/$id/stdout.log" | tr '\n' ' ')" "*** *** 99999 bytes "
# a value longer than the kernel's limit for one environment string
{ printf 'BIG='; head -c 140000 /dev/zero | tr '\0' x; echo; } >"$TMP/big.env"
capture ae run --wait --env-file "$TMP/big.env" --mask BIG -- true
check_eq "a masked value over 128 KiB: the job failed" "$(json_str state "$OUT")" \
	failed
check_contains "... the error names the variable and the limit" \
	"$(json_text error "$OUT")" "masked variable BIG is longer than 131072 bytes"
# (in a root of its own: the value is in its logs)
capture "$AE_BIN" --root "$TMP/unmasked" run --wait --env TOKEN=s3cr3t \
	--mask NOTGIVEN -- sh -c 'echo $TOKEN'
check_eq "a value that is not masked is shown" "$(json_str stdout_tail "$OUT")" \
	"$secret"

# ---- every answer, record and event of one job -------------------------------------

make_script "$TMP/sink.sh" <<'EOS'
cat >"$1.json"
env >"$1.env"
EOS
capture env TOKEN="$secret" KEEP=kept "$AE_BIN" --root "$ROOT" run \
	--snapshot-after 5000 --env TOKEN=s3cr3t --mask TOKEN \
	--log "$TMP/full-elsewhere.log" \
	--notify-command "$TMP/sink.sh $TMP/notified" \
	--notify-file "$TMP/notify.ndjson" \
	-- sh -c 'echo "token is $TOKEN"; echo "err $TOKEN" >&2'
id=$(job_id "$OUT")
check_eq "run --snapshot-after: the job ended within the window" \
	"$(json_str state "$OUT")" exited
check_eq "... the snapshot's stdout_tail is redacted" \
	"$(json_str stdout_tail "$OUT")" "token is ***"
check_no_secret "... the run answer lacks the value" "$OUT"
wait_for "the completion event is delivered" 10 delivery_is "$id" delivered
wait_for "the notify command ran" 10 test -s "$TMP/notified.env"
for answer in "status $id" "tail $id" "wait $id" "log $id" \
	"log --stream stderr $id" "log --stream full $id" "list --all" \
	"events" "events --job $id"; do
	# shellcheck disable=SC2086 # the words of the command
	capture ae $answer
	check_eq "$answer: exit 0" "$RC" 0
	check_no_secret "$answer: no value in its answer" "$OUT"
done
capture ae tail "$id"
check_eq "tail shows the redacted stdout" "$(json_str stdout_tail "$OUT")" \
	"token is ***"
check_eq "... and stderr" "$(json_str stderr_tail "$OUT")" "err ***"
capture ae log --stream full "$id"
check_contains "log --stream full shows the redacted lines" "$OUT" "token is ***"
check_contains "the --log file is redacted" "$(cat "$TMP/full-elsewhere.log")" \
	"[STDOUT] token is ***"
check_no_secret "... and lacks the value" "$(cat "$TMP/full-elsewhere.log")"
completion=$(cat "$ROOT/$id/completion_event.json")
check_contains "completion_event.json: the redacted stdout_tail" \
	"$completion" '"stdout_tail": "token is ***"'
check_no_secret "... and no value" "$completion"
check_contains "the notify file payload: the redacted tail" \
	"$(cat "$TMP/notify.ndjson")" '"stdout_tail":"token is ***"'
check_no_secret "... and no value" "$(cat "$TMP/notify.ndjson")"
check_contains "the notify command's payload: the redacted tail" \
	"$(cat "$TMP/notified.json")" '"stdout_tail":"token is ***"'
check_no_secret "... and no value" "$(cat "$TMP/notified.json")"
check_no_secret "the notify command's environment lacks the value" \
	"$(cat "$TMP/notified.env")"
check "... and the masked key (the caller exported it)" \
	sh -c '! grep -q "^TOKEN=" "$1"' sh "$TMP/notified.env"
check "... but has the caller's other variables" \
	grep -qx "KEEP=kept" "$TMP/notified.env"
check "... and its own" grep -qx "AGENT_EXEC_JOB_ID=$id" "$TMP/notified.env"
check_eq "the event log holds no value" "$(files_with_secret "$ROOT/.events")" ""

# ---- create, notify set, start ---------------------------------------------------

capture ae create --env TOKEN=s3cr3t --mask TOKEN -- \
	sh -c 'echo "token is $TOKEN"; '"$job_saw" sh "$TMP/secret.txt"
id=$(job_id "$OUT")
check_no_secret "create: the answer lacks the value" "$OUT"
check "... env.json holds the real value" \
	grep -qF -f "$TMP/secret.pat" "$ROOT/$id/env.json"
check_eq "... env.json is 0600" "$(mode_octal "$ROOT/$id/env.json")" 600
capture ae notify set "$id" --output-pattern "token is" \
	--output-file "$TMP/matched.ndjson"
check_eq "notify set --output-pattern on the created job" "$RC" 0
capture ae start --snapshot-after 5000 "$id"
check_eq "start: the job ended within the window" "$(json_str state "$OUT")" \
	exited
check_eq "... it got the real value from env.json" \
	"$(printf '%s\n' "$(json_decode stdout_tail "$OUT")" | tail -n 1)" real
check_contains "... its snapshot shows the line redacted" "$OUT" "token is ***"
check_no_secret "... the start answer lacks the value" "$OUT"
wait_for "job.output.matched is delivered to its file" 10 \
	has_lines "$TMP/matched.ndjson" 1
matched=$(head -n 1 "$TMP/matched.ndjson")
check_eq "job.output.matched: the line, redacted" "$(json_str line "$matched")" \
	"token is ***"
check_no_secret "... the event lacks the value" "$matched"
wait_for "... and its record" 10 has_lines "$ROOT/$id/notification_events.ndjson" 1
check_no_secret "notification_events.ndjson lacks the value" \
	"$(cat "$ROOT/$id/notification_events.ndjson")"
capture ae events --type job.output.matched
check_contains "events: job.output.matched with the redacted line" "$OUT" \
	'"line":"token is ***"'

# ---- the whole root --------------------------------------------------------------

check_eq "in the whole root only env.json files hold the value" \
	"$(files_with_secret "$ROOT" | sed 's|.*/||' | sort -u)" env.json
files_with_secret "$ROOT" >"$TMP/holders"
check "... the created job's among them" grep -qxF "$ROOT/$id/env.json" "$TMP/holders"
check_eq "... each of a job given the value by --env (kept for start and restart)" \
	"$(while read -r f; do grep -q '"env_vars"' "${f%/env.json}/meta.json" || echo "$f"; done <"$TMP/holders")" ""
check_eq "... none of a job that had it from an env file or the caller" \
	"$(grep -c -e "/$from_file/" -e "/$inherited/" "$TMP/holders")" 0
