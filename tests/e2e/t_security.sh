#!/bin/sh
# Security: --env values never on any process command line; masked values
# in no answer, record or event; job directories 0700 and every file in
# them 0600 (meta.json, state.json, logs, env.json, stdin, lock, input.sock,
# completion_event.json, notification_events.ndjson) under umask 000 and
# 077, the root and its event log too; no command injection through job
# output, --meta, --callback-session/--callback-agent or a sink's path: the
# values reach sinks only on stdin and in the environment, verbatim.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ans"

# ---- secrets and command lines ------------------------------------------------------------

plain="plain-secret-$$-Zq81"
masked="masked-secret-$$-Wx42"
printf '%s\n%s\n' "$plain" "$masked" >"$TMP/secrets.pat"
printf '%s\n' "$masked" >"$TMP/masked.pat"
# no_secret_cmdline: no process's command line holds either secret
no_secret_cmdline() { [ -z "$(pids_with_text "$TMP/secrets.pat")" ]; }
# lacks_masked FILE...: none of the files holds the masked secret
lacks_masked() { ! cat "$@" 2>/dev/null | grep -qF -f "$TMP/masked.pat"; }

make_script "$TMP/slow-sink.sh" <<'EOS'
cat >/dev/null
echo started >"$1"
sleep 2
EOS
capture ae run --snapshot-after 0 --env "PLAIN=$plain" --env "HIDDEN=$masked" --mask HIDDEN \
	--notify-command "$TMP/slow-sink.sh $TMP/sink.started" -- sleep 60
id=$(job_id "$OUT")
printf '%s\n' "$OUT" >"$TMP/ans/run"
check_eq "a job with --env secrets runs" "$(state_of "$id")" running
cmdline_check "while it runs, no /proc/*/cmdline holds an --env value (masked or not)" no_secret_cmdline
sup=$(record_num "$id" supervisor_pid)
title_is() { [ "$(tr '\0' ' ' <"/proc/${sup:-0}/cmdline" 2>/dev/null | sed 's/ *$//')" = "$1" ]; }
cmdline_check "... the supervisor's command line is its title" title_is "agent-exec supervisor $id"
printf 'PLAIN=%s\nHIDDEN=%s\n' "$plain" "$masked" >"$TMP/env.pat"
check_eq "... the job sees both values" \
	"$(tr '\0' '\n' <"/proc/$(record_num "$id" pid)/environ" 2>/dev/null | grep -cxF -f "$TMP/env.pat")" 2
capture ae status "$id"
printf '%s\n' "$OUT" >"$TMP/ans/status"
capture ae list --all
printf '%s\n' "$OUT" >"$TMP/ans/list"
capture ae tail "$id"
printf '%s\n' "$OUT" >"$TMP/ans/tail"
ae kill "$id" >/dev/null	# the job ends now: its sink runs
wait_for "the completion sink runs" 10 test -e "$TMP/sink.started"
cmdline_check "while the sink runs, no command line holds a value either" no_secret_cmdline
capture ae wait "$id"
printf '%s\n' "$OUT" >"$TMP/ans/wait"
until_true 10 delivery_is "$id" delivered
for a in run status list tail wait; do
	check "the masked value is in no $a answer" lacks_masked "$TMP/ans/$a"
done
check_contains "... run shows it masked" "$(cat "$TMP/ans/run")" '"HIDDEN=***"'
check "the masked value is not in meta.json" lacks_masked "$ROOT/$id/meta.json"
check "... nor in state.json, completion_event.json" lacks_masked \
	"$ROOT/$id/state.json" "$ROOT/$id/completion_event.json"
ae events >"$TMP/events.ndjson"
check "... nor in the event log" lacks_masked "$TMP/events.ndjson"
# run --wait lives as long as its job: its own command line must not keep
# the values either
ae run --wait --tag waited.run --env "PLAIN=$plain" --env "HIDDEN=$masked" \
	--mask HIDDEN -- sh -c 'echo started >"$1"; sleep 30' x "$TMP/waited.started" \
	>"$TMP/waited.out" 2>&1 &
waiter=$!
wait_for "run --wait: the job runs" 10 test -e "$TMP/waited.started"
cmdline_check "while run --wait waits, no command line holds an --env value" no_secret_cmdline
wid=$(json_str job_id "$(ae list --all --tag waited.run)")
ae kill "$wid" >/dev/null
wait "$waiter"
check_contains "... run --wait answers once the job is killed" "$(cat "$TMP/waited.out")" '"state":"killed"'
# a created job keeps the real value only in env.json
capture ae create --env "HIDDEN=$masked" --mask HIDDEN -- \
	sh -c 'printf %s "$HIDDEN" >"$1"' x "$TMP/created.saw"
