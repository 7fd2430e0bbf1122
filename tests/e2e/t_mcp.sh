#!/bin/sh
# mcp: agent-exec mcp, the MCP stdio server, driven through
# tests/tools/mcp_client: the handshake and version negotiation, ping,
# tools/list, every tool end to end (answers are the CLI's envelopes),
# tool errors and protocol errors, waits that never block the server,
# cancellation, progress, until's default and cap, the server's exit, an
# oversized message, 500 calls without zombies, a jobs root made on first
# use, the session key. Pushed completions: t_mcp_push.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mcp_lib.sh"

version=$(ae --version | sed 's/^agent-exec //')

# ---- the handshake -------------------------------------------------------------------

{
	hello 2025-06-18
	echo "no-message $(ms 500)"
	echo "send $(rpc 1 ping)"
	echo "expect-id 1"
} >"$TMP/hello.s"
mcp_run "$TMP/hello.s" --session t-mcp-key
check_client "initialize, notifications/initialized, ping: the client's script passed"
R=$(response 0)
check_eq "initialize: the answer has jsonrpc 2.0 and id 0" \
	"$(jget "$R" jsonrpc) $(jget "$R" id)" '"2.0" 0'
check_eq "initialize: protocolVersion 2025-06-18 echoed" \
	"$(jstr "$R" result.protocolVersion)" 2025-06-18
check_eq "initialize: capabilities tools, logging, experimental claude/channel" \
	"$(jget "$R" result.capabilities.tools | cut -c1) $(jget "$R" result.capabilities.logging | cut -c1) $(jget "$R" result.capabilities.experimental.claude/channel | cut -c1)" \
	"{ { {"
check_eq "initialize: serverInfo names agent-exec and its version" \
	"$(jstr "$R" result.serverInfo.name) $(jstr "$R" result.serverInfo.version)" \
	"agent-exec $version"
check_contains "initialize: the instructions name the session key" \
	"$(jstr "$R" result.instructions)" t-mcp-key
check_eq "ping: result {}" "$(jget "$(response 1)" result)" "{}"
check_eq "notifications/initialized has no answer (two answers in all)" \
	"$(grep -c '"id":' "$MCP_OUT")" 2
bad=$(grep -v '^# ' "$MCP_OUT" | while IFS= read -r line; do
	[ "$(jget "$line" jsonrpc)" = '"2.0"' ] || printf '%s\n' "$line"
done)
check_eq "stdout carries JSON-RPC messages only" \
	"$(grep -vc '^# ' "$MCP_OUT") $bad" "2 "

for v in 2024-11-05 2025-03-26 1999-01-01; do
	hello "$v" >"$TMP/version.s"
	mcp_run "$TMP/version.s"
	got=$(jstr "$(response 0)" result.protocolVersion)
	case $v in
	1999-01-01) check_eq "initialize with an unknown version: 2025-06-18" "$got" 2025-06-18 ;;
	*) check_eq "initialize $v: $v echoed" "$got" "$v" ;;
	esac
done

# ---- tools/list -----------------------------------------------------------------------

{ hello; echo "send $(rpc 1 tools/list)"; echo "expect-id 1"; } >"$TMP/list.s"
mcp_run "$TMP/list.s"
R=$(response 1)
check_eq "tools/list: 7 tools" "$(jlen "$R" result.tools)" 7
names=$(i=0; while [ $i -lt 7 ]; do
	jstr "$R" "result.tools.$i.name"
	i=$((i + 1))
done | sort | tr '\n' ' ')
check_eq "tools/list: run, status, tail, wait, kill, list, write" "$names" \
	"kill list run status tail wait write "
