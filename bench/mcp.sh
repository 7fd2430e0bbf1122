#!/bin/sh
# mcp.sh: figure 9, the MCP stdio server (agent-exec mcp), driven by
# bench/mcpdrive.c, a client that keeps the server's pipes open for the
# whole session (initialize, notifications/initialized, then requests):
#   mcp.call      tools/call run (command ["true"], until 0): from the
#                 write of the request line to the read of its answer
#                 line, median over N calls back to back in one session
#                 (CLOCK_MONOTONIC; the channel notifications of the jobs
#                 that end meanwhile are read and skipped, as a client
#                 does). floor: the CLI's own launch, agent-exec run
#                 --snapshot-after 0 -- true under benchtool repeat (as
#                 launch.sh's headline row), N runs just before the
#                 session and N just after: the mean of the two medians.
#                 Target: MCP median <= CLI median + 2 ms.
#   mcp.push      job end -> notifications/claude/channel read: the job
#                 (tools/call run, until 0) naps 0.1 s, then its last act
#                 is "exec benchtool stamp END"; the driver stamps the
#                 return of the read() that brought the channel line whose
#                 params.meta.job_id is that job. Median over N jobs, one
#                 at a time, one session. floor: notify.sh's, sh -c 'JOB;
#                 NOTIFY' (the next command of a shell). Target: <= 10 ms.
#   mcp.idle.*    a server on a fresh root, initialized, then left alone
#                 3 s: the CPU time it used meanwhile (utime + stime of
#                 /proc/PID/stat, ms; target 0) and then its PSS
#                 (benchtool mem; target <= 256 KiB). The server forks an
#                 events --follow child that reads the event log for it
#                 (its follower): its CPU time and PSS are reported too, as
#                 rows without a target (the targets are the server
#                 process's).
# nohup, nq and tsp have no MCP server: "-".
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init mcp

n=$(runs 200)
w=$(warmups "$n")
np=$(runs 51)
idle_s=3
nap=0.1
# the server's defaults, whatever the caller's environment says (a session
# key of the caller's would also keep a record of pushes in the root)
unset AGENT_EXEC_MCP_SESSION AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS \
	AGENT_EXEC_MCP_MAX_UNTIL_SECONDS
say "mcp: $n calls (+$w warm-up), $np pushes, ${idle_s} s idle"

figure mcp.call "9. MCP tools/call run ([\"true\"], until 0), $n back to back, one session"
figure mcp.push "9. job end -> MCP channel notification read (notifications/claude/channel)"
figure mcp.idle.cpu "9. idle MCP server (${idle_s} s after initialize): CPU time of the server"
figure mcp.idle.pss "9. idle MCP server: PSS of the server"
figure mcp.follower.cpu "9. idle MCP server: CPU time of its follower (events --follow)"
figure mcp.follower.pss "9. idle MCP server: PSS of its follower"
for key in mcp.call mcp.push mcp.idle.cpu mcp.idle.pss mcp.follower.cpu \
	mcp.follower.pss; do
	for tool in nohup nq tsp; do
		result "$key" "$tool" -
	done
done
for key in mcp.idle.cpu mcp.idle.pss mcp.follower.cpu mcp.follower.pss; do
	result "$key" floor -
done

# stats_ms FILE: "median min max" of the microseconds in FILE, in ms.
stats_ms() {
	_st=$("$BT" stats <"$1") || exit 1
	# shellcheck disable=SC2086 # "median min max count"
	set -- $_st
	echo "$(us_to_ms "$1") $(us_to_ms "$2") $(us_to_ms "$3")"
}

# ---- 1. tools/call run against the CLI's launch -------------------------

