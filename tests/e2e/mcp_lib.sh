# tests/e2e/mcp_lib.sh - sourced after lib.sh by t_mcp*.sh: drive
# `agent-exec mcp` through tests/tools/mcp_client ($MCP_CLIENT; its header
# lists the directives). Two ways to talk to the server:
#
#   a script run to its end (its output is $MCP_OUT when mcp_run returns):
#     { hello; echo "send $(rpc 1 ping)"; echo "expect-id 1"; } >"$TMP/s"
#     mcp_run "$TMP/s" --session KEY          -> MCP_RC, MCP_OUT, MCP_ERR
#   a session fed live, for what needs the answers (a job id) or the
#   server running (a CLI call, /proc) between two steps:
#     mcp_open --session KEY; mcp_hello
#     mcp_call 1 run '{"command":"true"}'      -> R: the response line
#     mcp_send "send $(rpc 2 ping)"; mcp_await 2
#     mcp_close                                 -> MCP_RC
#
# The server runs on $MCP_ROOT (default $ROOT) with the environment of the
# caller: export AGENT_EXEC_MCP_* before mcp_run/mcp_open.

if [ -z "${MCP_CLIENT:-}" ] || [ ! -x "$MCP_CLIENT" ]; then
	echo "# skip: $(basename "$0"): no MCP test client at '${MCP_CLIENT:-}'" \
		"(make build/mcp_client)"
	exit 0
fi
# a client that died makes writing its script end this one with cleanup
trap 'exit 1' PIPE
# the server's settings are the scripts' own
unset AGENT_EXEC_MCP_SESSION AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS \
	AGENT_EXEC_MCP_MAX_UNTIL_SECONDS

MCP_N=0

# ms N: N milliseconds, stretched like bound's seconds (qemu, sanitizers).
ms() { echo $(($(bound 1) * $1)); }

# ---- protocol lines --------------------------------------------------------