# tool_args NAME: the arguments the protocol gives each tool
tool_args() {
	case $1 in
	run) echo command cwd env timeout kill_after until stdin tags meta \
		callback_session callback_agent interactive pty mask tail_lines max_bytes ;;
	status) echo job_id ;;
	tail) echo job_id lines max_bytes cursor until ;;
	wait) echo job_id until tail_lines max_bytes ;;
	kill) echo job_id signal no_wait ;;
	list) echo all state tag cwd limit ;;
	write) echo job_id data eof ;;
	esac
}
i=0
while [ $i -lt 7 ]; do
	tool="result.tools.$i"
	name=$(jstr "$R" "$tool.name")
	check_eq "tools/list: $name has a description, inputSchema and outputSchema of type object" \
		"$(jget "$R" "$tool.description" | cut -c1) $(jstr "$R" "$tool.inputSchema.type") $(jstr "$R" "$tool.outputSchema.type")" \
		'" object object'
	props=" $(jkeys "$R" "$tool.inputSchema.properties" | tr '\n' ' ')"
	missing=${name:-"(no name)"}
	missing=${missing#"$name"}
	for arg in $(tool_args "$name"); do
		case $props in *" $arg "*) ;; *) missing="$missing $arg" ;; esac
	done
	check_eq "tools/list: $name's inputSchema has its arguments" "$missing" ""
	i=$((i + 1))
done
required() { jget "$R" "result.tools.$1.inputSchema.required"; }
i=0
while [ $i -lt 7 ]; do
	case $(jstr "$R" "result.tools.$i.name") in
	run) check_contains "tools/list: run requires command" "$(required $i)" '"command"' ;;
	status) check_contains "tools/list: status requires job_id" "$(required $i)" '"job_id"' ;;
	esac
	i=$((i + 1))
done

# ---- every tool, end to end -------------------------------------------------------------
# (jobs but the first report to another session: callback_session)

KEY=t-mcp-tools
mcp_open --session "$KEY"
mcp_hello
mcp_call 1 run '{"command":["sh","-c","echo out; echo err >&2; exit 3"],"until":10}'
check_tool "run (argv): a run envelope" run
j1=$(scs job_id)
check_match "run: a job id" "$j1" "$ID_RE"
check_eq "run waits (until) for the end: exited 3 with its output" \
	"$(scs state) $(sc exit_code) $(scs snapshot.stdout_tail) $(scs snapshot.stderr_tail)" \
	"exited 3 out err"
check_eq "the job's callback_session is the server's session key" \
	"$(json_str callback_session "$(ae status "$j1")")" "$KEY"

mcp_call 2 run '{"command":"sleep 1; echo $((6 * 7)) | tr 4 x","callback_session":"t-mcp-elsewhere"}'
check_tool "run (one string): a run envelope" run
check_eq "... a shell script run through sh -c, waited for (until's default)" \
	"$(scs state) $(scs snapshot.stdout_tail)" "exited x2"

mkdir "$TMP/wd"
wd=$(cd "$TMP/wd" && pwd -P)
mcp_call 3 run '{"command":["sh","-c","pwd; echo \"$FOO\"; cat"],"cwd":"'"$wd"'","env":{"FOO":"a b"},"stdin":"from stdin","tags":["mcp.t"],"meta":{"who":"t_mcp"},"callback_session":"t-mcp-elsewhere","callback_agent":"agent-7","until":10}'
check_tool "run with cwd, env, stdin, tags, meta" run
j3=$(scs job_id)
check_eq "... cwd, env and stdin reach the job" "$(json_decode stdout_tail "$R")" \
	"$wd
a b
from stdin"
status=$(ae status "$j3")
check_eq "... tags, meta, callback_session and callback_agent are recorded" \
	"$(json_str who "$status") $(json_str callback_session "$status") $(json_str callback_agent "$status") $(json_strings tags "$status")" \
	"t_mcp t-mcp-elsewhere agent-7 mcp.t"

mcp_call 4 run '{"command":["sleep","30"],"timeout":1,"until":10,"callback_session":"t-mcp-elsewhere"}'
check_tool "run with timeout" run
check_eq "... the job is ended at its timeout" "$(scs state) $(sc timed_out)" "killed true"
check_between "... timeout counts seconds (duration_ms)" "$(sc duration_ms)" 900 5000