# cli_launch NAME: the CLI's run --snapshot-after 0 -- true, N times under
# benchtool repeat into a root of its own: "median min max" in ms.
cli_launch() {
	_root=$(new_root "$1")
	_out=$("$BT" repeat "$n" --warmup "$w" --timeout-ms 30000 -- \
		"$AE" --root "$_root" run --snapshot-after 0 -- true) ||
		die "cli: the launch command failed"
	wait_every 5 60 "the CLI's jobs to end" all_terminal "$_root" \
		"$((n + w))"
	# shellcheck disable=SC2086 # "median min max"
	set -- $_out
	echo "$(us_to_ms "$1") $(us_to_ms "$2") $(us_to_ms "$3")"
}

# the CLI before and after the MCP session: the machine's drift between
# the two measurements cancels in the mean of the two medians
cli1=$(cli_launch cli1) || exit 1
say "  cli run, before: median, min, max: $cli1 ms"

root=$(new_root call)
"$MCPDRIVE" calls "$n" "$w" "$WORK/call.us" -- "$AE" --root "$root" mcp ||
	die "the MCP session of the calls failed"
wait_every 5 60 "the MCP calls' jobs to end" all_terminal "$root" "$((n + w))"
# shellcheck disable=SC2046 # "median min max"
set -- $(stats_ms "$WORK/call.us")
call=$1
call_min=$2
call_max=$3
say "  mcp tools/call run: median $call ms (min $2, max $3)"

cli2=$(cli_launch cli2) || exit 1
say "  cli run, after: median, min, max: $cli2 ms"
# shellcheck disable=SC2086 # "median min max" twice
set -- $cli1 $cli2
cli=$(calc "($1 + $4) / 2")
result mcp.call agent-exec "$call" ms \
	"$(awk -v a="$call" -v b="$cli" 'BEGIN { printf "%+.2f", a - b }')" ms vs CLI
result mcp.call floor "$cli" ms
note "mcp: tools/call run, $n calls in one session: median $call ms," \
	"min $call_min, max $call_max. floor = the CLI's run" \
	"--snapshot-after 0 -- true, $n runs just before the session and $n" \
	"just after, the mean of the two medians: before $1 ms (min $2," \
	"max $3), after $4 ms (min $5, max $6)."
target mcp.call "$(met_if le "$call" "$(calc "$cli + 2")")" \
	"<= CLI + 2 ms"

# ---- 2. job end -> channel notification ----------------------------------

root=$(new_root push)
"$MCPDRIVE" pushes "$np" "sleep $nap; exec $BT stamp $WORK/push.end.\$1" \
	"$WORK/push.arr" -- "$AE" --root "$root" mcp ||
	die "the MCP session of the pushes failed"
i=0
while [ "$i" -lt "$np" ]; do
	i=$((i + 1))
	sh -c "$BT stamp $WORK/floor.end.$i; exec $BT stamp $WORK/floor.start.$i"
done
n_saved=$n
n=$np
latency mcp.push agent-exec push arr
push=$lat
latency mcp.push floor floor start
n=$n_saved
# shellcheck disable=SC2046 # "median min max"
set -- $(stats_ms "$WORK/push.us")
note "mcp: job end -> channel notification, $np jobs: median $1 ms," \
	"min $2, max $3; floor = sh -c 'JOB; NOTIFY' as in notify."
target mcp.push "$(met_if le "$push" 10)" "<= 10 ms"

# ---- 3. the idle server ---------------------------------------------------

# cpu_of PID: the CPU time of PID so far: "ticks ns wakeups" (utime +
# stime of /proc/PID/stat in clock ticks; the scheduler's own count in ns
# from /proc/PID/schedstat, or -1; voluntary + involuntary context
# switches).
cpu_of() {
	_ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat") ||
		return 1
	_ns=-1
	[ -r "/proc/$1/schedstat" ] && _ns=$(cut -d' ' -f1 "/proc/$1/schedstat")
	_sw=$(awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s }' \
		"/proc/$1/status") || return 1
	echo "$_ticks $_ns $_sw"
}