cid=$(job_id "$OUT")
check "create: the masked value is not in the answer" test -z "$(printf '%s' "$OUT" | grep -F -f "$TMP/masked.pat")"
check "... nor in meta.json" lacks_masked "$ROOT/$cid/meta.json"
check "... it is in env.json" grep -qF -f "$TMP/masked.pat" "$ROOT/$cid/env.json"
check_eq "... env.json is 0600" "$(mode_octal "$ROOT/$cid/env.json")" 600
capture ae start --wait "$cid"
check "start: the masked value is not in the answer" lacks_masked "$TMP/.capture.out"
check_eq "... the job got it" "$(cat "$TMP/created.saw" 2>/dev/null)" "$masked"
capture ae status "$cid"
check "... nor in status" lacks_masked "$TMP/.capture.out"

# ---- modes whatever the umask --------------------------------------------------------------

# check_modes UMASK: jobs on a root of their own created under UMASK
check_modes() {
	_u=$1
	_r="$TMP/u$_u"
	mkdir -p "$TMP/sinks$_u"
	# a created job (env.json), then started with input, sinks and an
	# output-match rule (stdin, completion_event.json,
	# notification_events.ndjson)
	_id=$(job_id "$(umask "$_u" && "$AE_BIN" --root "$_r" create --env K=v --stdin data \
		--notify-command true --notify-file "$TMP/sinks$_u/done.ndjson" \
		-- sh -c 'cat; echo; echo match-me')")
	check_eq "umask $_u: created job, env.json 0600" "$(mode_octal "$_r/$_id/env.json")" 600
	(umask "$_u" && "$AE_BIN" --root "$_r" notify set "$_id" --output-pattern match-me \
		--output-file "$TMP/sinks$_u/match.ndjson") >/dev/null
	(umask "$_u" && "$AE_BIN" --root "$_r" start --wait "$_id") >/dev/null
	until_true 10 has_lines "$TMP/sinks$_u/done.ndjson" 1
	until_true 10 test -s "$_r/$_id/notification_events.ndjson"
	_done() { [ "$(json_str delivery_status "$(cat "$_r/$_id/completion_event.json" 2>/dev/null)")" = delivered ]; }
	until_true 10 _done
	# an interactive job, for input.sock, while it runs
	_iid=$(job_id "$(umask "$_u" && "$AE_BIN" --root "$_r" run --snapshot-after 0 --interactive -- cat)")
	check_eq "umask $_u: the root is 0700" "$(mode_octal "$_r")" 700
	for _j in "$_id" "$_iid"; do
		check_eq "umask $_u: job directory $_j is 0700" "$(mode_octal "$_r/$_j")" 700
	done
	_files=$(ls -A "$_r/$_id" "$_r/$_iid" | grep -v ':$' | grep -v '^$' | sort -u | tr '\n' ' ')
	echo "# note: umask $_u: files in job directories: $_files"
	for _f in meta.json state.json stdout.log stderr.log full.log lock stdin \
		completion_event.json notification_events.ndjson; do
		check_eq "umask $_u: $_f is 0600" "$(mode_octal "$_r/$_id/$_f")" 600
	done
	check_match "umask $_u: input.sock (interactive, running) is the owner's only" \
		"$(mode_octal "$_r/$_iid/input.sock")" '^[67]00$'
	echo "# note: umask $_u: input.sock is $(mode_octal "$_r/$_iid/input.sock")"
	_bad=""
	for _f in "$_r/$_id"/* "$_r/$_id"/.[!.]* "$_r/$_iid"/* "$_r/$_iid"/.[!.]*; do
		[ -f "$_f" ] || continue
		[ "$(mode_octal "$_f")" = 600 ] || _bad="$_bad $(basename "$_f"):$(mode_octal "$_f")"
	done
	check_eq "umask $_u: every regular file in the job directories is 0600" "$_bad" ""
	check_eq "umask $_u: the event log directory is 0700" "$(mode_octal "$_r/.events")" 700
	_bad=""
	for _f in "$_r/.events"/* "$_r/.events"/.[!.]*; do
		[ -e "$_f" ] || continue
		[ "$(mode_octal "$_f")" = 600 ] || _bad="$_bad $(basename "$_f"):$(mode_octal "$_f")"
	done
	check_eq "umask $_u: every file of the event log is 0600" "$_bad" ""
	echo "# note: umask $_u: the --notify-file sink file is $(mode_octal "$TMP/sinks$_u/done.ndjson")"
	"$AE_BIN" --root "$_r" write --eof "$_iid" >/dev/null
	until_true 10 sh -c '! "$1" --root "$2" status "$3" | grep -q "\"state\":\"running\""' \
		sh "$AE_BIN" "$_r" "$_iid"
}
check_modes 000
check_modes 077

# ---- no injection into sinks -----------------------------------------------------------------

P="$TMP/pwned"
# every shell trick, each creating a file under $P if it were ever run
INJ='$(touch '"$P"'.1) `touch '"$P"'.2` ; touch '"$P"'.3 | touch '"$P"'.4 && touch '"$P"'.5'
INJ2="'; touch $P.6; ' \"; touch $P.7; \" \\\$(touch $P.8) \${IFS}touch\${IFS}$P.9"
# rec.sh DIR: keep the event (stdin) and the callback variables
make_script "$TMP/rec.sh" <<'EOS'
n=$AGENT_EXEC_EVENT_TYPE.$$
cat >"$1/$n.event"
printf '%s' "$AGENT_EXEC_CALLBACK_SESSION" >"$1/$n.session"
printf '%s' "$AGENT_EXEC_CALLBACK_AGENT" >"$1/$n.agent"
EOS
mkdir -p "$TMP/got" "$TMP/sink;touch $P.10"
id=$(job_id "$(ae create --meta "inj=$INJ" --meta "inj2=$INJ2" --callback-session "$INJ" \
	--callback-agent "$INJ2" --notify-command "$TMP/rec.sh $TMP/got" \
	--notify-file "$TMP/sink;touch $P.10/events \$(touch $P.11).ndjson" \
	-- printf '%s\n%s\n' "$INJ" "$INJ2")")
ae notify set "$id" --output-pattern touch --output-command "$TMP/rec.sh $TMP/got" >/dev/null
out=$(ae start --wait "$id")
check_eq "a job printing shell syntax, with shell syntax in its metadata: exited 0" \
	"$(json_str state "$out") $(json_num exit_code "$out")" "exited 0"
wait_for "its job.finished reaches the command sink" 10 delivery_is "$id" delivered
matched_done() { [ "$(grep -c '"delivery_status":"delivered"' "$ROOT/$id/notification_events.ndjson" 2>/dev/null)" -ge 2 ]; }
wait_for "... its two output matches are delivered" 10 matched_done
check_eq "nothing was executed: no $P.* file" "$(ls "$TMP" | grep -c '^pwned')" 0
fin=$(ls "$TMP/got"/job.finished.*.event 2>/dev/null | head -n 1)
ev=$(cat "$fin" 2>/dev/null)
check_eq "job.finished on stdin: --meta inj verbatim" "$(json_decode inj "$ev")" "$INJ"
check_eq "... --meta inj2 verbatim" "$(json_decode inj2 "$ev")" "$INJ2"
check_eq "... callback_session verbatim" "$(json_decode callback_session "$ev")" "$INJ"
check_eq "... callback_agent verbatim" "$(json_decode callback_agent "$ev")" "$INJ2"
check_eq "... the output verbatim in stdout_tail" "$(json_decode stdout_tail "$ev")" \
	"$INJ
$INJ2"
check_eq "AGENT_EXEC_CALLBACK_SESSION verbatim" "$(cat "${fin%.event}.session")" "$INJ"
check_eq "AGENT_EXEC_CALLBACK_AGENT verbatim" "$(cat "${fin%.event}.agent")" "$INJ2"
for f in "$TMP/got"/job.output.matched.*.event; do
	[ -e "$f" ] && { json_decode line "$(cat "$f")"; echo; }
done | sort >"$TMP/matched.lines"
printf '%s\n%s\n' "$INJ" "$INJ2" | sort >"$TMP/printed.lines"
check "job.output.matched on stdin: each line verbatim" \
	cmp -s "$TMP/printed.lines" "$TMP/matched.lines"
check_eq "the file sink's path is taken literally (one file of that name)" \
	"$(line_count "$TMP/sink;touch $P.10/events \$(touch $P.11).ndjson")" 1
check_schema "... holding a valid job_finished_event" job_finished_event --lines \
	"$TMP/sink;touch $P.10/events \$(touch $P.11).ndjson"
check_eq "still nothing executed" "$(ls "$TMP" | grep -c '^pwned')" 0

# ---- a root another user could write to -----------------------------------------------------

# A root writable by others, or another user's, is refused (as ssh refuses
# such files): a planted "running" job there could make us signal any
# process, and its event log could be read or forged.
W="$TMP/wroot"
"$AE_BIN" --root "$W" run --wait -- true >/dev/null
wid=$(ls "$W" | grep -v '^\.' | head -n 1)
chmod 0777 "$W"
for cmd in "run -- true" "list --all" "status $wid" "gc" "kill $wid" "events"; do
	# shellcheck disable=SC2086 # the words of cmd
	capture "$AE_BIN" --root "$W" $cmd
	check_eq "a world-writable root: $cmd is refused: unsafe_permissions" \
		"$RC $(json_str code "$OUT")" "1 unsafe_permissions"
done
check_contains "... the message names the root and why" "$(json_text message "$OUT")" \
	"$W or its .events is not yours alone"
capture "$AE_BIN" --root "$W" status "$wid"
check_contains "... status names the root and what is wrong" "$(json_text message "$OUT")" \
	"$W is writable by everyone (mode 0777)"
check_eq "... nothing was made in it" "$(ls "$W" | grep -vc '^\.')" 1
chmod 0700 "$W"
chmod 0703 "$W/$wid"
capture "$AE_BIN" --root "$W" status "$wid"
check_eq "a world-writable job directory: status is refused: unsafe_permissions" \
	"$RC $(json_str code "$OUT")" "1 unsafe_permissions"
capture "$AE_BIN" --root "$W" list --all
check_eq "... list skips it: no job, skipped 1" \
	"$(json_num skipped "$OUT") $(printf '%s' "$OUT" | grep -c "$wid")" "1 0"
capture "$AE_BIN" --root "$W" gc --older-than 0
check_contains "... gc leaves it: unsafe_permissions" "$OUT" \
	"\"job_id\":\"$wid\",\"state\":\"unknown\",\"action\":\"skipped\",\"reason\":\"unsafe_permissions\""
chmod 0700 "$W/$wid"
capture "$AE_BIN" --root "$W" status "$wid"
check_eq "... made private again, it is a job again" "$RC $(json_str state "$OUT")" "0 exited"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	N="$TMP/nroot"
	"$AE_BIN" --root "$N" run --wait -- true >/dev/null
	nid=$(ls "$N" | grep -v '^\.' | head -n 1)
	chown -R nobody "$N"
	capture "$AE_BIN" --root "$N" status "$nid"
	check_eq "another user's root (root runs status): unsafe_permissions" \
		"$RC $(json_str code "$OUT")" "1 unsafe_permissions"
	check_contains "... saying whose it is" "$(json_text message "$OUT")" "is owned by uid $(id -u nobody)"
	capture "$AE_BIN" --root "$N" run -- true
	check_eq "... run in it is refused too" "$RC $(json_str code "$OUT")" "1 unsafe_permissions"
	chown root "$N"
	capture "$AE_BIN" --root "$N" status "$nid"
	check_eq "another user's job directory in our root: unsafe_permissions" \
		"$RC $(json_str code "$OUT")" "1 unsafe_permissions"
	chown -R root "$N"
	# group-writable: refused for a shared group, allowed for the user's
	# private group (named as the user, no other member), as ssh does
	own_group=$(id -gn)
	if grep -q "^$own_group:[^:]*:$(id -g):\$" /etc/group && [ "$own_group" = "$(id -un)" ] &&
		other=$(getent group nogroup users 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$other" ]; then
		chmod 0770 "$N"
		chgrp "$other" "$N"
		capture "$AE_BIN" --root "$N" status "$nid"
		check_eq "a root writable by a shared group ($other): unsafe_permissions" \
			"$RC $(json_str code "$OUT")" "1 unsafe_permissions"
		check_contains "... saying so" "$(json_text message "$OUT")" "is writable by its group (mode 0770)"
		chgrp "$own_group" "$N"
		capture "$AE_BIN" --root "$N" status "$nid"
		check_eq "... by the user's private group ($own_group): trusted" "$RC $(json_str state "$OUT")" "0 exited"
	else
		echo "# skip: no private group of the user, or no other group, to test group-writable roots"
	fi
else
	echo "# skip: another user's root and job directory need root (chown)"
fi