mcp_call 5 run '{"command":["cat"],"interactive":true,"until":0,"callback_session":"t-mcp-elsewhere"}'
check_tool "run interactive, until 0" run
j5=$(scs job_id)
check_eq "... answers at once: running" "$(scs state)" running
mcp_call 6 tail "{\"job_id\":\"$j5\"}"
check_tool "tail" tail
cursor=$(scs cursor)
check_eq "tail: no output yet, cursor 0:0" "$(scs stdout_tail) $cursor" " 0:0"
# tail until: waits for output past the cursor; the write brings it
mcp_send "send $(call 7 tail "{\"job_id\":\"$j5\",\"cursor\":\"$cursor\",\"until\":20}")"
mcp_call 8 write "{\"job_id\":\"$j5\",\"data\":\"hello\\n\"}"
check_tool "write to an interactive job" write
check_eq "... 6 bytes written" "$(sc bytes)" 6
mcp_await 7 5
check_tool "tail with cursor and until: answered once output came" tail
check_eq "... with that output" "$(json_decode stdout_tail "$R")" hello
cursor=$(scs cursor)
mcp_call 9 write "{\"job_id\":\"$j5\",\"data\":\"bye\\n\",\"eof\":true}"
check_eq "write with eof" "$(scs type) $(sc eof)" "write true"
mcp_call 10 wait "{\"job_id\":\"$j5\",\"until\":10}"
check_tool "wait" wait
check_eq "wait: the job ended at the end of its input" \
	"$(scs state) $(sc exit_code) $(sc timed_out)" "exited 0 false"
mcp_call 11 tail "{\"job_id\":\"$j5\",\"cursor\":\"$cursor\"}"
check_eq "tail from a cursor: only what came after it" \
	"$(json_decode stdout_tail "$R")" bye
mcp_call 12 tail "{\"job_id\":\"$j5\",\"lines\":1}"
check_eq "tail lines 1: the last line" "$(scs stdout_tail)" bye

mcp_call 13 run '{"command":["sleep","30"],"until":0,"callback_session":"t-mcp-elsewhere"}'
j13=$(scs job_id)
short=$(printf '%s' "$j13" | cut -c21-26)
prefix=$(printf '%s' "$j13" | cut -c1-20)
mcp_call 14 status "{\"job_id\":\"$short\"}"
check_tool "status" status
check_eq "status by short id (last 6 characters)" "$(scs job_id) $(scs state)" "$j13 running"
mcp_call 15 status "{\"job_id\":\"$prefix\"}"
check_eq "status by an id prefix" "$(scs job_id)" "${j13:-(no job)}"
mcp_call 16 kill "{\"job_id\":\"$short\",\"signal\":\"INT\"}"
check_tool "kill" kill
check_eq "kill INT: the job is killed by SIGINT" "$(scs state) $(scs signal_name)" \
	"killed SIGINT"
mcp_call 17 run '{"command":["sleep","30"],"until":0,"callback_session":"t-mcp-elsewhere"}'
j17=$(scs job_id)
mcp_call 18 kill "{\"job_id\":\"$j17\",\"signal\":\"KILL\",\"no_wait\":true}"
check_tool "kill no_wait" kill
wait_for "... the job ends" 5 is_state "$j17" killed

mcp_call 19 list '{"all":true}'
check_tool "list" list
listed=$(jlen "$R" result.structuredContent.jobs)
check_eq "list all: every job" "$listed" 7
mcp_call 20 list '{"all":true,"tag":"mcp.t"}'
check_eq "list tag: the tagged job only" \
	"$(jlen "$R" result.structuredContent.jobs) $(scs jobs.0.job_id)" "1 $j3"
mcp_call 21 list "{\"cwd\":\"$wd\"}"
check_eq "list cwd: the job started there" \
	"$(jlen "$R" result.structuredContent.jobs) $(scs jobs.0.job_id)" "1 $j3"