# the follower: the server's one child, once it is there
follower_of() {
	_kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null) ||
		_kids=$(for _s in /proc/[0-9]*/stat; do
			awk -v p="$1" '{ sub(/^.*\) /, "") } $2 == p { print FILENAME }' \
				"$_s" 2>/dev/null
		done | sed 's,/proc/\([0-9]*\)/stat,\1,')
	# shellcheck disable=SC2086 # pids
	set -- $_kids
	[ $# = 1 ] && echo "$1"
}
has_follower() { [ -n "$(follower_of "$1")" ]; }

hz=$(getconf CLK_TCK) || die "getconf CLK_TCK"
root=$(new_root idle)
mkfifo "$WORK/idle.fifo" || die "mkfifo"
# the driver holds the session while its script waits on the fifo (no CPU
# of its own); the server's pid goes to idle.pid
"$MCPDRIVE" hold "echo \"\$1\" >$WORK/idle.pid &&
	exec $BT bounded 60000 -- cat $WORK/idle.fifo" \
	-- "$AE" --root "$root" mcp >/dev/null &
drv=$!
track "$drv"
"$BT" waitfiles 10000 "$WORK/idle.pid" || die "no MCP server started"
srv=$(cat "$WORK/idle.pid")
wait_every 5 10 "the server's follower" has_follower "$srv"
fol=$(follower_of "$srv")
s0=$(cpu_of "$srv") || die "cannot read /proc/$srv"
f0=$(cpu_of "$fol") || die "cannot read /proc/$fol"
sleep "$idle_s"
s1=$(cpu_of "$srv") || die "cannot read /proc/$srv"
f1=$(cpu_of "$fol") || die "cannot read /proc/$fol"
mem_s=$("$BT" mem "$srv") || die "cannot read the memory of $srv"
mem_f=$("$BT" mem "$fol") || die "cannot read the memory of $fol"
: >"$WORK/idle.fifo"	# the script ends: the driver closes the session
wait "$drv" || die "the idle MCP session failed"
untrack "$drv"

# used NAME BEFORE AFTER: "ms ms_exact wakeups" of the window
used() {
	# shellcheck disable=SC2086 # "ticks ns switches" twice
	set -- $2 $3
	awk -v t="$(($4 - $1))" -v hz="$hz" -v n0="$2" -v n1="$5" \
		-v sw="$(($6 - $3))" 'BEGIN {
		printf "%.0f %s %d\n", t * 1000 / hz,
			n0 < 0 ? "?" : sprintf("%.3f", (n1 - n0) / 1e6), sw }'
}
# shellcheck disable=SC2046
set -- $(used server "$s0" "$s1") $(used follower "$f0" "$f1")
cpu_s=$1
say "  idle ${idle_s} s: server $1 ms CPU ($2 ms by schedstat, $3 context" \
	"switches), follower $4 ms ($5 ms, $6 switches)"
result mcp.idle.cpu agent-exec "$1" ms "schedstat $2 ms, $3 switches"
result mcp.follower.cpu agent-exec "$4" ms "schedstat $5 ms, $6 switches"
note "mcp: idle CPU = utime + stime (/proc/PID/stat, in ticks of" \
	"$((1000 / hz)) ms) over ${idle_s} s; schedstat: the scheduler's" \
	"count of the same, in ns; switches: context switches (voluntary and" \
	"not) in the window, each a wakeup."
# shellcheck disable=SC2086 # "rss pss"
set -- $mem_s $mem_f
pss_s=$2
result mcp.idle.pss agent-exec "$2" KiB "RSS $1 KiB"
result mcp.follower.pss agent-exec "$4" KiB "RSS $3 KiB"
say "  idle: server RSS $1 KiB, PSS $2 KiB; follower RSS $3 KiB, PSS $4 KiB"
note "mcp: the follower is agent-exec events --follow, forked by the" \
	"server (no exec): it shares the binary's pages with the server, so" \
	"the two PSS split them; the targets are the server process's."
target mcp.idle.cpu "$(met_if le "$cpu_s" 0)" "0 ms"
target mcp.idle.pss "$(met_if le "$pss_s" 256)" "<= 256 KiB"
