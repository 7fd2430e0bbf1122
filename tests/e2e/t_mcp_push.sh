#!/bin/sh
# mcp push: agent-exec mcp pushes the end of every job whose
# callback_session is its session key (notifications/claude/channel, and
# notifications/message after logging/setLevel): jobs it launched, jobs the
# CLI launched with --callback-session KEY, never another session's; ends
# that came while no server of the key ran are pushed at the next start
# with that key, each exactly once. The rest of the server: t_mcp.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mcp_lib.sh"

K1=t-mcp-push-one
K2=t-mcp-push-two
OTHER=t-mcp-push-other
CHANNEL=notifications/claude/channel

# pushed ID: the channel notifications naming job ID, one a line
pushed() {
	messages "$CHANNEL" | while IFS= read -r _line; do
		[ "$(jstr "$_line" params.meta.job_id)" = "$1" ] && printf '%s\n' "$_line"
	done
}
# times_pushed ID
times_pushed() { pushed "$1" | grep -c .; }
# meta_problem LINE: what is wrong with a channel notification's shape
# (nothing when it has a text content, no id, and meta values all strings)
meta_problem() {
	[ -n "$(jget "$1" id)" ] && echo "it has an id"
	case $(jget "$1" params.content) in
	'""' | '') echo "no content text" ;;
	'"'*) ;;
	*) echo "content is not a string" ;;
	esac
	for _key in $(jkeys "$1" params.meta); do
		case $(jget "$1" "params.meta.$_key") in
		'"'*) ;;
		*) echo "meta.$_key is not a string" ;;
		esac
	done
}
# check_pushed DESC ID STATE EXIT_CODE: ID's end was pushed once, with
# meta job_id, state, exit_code (none: "-") and event_id, every value a
# string.
check_pushed() {
	_n=$(pushed "$2" | head -n 1)
	_code=$(jget "$_n" params.meta.exit_code)
	_got="$(times_pushed "$2") $(jstr "$_n" params.meta.job_id)"
	_got="$_got $(jstr "$_n" params.meta.state) ${_code:--}"
	_got="$_got $(jstr "$_n" params.meta.event_id) $(meta_problem "$_n")"
	_want="1 $2 $3 $4 $2:job.finished "
	if [ "$_got" = "$_want" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  '$_got'"
		echo "#   want: '$_want'"
		echo "#   $(printf '%s' "$_n" | head -c 400)"
	fi
}

# ---- while the server runs -----------------------------------------------------------

mcp_open --session "$K1"
mcp_hello
mcp_call 1 run '{"command":["sh","-c","exit 3"],"until":10}'
j1=$(scs job_id)
mcp_await_method "$CHANNEL" 10
check_pushed "a job launched through the server: its end is pushed" \
	"$j1" exited '"3"'
check "... once" mcp_sync "no-message $(ms 1500)" 5

mcp_call 2 run '{"command":["sleep","30"],"until":0}'
j2=$(scs job_id)
mcp_call 3 kill "{\"job_id\":\"$j2\",\"signal\":\"KILL\"}"
mcp_await_method "$CHANNEL" 10
check_pushed "a killed job: pushed, state killed, no exit_code" "$j2" killed -

j3=$(job_id "$(ae run --snapshot-after 0 --callback-session "$K1" -- sh -c 'sleep 0.2; exit 5')")
mcp_await_method "$CHANNEL" 10
check_pushed "a CLI job with --callback-session KEY: its end is pushed" \
	"$j3" exited '"5"'

# other sessions' jobs end, then one of K1 (which is pushed after them)
j4=$(job_id "$(ae run --wait --callback-session "$OTHER" -- true)")
j5=$(job_id "$(ae run --wait -- true)")
mcp_call 4 run '{"command":["true"],"callback_session":"t-mcp-push-other"}'
j6=$(scs job_id)
j7=$(job_id "$(ae run --wait --callback-session "$K1" -- true)")
mcp_await_method "$CHANNEL" 10
check_pushed "(a job of the key, after the others)" "$j7" exited '"0"'
check_eq "another session's jobs are not pushed (CLI, or the server's run with callback_session)" \
	"$(times_pushed "$j4") $(times_pushed "$j6") $(times_pushed "$j7")" "0 0 1"
check_eq "a job without a session is not pushed" \
	"$(times_pushed "$j5") $(times_pushed "$j7")" "0 1"
check_eq "four ends pushed, no notifications/message before logging/setLevel" \
	"$(count_messages "$CHANNEL") $(count_messages notifications/message)" "4 0"

mcp_send "send $(rpc 5 logging/setLevel '{"level":"info"}')"
mcp_await 5 3
check_eq "logging/setLevel info: result {}" "$(jget "$R" result)" "{}"
mcp_call 6 run '{"command":["sh","-c","exit 4"],"until":10}'
j8=$(scs job_id)
mcp_await_method notifications/message 10
mcp_await_method "$CHANNEL" 10
check_pushed "after logging/setLevel: still the channel notification" \
	"$j8" exited '"4"'
M=$(messages notifications/message | grep -F "$j8" | head -n 1)
check_eq "... and a notifications/message from logger agent-exec" \
	"$(jstr "$M" params.logger)" agent-exec
check_eq "... its level: warning, for a job that did not exit 0" \
	"$(jstr "$M" params.level)" warning
check_eq "... its data an object" "$(jget "$M" params.data | cut -c1)" "{"
mcp_close
check_client "while the server runs: the client's script passed"

# ---- while no server of the key runs ------------------------------------------------------

mcp_open --session "$K2"
mcp_hello
mcp_call 1 run "{\"command\":[\"sh\",\"-c\",\"until [ -e '$TMP/go' ]; do sleep 0.05; done\"],\"until\":0}"
o1=$(scs job_id)
mcp_sync "no-message $(ms 300)" 3
check_eq "a first server of a new key pushes nothing" \
	"$(count_messages "$CHANNEL") $(scs state)" "0 running"
mcp_close
check_eq "(the job the server launched runs on after it)" "$(state_of "$o1")" running
: >"$TMP/go"
ae wait "$o1" >/dev/null
o2=$(job_id "$(ae run --wait --callback-session "$K2" -- sh -c 'exit 2')")
o3=$(job_id "$(ae run --wait --callback-session "$OTHER" -- true)")

mcp_open --session "$K2"
mcp_hello
mcp_await_method "$CHANNEL" 10
mcp_await_method "$CHANNEL" 10
check "the next start with the key pushes what ended meanwhile, once" \
	mcp_sync "no-message $(ms 1500)" 5
check_pushed "... a job the last server launched" "$o1" exited '"0"'
check_pushed "... a CLI job with --callback-session KEY" "$o2" exited '"2"'
check_eq "... not another session's (two pushed in all)" \
	"$(times_pushed "$o3") $(count_messages "$CHANNEL")" "0 2"
mcp_close
check_client "the next start: the client's script passed"

# (what a start pushes may come before initialize's answer: count it all)
mcp_open --session "$K2"
mcp_hello
mcp_sync "no-message $(ms 2000)" 5
check_eq "a third start pushes nothing again" \
	"$(count_messages "$CHANNEL") $(jstr "$(response 0)" result.serverInfo.name)" \
	"0 agent-exec"
mcp_close
check_client "a third start: the client's script passed"
mcp_open --session "$K1"
mcp_hello
mcp_sync "no-message $(ms 2000)" 5
check_eq "a restart of a key whose ends were pushed live pushes nothing again" \
	"$(count_messages "$CHANNEL") $(jstr "$(response 0)" result.serverInfo.name)" \
	"0 agent-exec"
mcp_close
check_client "a restart: the client's script passed"

# a new key (none given) on a root whose log already holds events: the
# server follows from the newest event, and the first job of its session
# is pushed all the same
unset AGENT_EXEC_MCP_SESSION
mcp_open
mcp_hello
mcp_call 1 run '{"command":["sh","-c","exit 6"],"until":10}'
jn=$(scs job_id)
mcp_await_method "$CHANNEL" 10
check_pushed "a new key on a root with a past: its first job is pushed" \
	"$jn" exited '"6"'
check_eq "... and nothing of the past (one push in all)" \
	"$(count_messages "$CHANNEL")" 1
mcp_close
check_client "a new key: the client's script passed"