mcp_call 22 list '{"all":true,"state":"killed"}'
check_eq "list state killed: the three killed jobs" \
	"$(jlen "$R" result.structuredContent.jobs)" 3
mcp_call 23 list '{"all":true,"limit":2}'
check_eq "list limit 2: two jobs" "$(jlen "$R" result.structuredContent.jobs)" 2

mcp_call 24 status '{"job_id":"01ZZZZZZZZZZZZZZZZZZZZZZZZ"}'
check_tool_error "status of an unknown job: isError, job_not_found" job_not_found
mcp_call 25 wait '{"job_id":"01ZZZZZZZZZZZZZZZZZZZZZZZZ"}'
check_tool_error "wait on an unknown job: isError, job_not_found" job_not_found
mcp_call 26 kill "{\"job_id\":\"$j1\",\"signal\":\"BOGUS\"}"
check_tool_error "kill with an unknown signal: isError, invalid_signal" invalid_signal
mcp_call 27 write "{\"job_id\":\"$j5\",\"data\":\"late\"}"
check_tool_error "write to a job that ended: isError, invalid_state" invalid_state
# a value the command line refuses (a usage error of the CLI) is an answer
# too: isError, invalid_argument, at once (it once spun in the child)
mcp_call 28 list '{"all":true,"state":"bogus"}'
check_tool_error "list with a state that is none: isError, invalid_argument" invalid_argument
mcp_call 29 run '{"command":["true"],"tags":["bad tag"]}'
check_tool_error "run with a tag the CLI refuses: isError, invalid_argument" invalid_argument
mcp_call 30 tail "{\"job_id\":\"$j5\",\"cursor\":\"garbage\"}"
check_tool_error "tail with a cursor that is none: isError, invalid_argument" invalid_argument
mcp_close
check_client "every tool: the client's script passed"

# ---- the session key -----------------------------------------------------------------------

AGENT_EXEC_MCP_SESSION=t-mcp-env-key
export AGENT_EXEC_MCP_SESSION
mcp_open
unset AGENT_EXEC_MCP_SESSION
mcp_hello
check_contains "AGENT_EXEC_MCP_SESSION: the instructions name it" \
	"$(jstr "$R" result.instructions)" t-mcp-env-key
mcp_call 1 run '{"command":["true"]}'
check_eq "AGENT_EXEC_MCP_SESSION: the job's callback_session" \
	"$(json_str callback_session "$(ae status "$(scs job_id)")")" t-mcp-env-key
mcp_close
mcp_open
mcp_hello
instructions=$(jstr "$R" result.instructions)
mcp_call 1 run '{"command":["true"]}'
key=$(json_str callback_session "$(ae status "$(scs job_id)")")
check_match "no session given: one is generated" "$key" '^.+$'
check_contains "... and named in the instructions" "$instructions" "${key:-(none)}"
mcp_close

# ---- protocol errors --------------------------------------------------------------------------
# Each message in error is followed by a ping (90, 91, ...): its answer is
# the line before that ping's (a line, or an invalid message, is answered
# in turn).