# rpc ID METHOD [PARAMS]: a JSON-RPC request.
rpc() {
	if [ $# -ge 3 ]; then
		printf '{"jsonrpc":"2.0","id":%s,"method":"%s","params":%s}\n' "$1" "$2" "$3"
	else
		printf '{"jsonrpc":"2.0","id":%s,"method":"%s"}\n' "$1" "$2"
	fi
}
# notification METHOD [PARAMS]: a JSON-RPC notification (no id).
notification() {
	if [ $# -ge 2 ]; then
		printf '{"jsonrpc":"2.0","method":"%s","params":%s}\n' "$1" "$2"
	else
		printf '{"jsonrpc":"2.0","method":"%s"}\n' "$1"
	fi
}
# call ID TOOL ARGS: a tools/call request (ARGS: the arguments object).
call() { rpc "$1" tools/call "{\"name\":\"$2\",\"arguments\":$3}"; }
# hello [VERSION]: the handshake as directives (initialize as id 0, its
# answer awaited, then notifications/initialized).
hello() {
	echo "send $(rpc 0 initialize "{\"protocolVersion\":\"${1:-2025-06-18}\",\"capabilities\":{},\"clientInfo\":{\"name\":\"agent-exec-tests\",\"version\":\"0\"}}")"
	echo "expect-id 0"
	echo "send $(notification notifications/initialized)"
}

# ---- a script run to its end -------------------------------------------------

# mcp_files: new MCP_OUT and MCP_ERR for the next client.
mcp_files() {
	MCP_N=$((MCP_N + 1))
	MCP_OUT=$TMP/mcp$MCP_N.out
	MCP_ERR=$TMP/mcp$MCP_N.err
}
# mcp_run SCRIPT [SERVER ARGS]: the client runs the script against
# `agent-exec --root $MCP_ROOT mcp ARGS` to its end.
mcp_run() {
	_script=$1
	shift
	mcp_files
	"$MCP_CLIENT" --timeout-ms "$(ms 10000)" -- \
		"$AE_BIN" --root "${MCP_ROOT:-$ROOT}" mcp "$@" \
		<"$_script" >"$MCP_OUT" 2>"$MCP_ERR"
	MCP_RC=$?
}
# check_client DESC: the client's last run passed every directive.
check_client() {
	if [ "$MCP_RC" = 0 ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   client status $MCP_RC:" \
			"$(grep '^mcp_client: ' "$MCP_ERR" | head -n 3)"
		tail -n 5 "$MCP_OUT" | cut -c1-300 | sed 's/^/#   out: /'
	fi
}

# ---- a session fed live --------------------------------------------------------

# mcp_open [SERVER ARGS]: start the client and its server in the background,
# its script fed through a FIFO on descriptor 3.
mcp_open() {
	mcp_files
	rm -f "$TMP/mcp.fifo"
	mkfifo "$TMP/mcp.fifo" || return 1
	"$MCP_CLIENT" --timeout-ms "$(ms 10000)" -- \
		"$AE_BIN" --root "${MCP_ROOT:-$ROOT}" mcp "$@" \
		<"$TMP/mcp.fifo" >"$MCP_OUT" 2>"$MCP_ERR" &
	MCP_PID=$!
	exec 3>"$TMP/mcp.fifo"
}
# mcp_send DIRECTIVE...: these lines to the client.
mcp_send() { printf '%s\n' "$@" >&3; }
# mcp_failed: the client reported a failed directive (it runs no more).
mcp_failed() { grep -q '^mcp_client: ' "$MCP_ERR"; }
# mcp_sync DIRECTIVE [SECONDS]: the client runs DIRECTIVE (its deadline
# SECONDS [10]); return once it has (0), or it failed (1). Every server
# line printed before is then whole in $MCP_OUT.
mcp_sync() {
	# the count is kept in a file: a call in $(...) counts too
	MCP_MARK=$(($(cat "$TMP/.mcp_mark" 2>/dev/null || echo 0) + 1))
	echo "$MCP_MARK" >"$TMP/.mcp_mark"
	mcp_send "$1" "echo mark $MCP_MARK"
	until_true $((${2:-10} + 5)) _mcp_marked "$MCP_MARK"
	grep -qx "# mark $MCP_MARK" "$MCP_OUT"
}
_mcp_marked() { grep -qx "# mark $1" "$MCP_OUT" || mcp_failed; }
# mcp_await ID [SECONDS]: wait for the response to ID (SECONDS [10]); R is
# its line (empty when it did not come).
mcp_await() {
	mcp_sync "expect-id $1 $(ms $((${2:-10} * 1000)))" "${2:-10}"
	_rc=$?
	R=$(response "$1")
	return $_rc
}
# mcp_await_method METHOD [SECONDS]: wait for a message of METHOD.
mcp_await_method() {
	mcp_sync "expect-method $1 $(ms $((${2:-10} * 1000)))" "${2:-10}"
}
# mcp_hello [VERSION]: the handshake; R is initialize's answer.
mcp_hello() {
	hello "$@" | while IFS= read -r _line; do
		case $_line in
		expect-id*) ;;
		*) mcp_send "$_line" ;;
		esac
	done
	mcp_await 0
}
# mcp_call ID TOOL ARGS [SECONDS]: a tools/call, awaited; R is the response.
mcp_call() {
	mcp_send "send $(call "$1" "$2" "$3")"
	mcp_await "$1" "${4:-10}"
}
# mcp_close: close the script (the client closes the server's stdin and
# waits for it); MCP_RC is the client's status ("timeout" if it hung).
mcp_close() {
	exec 3>&-
	wait_status "$MCP_PID" 30
	MCP_RC=$WAIT_STATUS
}
# mcp_server_pid: SERVER_PID, the server's pid (print-pid), for /proc.
mcp_server_pid() {
	mcp_sync print-pid
	SERVER_PID=$(sed -n 's/^# pid \([0-9]*\)$/\1/p' "$MCP_OUT" | tail -n 1)
}

# ---- reading the output ----------------------------------------------------------

# The awk behind jget: a JSON value at a dotted path (object keys and array
# indexes: result.tools.0.name; "" the whole text). mode raw prints the
# value's JSON text, len an array's items or an object's members, keys an
# object's keys (one a line). Prints nothing when the path is not there.
_JGET_AWK='
function ws() { while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++ }
function skipstr(   c) {
	pos++
	while (pos <= n) {
		c = substr(s, pos, 1)
		if (c == "\\") pos += 2
		else if (c == "\"") { pos++; return }
		else pos++
	}
}
function value(path,   c, start, k, key, count, keys) {
	ws(); start = pos; c = substr(s, pos, 1); count = 0; keys = ""
	if (c == "{" || c == "[") {
		pos++; ws()
		if (substr(s, pos, 1) == (c == "{" ? "}" : "]")) pos++
		else while (pos <= n) {
			ws()
			if (c == "{") {
				k = pos; skipstr(); key = substr(s, k + 1, pos - k - 2)
				keys = keys key "\n"
				ws(); pos++
			} else key = count
			count++
			value(path == "" ? key : path "." key)
			if (done) return
			ws(); k = substr(s, pos, 1); pos++
			if (k != ",") break
		}
	} else if (c == "\"") skipstr()
	else while (pos <= n && index(",]} \t\r\n", substr(s, pos, 1)) == 0) pos++
	if (path != want) return
	if (mode == "len") print count
	else if (mode == "keys") printf "%s", keys
	else print substr(s, start, pos - start)
	done = 1
}
{ s = NR > 1 ? s "\n" $0 : $0 }
END { n = length(s); pos = 1; done = 0; value("") }'
# jget JSON PATH: the raw JSON value at PATH, e.g. jget "$R" result.isError.
jget() { printf '%s\n' "$1" | LC_ALL=C awk -v want="$2" -v mode=raw "$_JGET_AWK"; }
# jlen JSON PATH: the items of the array (members of the object) at PATH.
jlen() { printf '%s\n' "$1" | LC_ALL=C awk -v want="$2" -v mode=len "$_JGET_AWK"; }
# jkeys JSON PATH: the keys of the object at PATH, one a line.
jkeys() { printf '%s\n' "$1" | LC_ALL=C awk -v want="$2" -v mode=keys "$_JGET_AWK"; }
# jstr JSON PATH: jget without a string's quotes (escapes left as they are).
jstr() { jget "$1" "$2" | sed 's/^"//; s/"$//'; }

# response ID [FILE]: the line of the response (no method) whose id is ID
# (3, "a", null), the first if several; FILE defaults to $MCP_OUT.
response() {
	grep -F "\"id\":$1" "${2:-$MCP_OUT}" | while IFS= read -r _line; do
		[ "$(jget "$_line" id)" = "$1" ] && [ -z "$(jget "$_line" method)" ] &&
			{ printf '%s\n' "$_line"; break; }
	done
}
# messages METHOD [FILE]: the lines of the messages of METHOD, one a line.
messages() {
	grep -F "\"method\":\"$1\"" "${2:-$MCP_OUT}" | while IFS= read -r _line; do
		[ "$(jget "$_line" method)" = "\"$1\"" ] && printf '%s\n' "$_line"
	done
}
# count_messages METHOD [FILE]
count_messages() { messages "$@" | wc -l | tr -d ' '; }
# line_of TEXT [FILE]: the number of the first line holding TEXT (fixed).
line_of() { grep -nF -e "$1" "${2:-$MCP_OUT}" | head -n 1 | cut -d: -f1; }
# sc PATH: the value at PATH of the structuredContent of R, e.g. sc state.
sc() { jget "$R" "result.structuredContent${1:+.$1}"; }
# scs PATH: sc without a string's quotes.
scs() { sc "$1" | sed 's/^"//; s/"$//'; }

# check_tool DESC TYPE: R answers a tools/call as a tool that worked: a
# result with isError false, its structuredContent an envelope of TYPE
# ("ok":true) valid against the schema's TYPE answer, and its content one
# text item holding the same envelope as compact JSON.
check_tool() {
	_why=$(_tool_problem "$2" false)
	if [ -z "$_why" ]; then ok "$1"; else not_ok "$1"; echo "#   $_why"; fi
}
# check_tool_error DESC CODE: R answers as a tool that failed on its own
# terms: isError true and the CLI's error envelope with error.code CODE.
check_tool_error() {
	_why=$(_tool_problem error true)
	[ -z "$_why" ] && [ "$(scs error.code)" != "$2" ] &&
		_why="error.code $(sc error.code), want \"$2\""
	if [ -z "$_why" ]; then ok "$1"; else not_ok "$1"; echo "#   $_why"; fi
}
_tool_problem() {
	_sc=$(sc)
	printf '%s\n' "$_sc" >"$TMP/.envelope.json"
	if [ -z "$R" ]; then
		echo "no response"
	elif [ -n "$(jget "$R" error)" ]; then
		echo "a protocol error: $(jget "$R" error | head -c 300)"
	elif [ "$(jget "$R" result.isError)" != "$2" ]; then
		echo "isError $(jget "$R" result.isError), want $2: $(printf '%s' "$R" | head -c 300)"
	elif [ "$(scs type)" != "$1" ]; then
		echo "structuredContent.type $(sc type), want \"$1\": $(printf '%s' "$_sc" | head -c 300)"
	elif [ "$(jlen "$R" result.content)" != 1 ] ||
		[ "$(jget "$R" result.content.0.type)" != '"text"' ]; then
		echo "content is not one text item: $(jget "$R" result.content | head -c 300)"
	elif [ "$(json_decode text "$(jget "$R" result.content.0)")" != "$_sc" ]; then
		echo "the text is not the structuredContent: $(jget "$R" result.content.0 | head -c 300)"
	elif ! _out=$("$SCHEMA_CHECK" "$AE_SCHEMA" "$1" "$TMP/.envelope.json" 2>&1); then
		echo "not a valid $1 answer: $(printf '%s' "$_out" | head -n 3 | tr '\n' ' ')"
	fi
}
# check_protocol_error DESC CODE: R is a JSON-RPC error response with
# error.code CODE (a number) and an error.message, and no result.
check_protocol_error() {
	if [ -n "$R" ] && [ "$(jget "$R" error.code)" = "$2" ] &&
		[ -n "$(jstr "$R" error.message)" ] && [ -z "$(jget "$R" result)" ] &&
		[ "$(jget "$R" jsonrpc)" = '"2.0"' ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   want error.code $2: $(printf '%s' "$R" | head -c 300)"
	fi
}