{
	hello
	echo "send not json"
	echo "send $(rpc 90 ping)"
	echo "send 42"
	echo "send $(rpc 91 ping)"
	echo 'send {"jsonrpc":"1.0","id":5,"method":"ping"}'
	echo "send $(rpc 92 ping)"
	echo 'send {"jsonrpc":"2.0","id":6,"method":7}'
	echo "send $(rpc 93 ping)"
	echo "expect-id 93"
	echo 'send {"jsonrpc":"2.0","id":7,"method":"no/such/method"}'
	echo "send $(call 8 no_such_tool '{}')"
	echo "send $(call 9 status '{"job_id":5}')"
	echo "send $(call 10 run '{}')"
	echo "send $(call 11 status '{"job_id":"x","bogus":1}')"
	echo 'send {"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"status","arguments":[]}}'
	echo "send $(call 13 run '{"command":["true"],"until":"soon"}')"
	echo 'send {"jsonrpc":"2.0","id":14,"method":"tools/call"}'
	for id in 7 8 9 10 11 12 13 14; do echo "expect-id $id"; done
	echo "send $(notification notifications/no_such_thing)"
	echo "no-message $(ms 500)"
	echo "send $(rpc 99 ping)"
	echo "expect-id 99"
} >"$TMP/errors.s"
mcp_run "$TMP/errors.s"
check_client "protocol errors: the client's script passed"
# before_ping ID: the line before the answer to ping ID
before_ping() {
	_n=$(line_of "$(response "$1")")
	[ -n "$_n" ] && [ "$_n" -gt 1 ] && sed -n "$((_n - 1))p" "$MCP_OUT"
}
R=$(before_ping 90)
check_protocol_error "not JSON: -32700 parse error" -32700
check_eq "... with id null" "$(jget "$R" id)" null
R=$(before_ping 91)
check_protocol_error "not an object: -32600 invalid request" -32600
check_eq "... with id null" "$(jget "$R" id)" null
R=$(before_ping 92)
check_protocol_error "jsonrpc not 2.0: -32600" -32600
check_match "... with its id or null" "$(jget "$R" id)" '^(5|null)$'
R=$(before_ping 93)
check_protocol_error "method not a string: -32600" -32600
check_match "... with its id or null" "$(jget "$R" id)" '^(6|null)$'
R=$(response 7)
check_protocol_error "an unknown method: -32601" -32601
R=$(response 8)
check_protocol_error "tools/call of an unknown tool: -32602" -32602
R=$(response 9)
check_protocol_error "an argument of the wrong type: -32602" -32602
R=$(response 10)
check_protocol_error "a required argument missing: -32602" -32602
R=$(response 11)
check_protocol_error "an unknown argument: -32602" -32602
R=$(response 12)
check_protocol_error "arguments not an object: -32602" -32602
R=$(response 13)
check_protocol_error "until not a number: -32602" -32602
R=$(response 14)
check_protocol_error "tools/call without params: -32602" -32602
check_eq "the server goes on: ping answered after them all" \
	"$(jget "$(response 99)" result)" "{}"

# ---- an oversized message -------------------------------------------------------------------
# ping_padded ID BYTES: a ping whose params._meta carries BYTES of padding

ping_padded() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"ping","params":{"_meta":{"pad":"' "$1"
	head -c "$2" /dev/zero | tr '\0' x
	printf '"}}}'
}
ping_padded 1 10485760 >"$TMP/big.json"
ping_padded 3 3000000 >"$TMP/mid.json"
{
	hello
	echo "send-file $TMP/big.json"
	echo "expect-id null $(ms 20000)"
	echo "send $(rpc 2 ping)"
	echo "expect-id 2"
	echo "send-file $TMP/mid.json"
	echo "expect-id 3"
} >"$TMP/big.s"
mcp_run "$TMP/big.s"
check_client "an oversized message: the client's script passed"
R=$(response null)
check_protocol_error "a 10 MB message: -32600 with id null" -32600
check_eq "... never answered as the ping it was; the server goes on: a later ping answered" \
	"$(response 1 | wc -c | tr -d ' ') $(jget "$(response 2)" result)" "0 {}"
check_eq "a 3 MB message (under the 4 MiB cap) is answered" \
	"$(jget "$(response 3)" result)" "{}"

# ---- waits never block the server ---------------------------------------------------------

mcp_open --session t-mcp-wait
mcp_hello
ja=$(start_job -- sleep 30)
jb=$(start_job -- sleep 30)
mcp_send "send $(call 1 wait "{\"job_id\":\"$ja\",\"until\":20}")" \
	"send $(call 2 status "{\"job_id\":\"$ja\"}")" "send $(rpc 3 ping)"
mcp_await 2 3
check_tool "a status sent after a pending wait is answered at once" status
mcp_await 3 3
check_eq "... and a ping" "$(jget "$R" result)" "{}"
mcp_send "send $(call 4 wait "{\"job_id\":\"$jb\",\"until\":20}")" "send $(rpc 5 ping)"
mcp_await 5 3
check_eq "two waits pending, the server still answers" "$(jget "$R" result)" "{}"
ae kill "$jb" >/dev/null
mcp_await 4 5
check_tool "the second wait answers when its job ends" wait
check_eq "... killed, not timed out" "$(scs state) $(sc timed_out)" "killed false"
check_eq "... while the first still waits" "$(response 1)$(scs type)" wait
ae kill "$ja" >/dev/null
mcp_await 1 5
check_tool "the first wait answers when its job ends" wait
check_eq "... killed, not timed out" "$(scs state) $(sc timed_out)" "killed false"
# before ID...: the answers to these ids came in this order
before() {
	_last=0
	for _id in "$@"; do
		_n=$(line_of "$(response "$_id")")
		[ -n "$_n" ] && [ "$_n" -gt "$_last" ] || return 1
		_last=$_n
	done
}
check "answers in the order things happened: status, wait 2, wait 1" before 2 4 1
check "... ping, wait 2, wait 1" before 3 4 1
mcp_close

# ---- cancellation -----------------------------------------------------------------------------

# children_of PID: the pids of its live children, one a line.
children_of() {
	for _d in /proc/[0-9]*; do
		[ "$(proc_field "${_d#/proc/}" 4)" = "$1" ] || continue
		[ "$(proc_field "${_d#/proc/}" 3)" = Z ] || echo "${_d#/proc/}"
	done
}
# live_children PID: how many; children_are PID N: that many (until_true).
live_children() { children_of "$1" | wc -l | tr -d ' '; }
children_are() { [ "$(live_children "$1")" = "$2" ]; }

mcp_open --session t-mcp-cancel
mcp_hello
jc=$(start_job -- sleep 30)
mcp_send "send $(call 1 wait "{\"job_id\":\"$jc\",\"until\":20}")" "send $(rpc 2 ping)"
mcp_await 2 3
mcp_send "send $(notification notifications/cancelled '{"requestId":1,"reason":"test"}')"
check "a cancelled wait is not answered" mcp_sync "no-message $(ms 1500)" 5
check_eq "... and its job still runs" "$(state_of "$jc")" running
ae kill "$jc" >/dev/null
until_true 5 is_state "$jc" killed
mcp_sync "no-message $(ms 1000)" 5
check_eq "... nor once its job has ended (the ping sent with it answered)" \
	"$(response 1)$(jget "$(response 2)" result)" "{}"
mcp_send "send $(rpc 3 ping)"
mcp_await 3 3
check_eq "the server goes on after a cancel; no answer with the cancelled id ever" \
	"$(jget "$R" result)$(response 1)" "{}"
# a cancelled run: its child ends once its job is launched (the job runs
# on), rather than waiting out its until
mcp_server_pid
calls_before=$(live_children "$SERVER_PID")
mcp_send "send $(call 4 run '{"command":["sleep","30"],"until":60,"callback_session":"t-mcp-elsewhere"}')"
wait_for "a run call's child is there" 10 children_are "$SERVER_PID" $((calls_before + 1))
mcp_send "send $(notification notifications/cancelled '{"requestId":4,"reason":"test"}')"
wait_for "... cancelled: it ends, not after its until (60 s)" 10 \
	children_are "$SERVER_PID" "$calls_before"
jr=$(ae list --all | grep -o '"job_id":"[^"]*","name":"sleep[^"]*"' | head -n 1 | cut -d'"' -f4)
check_eq "... its job runs on" "$(state_of "$jr")" running
ae kill "$jr" >/dev/null
# the server ending (its input closed) ends a run call's child the same way
children_of "$SERVER_PID" >"$TMP/children.before"
mcp_send "send $(call 5 run '{"command":["sleep","30"],"until":60,"callback_session":"t-mcp-elsewhere"}')"
wait_for "another run call's child" 10 children_are "$SERVER_PID" $((calls_before + 1))
run_child=$(children_of "$SERVER_PID" | grep -vxF -f "$TMP/children.before" | head -n 1)
mcp_close
check_client "cancellation: the client's script passed"
wait_for "the server ended: the run call's child is gone too, not left for 60 s" 10 \
	proc_gone "${run_child:-0}"

# ---- until: its default and its cap ----------------------------------------------------------

AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS=1
export AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS
mcp_open --session t-mcp-until
unset AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS
mcp_hello
mcp_call 1 run '{"command":["sleep","30"],"callback_session":"t-mcp-elsewhere"}' 5
check_tool "run without until, AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS=1" run
check_eq "... answers while the job runs" "$(scs state)" running
check_between "... after about 1 s (waited_ms)" "$(sc waited_ms)" 900 3000
jd=$(scs job_id)
t0=$(now_ms)
mcp_call 2 wait "{\"job_id\":\"$jd\"}" 5
took=$(($(now_ms) - t0))
check_eq "wait without until: times out after the default" \
	"$(scs state) $(sc timed_out)" "running true"
check_between "... after about 1 s (ms)" "$took" 900 "$(ms 3000)"
mcp_close

AGENT_EXEC_MCP_MAX_UNTIL_SECONDS=1
export AGENT_EXEC_MCP_MAX_UNTIL_SECONDS
mcp_open --session t-mcp-cap
unset AGENT_EXEC_MCP_MAX_UNTIL_SECONDS
mcp_hello
je=$(start_job -- sleep 30)
t0=$(now_ms)
mcp_call 1 wait "{\"job_id\":\"$je\",\"until\":100}" 5
took=$(($(now_ms) - t0))
check_tool "wait until 100 under AGENT_EXEC_MCP_MAX_UNTIL_SECONDS=1" wait
check_eq "... clamped: {\"until\":1}" "$(sc clamped)" '{"until":1}'
check_eq "... timed out, the job running" "$(scs state) $(sc timed_out)" "running true"
check_between "... answered after about 1 s (ms)" "$took" 900 "$(ms 3000)"
mcp_call 2 run '{"command":["sleep","30"],"until":100,"callback_session":"t-mcp-elsewhere"}' 5
check_tool "run until 100 under the cap" run
check_eq "... clamped: {\"until\":1}, running" "$(sc clamped) $(scs state)" '{"until":1} running'
mcp_call 3 wait "{\"job_id\":\"$je\",\"until\":1}" 5
check_eq "until at the cap: not clamped" "$(scs type) $(sc clamped)" "wait "
mcp_close

# ---- progress -----------------------------------------------------------------------------------

mcp_open --session t-mcp-progress
mcp_hello
jp=$(start_job -- sleep 30)
mcp_send "send $(rpc 1 tools/call "{\"name\":\"wait\",\"arguments\":{\"job_id\":\"$jp\",\"until\":5},\"_meta\":{\"progressToken\":\"tok-1\"}}")" \
	"send $(call 2 wait "{\"job_id\":\"$jp\",\"until\":5}")"
mcp_await 1 10
check_eq "a wait with a progressToken times out at until" "$(sc timed_out)" true
mcp_await 2 10
messages notifications/progress >"$TMP/progress"
check_between "notifications/progress at least every 2 s of a 5 s wait" \
	"$(line_count "$TMP/progress")" 2 100
check_eq "... each with the request's progressToken (none for the other)" \
	"$(while IFS= read -r line; do jget "$line" params.progressToken; done <"$TMP/progress" | sort -u)" \
	'"tok-1"'
values=$(while IFS= read -r line; do jget "$line" params.progress; done <"$TMP/progress" | tr '\n' ' ')
check_match "... progress is a number" "$values" '^([0-9]+(\.[0-9]+)? )+$'
# shellcheck disable=SC2086 # the numbers, one a line
check_eq "... that increases" "$(printf '%s\n' $values | sort -n -u | tr '\n' ' ')" "$values"
last=$(grep -n '"method":"notifications/progress"' "$MCP_OUT" | tail -n 1 | cut -d: -f1)
check "... none after the answer" [ "${last:-0}" -lt "$(line_of "$(response 1)")" ]
mcp_close

# ---- the server's exit ------------------------------------------------------------------------

mcp_open --session t-mcp-exit
mcp_hello
mcp_call 1 run '{"command":["sleep","30"],"until":0}'
jx=$(scs job_id)
mcp_send close
check "closing its stdin: the server exits within a second" \
	mcp_sync "expect-exit $(ms 1000)" 3
check_eq "... with status 0" "$(grep '^# exit' "$MCP_OUT")" "# exit 0"
check_eq "... and its job still runs" "$(state_of "$jx")" running
check "... its process alive" proc_running "$(record_num "$jx" pid)"
mcp_close

# ---- 500 calls: no zombies, no descriptors left open ---------------------------------------

# zombies_of PID: the zombie children of PID
zombies_of() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		awk -v parent="$1" '{ sub(/^.*\) /, "") } $2 == parent && $1 == "Z" { n++ }
			END { print n + 0 }'
}
no_zombies() { [ -n "$1" ] && [ "$(zombies_of "$1")" = 0 ]; }
# shellcheck disable=SC2012 # numbers
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l | tr -d ' '; }

mcp_open --session t-mcp-many
mcp_hello
mcp_server_pid
server=$SERVER_PID
fds=$(fd_count "$server")
jm=$(start_job -- sleep 30)
i=1
while [ $i -le 500 ]; do
	if [ $((i % 25)) = 0 ]; then
		echo "send $(call $i run '{"command":["true"],"callback_session":"t-mcp-elsewhere"}')"
	elif [ $((i % 2)) = 0 ]; then
		echo "send $(call $i status "{\"job_id\":\"$jm\"}")"
	else
		echo "send $(rpc $i ping)"
	fi
	i=$((i + 1))
done >"$TMP/many.s"
cat "$TMP/many.s" >&3
mcp_await 500 60
answers=$(grep -v '^#' "$MCP_OUT" | grep -c '"result":')
errors=$(($(grep -c '"isError":true' "$MCP_OUT") + $(grep -c '"error":{' "$MCP_OUT")))
check_eq "500 calls (ping, status, 20 runs) in one session: 501 answers, no error" \
	"$answers $errors" "501 0"
check "the server runs" proc_running "$server"
wait_for "... and has no zombie children" 5 no_zombies "$server"
check_between "... nor more descriptors than before the calls" "$(fd_count "$server")" 1 "$((fds + 2))"
mcp_close
check_client "500 calls: the client's script passed"

# ---- a jobs root that does not exist yet ----------------------------------------------------

MCP_ROOT=$TMP/fresh/jobs
mcp_open --session t-mcp-fresh
mcp_hello
check_eq "a root not made yet: the server answers initialize" \
	"$(jget "$R" result.serverInfo.name)" '"agent-exec"'
mcp_call 1 list '{"all":true}'
check_tool "list on a root not made yet: no jobs" list
check_eq "... no jobs" "$(jlen "$R" result.structuredContent.jobs)" 0
mcp_call 2 run '{"command":["sh","-c","echo first"],"until":10}'
check_tool "run on a root not made yet" run
jf=$(scs job_id)
check_eq "... runs the job" "$(scs state) $(scs snapshot.stdout_tail)" "exited first"
check "... in the root, made" [ -f "$MCP_ROOT/$jf/state.json" ]
mcp_close
unset MCP_ROOT
