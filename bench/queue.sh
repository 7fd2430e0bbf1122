#!/bin/sh
# queue.sh: figure 10, a queue with slots (issue 17). N jobs of the
# one-word command true (1,000) go through a queue of 4 slots, launched
# back to back by a plain shell loop, timed from before the first launch
# until every job is terminal; median over R repetitions, each into a
# fresh root or queue, the tools interleaved in every repetition:
#   agent-exec   run --queue q --slots 4 -- true, xN (default options: a
#                job of a queue is answered once it is started or
#                queued); then wait --queue q
#   agent-exec0  the same with --snapshot-after 10s (run answers once the
#                job has ended, as run without a queue does by default)
#   ae-xargs     seq N | xargs -P4 -I{} agent-exec run -- true: four at a
#                time without a queue (each run answers at its job's end)
#   floor        seq N | xargs -P4 -I{} true
#   shape        the least a loop of this shape can take, whatever the
#                tool: N times agent-exec --version (an exec of the CLI
#                that does nothing) then sh -c true in the background (the
#                0.1 contract runs every job through its shell wrapper),
#                no record, no supervisor; then wait for all
#   tsp          tsp true, xN, on a warm server with 4 slots (tsp -S 4,
#                set before the timing); then tsp -w on the last id
#                (FIFO: once it has ended every job has started) and
#                tsp -l polled every 5 ms until it shows N finished jobs
#   nq           no slot count: an nq queue runs one job at a time ("-")
# agent-exec runs the one word through its default wrapper (sh -c); xargs,
# tsp and nq exec /usr/bin/true.
# Memory per queued job: a blocker (sleep) holds the only slot of a
# 1-slot queue, M jobs (100) queue behind it, and once they wait the PSS
# of what keeps each waiting (smaps_rollup) is summed and divided by M:
#   agent-exec   the supervisor of each queued job (supervisor_pid in
#                state.json)
#   floor        flock(1) blocked on a lock file: one process a waiting
#                job, the least a queue without a daemon keeps
#   nq           its two processes a waiting job (the one named by its
#                file, which will exec the job, and its parent)
#   tsp          the client process that will run the job (tsp -S 1); the
#                server's PSS is in a note
# Then the blocker is killed and the queue drained.
# Targets: agent-exec's wall time <= 1.5x xargs -P4's and <= 1.5x tsp's;
# PSS per queued job <= 128 KiB.
# Environment: QUEUE_RUNS (repetitions, else BENCH_RUNS, else 5),
# QUEUE_JOBS (jobs a repetition, 1000), QUEUE_MEM_JOBS (queued jobs
# measured, 100).
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init queue

# posint NAME VALUE: VALUE, checked to be a positive integer.
posint() {
	case $2 in
	'' | *[!0-9]* | 0*) die "$1 must be a positive integer" ;;
	esac
	echo "$2"
}
n=$(posint QUEUE_RUNS "${QUEUE_RUNS:-$(runs 5)}") || exit 1
count=$(posint QUEUE_JOBS "${QUEUE_JOBS:-1000}") || exit 1
memjobs=$(posint QUEUE_MEM_JOBS "${QUEUE_MEM_JOBS:-100}") || exit 1
slots=4
settle=0.3
say "queue: $n repetitions of $count jobs through $slots slots;" \
	"memory of $memjobs queued jobs"

# bench_cleanup: queued jobs are not "running" for lib.sh's cleanup: take
# them out of line too (an interrupted run), before the blockers go.
bench_cleanup() {
	for _root in "$WORK"/root.*; do
		[ -d "$_root" ] || continue
		"$AE" --root "$_root" list --all --state queued 2>/dev/null |
			job_id_all | while read -r _id; do
			"$AE" --root "$_root" kill --signal KILL "$_id" \
				>/dev/null 2>&1
		done
	done
}

# elapsed T0 T1: the time between two stamps, in ms (2 decimals).
elapsed() {
	_us=$("$BT" delta "$WORK/$1" "$WORK/$2") || exit 1
	us_to_ms "$_us"
}

# counts_ok FILE: the answer of wait in FILE shows $count jobs exited and
# none running, queued or failed.
counts_ok() {
	grep -q "\"counts\":{\"created\":0,\"running\":0,\"exited\":$count,\"killed\":0,\"failed\":0,\"unknown\":0,\"queued\":0}" "$1"
}

tsp_done() {
	[ "$(tsp -l | awk 'NR > 1 && $2 == "finished"' | wc -l |
		tr -d ' ')" = "$count" ]
}

# batch TOOL R: one repetition; its wall time in ms appended to
# $WORK/TOOL.ms (the launches alone to $WORK/TOOL.launch.ms).
batch() {
	case $1 in
	agent-exec | agent-exec0 | ae-xargs) _root=$(new_root "$1.$2") ;;
	tsp) tsp -C >/dev/null || die "tsp -C failed" ;;
	esac
	_i=0
	: >"$WORK/answers"
	"$BT" stamp "$WORK/t0"
	case $1 in
	agent-exec)
		while [ "$_i" -lt "$count" ]; do
			_i=$((_i + 1))
			"$AE" --root "$_root" run --queue q --slots "$slots" \
				-- true >>"$WORK/answers" ||
				die "$1: launch $_i failed"
		done ;;
	agent-exec0)
		while [ "$_i" -lt "$count" ]; do
			_i=$((_i + 1))
			"$AE" --root "$_root" run --queue q --slots "$slots" \
				--snapshot-after 10s -- true >>"$WORK/answers" ||
				die "$1: launch $_i failed"
		done ;;
	ae-xargs)
		seq "$count" | xargs -P"$slots" -I{} \
			"$AE" --root "$_root" run -- true >/dev/null ||
			die "$1: xargs failed" ;;
	floor)
		seq "$count" | xargs -P"$slots" -I{} true ||
			die "$1: xargs failed" ;;
	shape)
		while [ "$_i" -lt "$count" ]; do
			_i=$((_i + 1))
			"$AE" --version >/dev/null || die "$1: --version failed"
			sh -c true &
		done
		wait ;;
	tsp)
		while [ "$_i" -lt "$((count - 1))" ]; do
			_i=$((_i + 1))
			tsp true >/dev/null || die "tsp: launch $_i failed"
		done
		_last=$(tsp true) || die "tsp: the last launch failed" ;;
	esac
	"$BT" stamp "$WORK/t1"
	case $1 in
	agent-exec | agent-exec0)
		bounded 300 "$AE" --root "$_root" wait --queue q \
			>"$WORK/wait.out" || die "$1: wait --queue failed" ;;
	tsp)
		bounded 300 tsp -w "$_last" >/dev/null ||
			die "tsp -w $_last failed"
		wait_every 5 60 "$count finished tsp jobs" tsp_done ;;
	esac
	"$BT" stamp "$WORK/t2"
	elapsed t0 t2 >>"$WORK/$1.ms" || exit 1
	elapsed t0 t1 >>"$WORK/$1.launch.ms" || exit 1
	# checked after the timing: every job is terminal, and ended well
	case $1 in
	agent-exec | agent-exec0)
		counts_ok "$WORK/wait.out" ||
			die "$1: not $count exited jobs: $(grep -o '"counts":{[^}]*}' "$WORK/wait.out")"
		# how many had to wait for a slot (run answered "queued")
		grep -o '"state":"queued"' "$WORK/answers" | wc -l |
			tr -d ' ' >>"$WORK/$1.queued" ;;
	ae-xargs)
		"$AE" --root "$_root" list --all >"$WORK/list.out" ||
			die "$1: list failed"
		_ex=$(grep -o '"state":"exited"' "$WORK/list.out" | wc -l | tr -d ' ')
		[ "$_ex" = "$count" ] ||
			die "$1: $_ex of $count jobs exited when xargs returned" ;;
	esac
}

# median FILE: "median min max" of the numbers in FILE (ms, 2 decimals).
median() {
	_st=$("$BT" stats <"$1") || exit 1
	# shellcheck disable=SC2086 # "median min max count"
	set -- $_st
	echo "$(calc "$1") $(calc "$2") $(calc "$3")"
}

figure queue "10. $count true jobs through a $slots-slot queue (run --queue, default options: answered once started or queued), until all are terminal"
figure queue0 "10. the same, run --queue --snapshot-after 10s (answered at the job's end)"
figure queue-xargs "10. the same without a queue: xargs -P$slots agent-exec run -- true"
figure queue-shape "10. the least a launch loop takes, whatever the tool: ${count}x (agent-exec --version, then sh -c true in the background), no records"
figure queue-mem "10. memory per queued job (PSS of what keeps it waiting; $memjobs behind a blocker, 1 slot)"

tools="floor shape agent-exec agent-exec0 ae-xargs"
if have tsp; then
	tsp_env
	TS_MAXFINISHED=$((count + 10))	# read by the server when it starts
	export TS_MAXFINISHED
	tsp -S "$slots" >/dev/null || die "tsp -S failed"
	tools="floor shape tsp agent-exec agent-exec0 ae-xargs"
fi

# ---- wall time ------------------------------------------------------------

r=0
while [ "$r" -lt "$n" ]; do
	r=$((r + 1))
	for tool in $tools; do
		batch "$tool" "$r"
		say "  repetition $r, $tool: $(tail -n 1 "$WORK/$tool.ms") ms" \
			"(launches $(tail -n 1 "$WORK/$tool.launch.ms") ms)"
	done
done

ms_tsp=
launch_tsp=
for tool in $tools; do
	# shellcheck disable=SC2046 # "median min max"
	set -- $(median "$WORK/$tool.ms")
	med=$1
	say "  $tool: median $1 ms (min $2, max $3)"
	# shellcheck disable=SC2046
	set -- $(median "$WORK/$tool.launch.ms")
	case $tool in
	floor) ms_floor=$med ;;
	tsp) ms_tsp=$med launch_tsp=$1 ;;
	agent-exec)
		ms_ae=$med launch_ae=$1
		queued_ae=$("$BT" stats <"$WORK/$tool.queued") || exit 1
		queued_ae=$(calc "${queued_ae%% *}" | sed 's/\.00$//') ;;
	agent-exec0)
		ms_ae0=$med launch_ae0=$1
		queued_ae0=$("$BT" stats <"$WORK/$tool.queued") || exit 1
		queued_ae0=$(calc "${queued_ae0%% *}" | sed 's/\.00$//') ;;
	ae-xargs) ms_aex=$med ;;
	shape) ms_shape=$med ;;
	esac
done
floor_ms=$ms_floor
tsp_ms=$ms_tsp

# ae_cells KEY MS: agent-exec's cell, with its ratios to xargs and tsp,
# and the verdict of each half (MS <= 1.5x tsp's, MS <= 1.5x xargs -P4
# true's), given apart: no tool of this kind meets the second (tsp itself
# takes over twice the floor), and one half met must not read as both.
ae_cells() {
	_x=$(calc "$2 / $floor_ms")
	_xok=$(met_if le "$2" "$(calc "1.5 * $floor_ms")")
	if [ -n "$tsp_ms" ]; then
		_t=$(calc "$2 / $tsp_ms")
		result "$1" agent-exec "$2" ms "${_x}x xargs, ${_t}x tsp"
		_ok="tsp:$(met_if le "$2" "$(calc "1.5 * $tsp_ms")"),xargs:$_xok"
	else
		result "$1" agent-exec "$2" ms "${_x}x xargs"
		_ok="tsp:n/a,xargs:$_xok"
	fi
	result "$1" floor "$floor_ms" ms
	result "$1" nohup -
	result "$1" nq -
	if [ -n "$tsp_ms" ]; then
		result "$1" tsp "$tsp_ms" ms
	else
		result "$1" tsp n/a
	fi
	verdict=$_ok
}
ae_cells queue "$ms_ae"
target queue "$verdict" "<= 1.5x tsp -S 4; <= 1.5x xargs -P4"
ae_cells queue0 "$ms_ae0"
target queue0 "$verdict" "<= 1.5x tsp -S 4; <= 1.5x xargs -P4"
ae_cells queue-xargs "$ms_aex"
# the shape's own floor: when it alone is over 1.5x xargs, no tool that
# is launched a job at a time by a loop and runs its jobs through sh -c
# can meet the xargs half of the target on this machine
ae_cells queue-shape "$ms_shape"
if le "$ms_shape" "$(calc "1.5 * $floor_ms")"; then
	_reach="under 1.5x xargs: the xargs half is within reach"
else
	_reach="over 1.5x xargs: the xargs half is out of reach of any tool of that shape on this machine"
fi
note "queue: shape = ${count}x (agent-exec --version; sh -c true &), then wait, took $(calc "$ms_shape / $floor_ms")x xargs -P$slots true: $_reach."

# ---- memory per queued job ------------------------------------------------

# pss_sum PID...: "count rss_kib pss_kib pss_anon_kib" summed over PIDs
# (Pss_Anon: the private memory, from smaps_rollup).
pss_sum() {
	for _p in "$@"; do
		_m=$("$BT" mem "$_p") || die "cannot read the memory of $_p"
		_a=$(awk '/^Pss_Anon:/ { print $2 }' "/proc/$_p/smaps_rollup" \
			2>/dev/null)
		echo "$_m ${_a:-0}"
	done | awk '{ n++; r += $1; p += $2; a += $3 }
		END { printf "%d %d %d %d\n", n, r, p, a }'
}

# per_job TOOL "count rss pss anon": the average over $memjobs queued
# jobs, as a RESULT; PSS in $per_pss.
per_job() {
	# shellcheck disable=SC2086 # "count rss pss anon"
	set -- "$1" $2
	[ "$2" -gt 0 ] || die "$1: no process measured"
	per_pss=$(awk -v s="$4" -v n="$memjobs" 'BEGIN { printf "%.0f", s / n }')
	_rss=$(awk -v s="$3" -v n="$memjobs" 'BEGIN { printf "%.0f", s / n }')
	_anon=$(awk -v s="$5" -v n="$memjobs" 'BEGIN { printf "%.0f", s / n }')
	result queue-mem "$1" "$per_pss" KiB "RSS $_rss, private $_anon"
	say "  $1: $2 processes for $memjobs queued jobs: PSS $per_pss KiB," \
		"RSS $_rss KiB, Pss_Anon $_anon KiB a job"
}

# agent-exec: the supervisors of the queued jobs
root=$(new_root mem)
blocker=$(ae_run "$root" --queue m --slots 1 --snapshot-after 0 \
	-- sleep 600) || exit 1
: >"$WORK/mem.ids"
i=0
while [ "$i" -lt "$memjobs" ]; do
	i=$((i + 1))
	ae_run "$root" --queue m --snapshot-after 0 -- true \
		>>"$WORK/mem.ids" || exit 1
done
sleep "$settle"
: >"$WORK/mem.pids"
while read -r id; do
	grep -q '"status": *"queued"' "$root/$id/state.json" ||
		die "job $id is not queued: $(cat "$root/$id/state.json")"
	sup=$(state_num "$root" "$id" supervisor_pid)
	[ -n "$sup" ] || die "no supervisor_pid in $root/$id/state.json"
	echo "$sup" >>"$WORK/mem.pids"
done <"$WORK/mem.ids"
# shellcheck disable=SC2046 # a list of pids
per_job agent-exec "$(pss_sum $(cat "$WORK/mem.pids"))"
pss_ae=$per_pss
"$AE" --root "$root" kill "$blocker" >/dev/null || die "kill $blocker failed"
bounded 120 "$AE" --root "$root" wait --queue m >"$WORK/wait.out" ||
	die "wait --queue m failed"
grep -q "\"exited\":$memjobs," "$WORK/wait.out" ||
	die "not $memjobs jobs exited: $(grep -o '"counts":{[^}]*}' "$WORK/wait.out")"

# floor: flock(1) waiting on a lock a sleeping shell holds
if have flock; then
	lock=$WORK/floor.lock
	: >"$lock"
	# shellcheck disable=SC2016 # expanded by that sh
	sh -c 'exec 9>"$1" && flock 9 && exec sleep 600' sh "$lock" &
	holder=$!
	track "$holder"
	# shellcheck disable=SC2016 # expanded by that sh
	wait_for 10 "the floor's lock" sh -c '! flock -n "$1" true' sh "$lock"
	waiters=
	i=0
	while [ "$i" -lt "$memjobs" ]; do
		i=$((i + 1))
		flock "$lock" true &
		waiters="$waiters $!"
	done
	track "$waiters"
	sleep "$settle"
	# shellcheck disable=SC2086 # a list of pids
	per_job floor "$(pss_sum $waiters)"
	kill "$holder"
	# shellcheck disable=SC2086
	wait $holder $waiters 2>/dev/null
	untrack "$holder"
	for p in $waiters; do untrack "$p"; done
else
	result queue-mem floor n/a
fi
result queue-mem nohup -

# procs_of NAME VAR=VALUE: the live processes named NAME whose environment
# holds VAR=VALUE (ours, not another user's of the same tool).
procs_of() {
	for _d in /proc/[0-9]*; do
		{ read -r _c <"$_d/comm"; } 2>/dev/null || continue
		[ "$_c" = "$1" ] || continue
		tr '\0' '\n' <"$_d/environ" 2>/dev/null | grep -qxF "$2" ||
			continue
		_st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "$_d/stat" 2>/dev/null)
		[ "$_st" = Z ] || [ -z "$_st" ] || echo "${_d#/proc/}"
	done
}

if have nq; then
	nq_env
	nqblock=$(nq sleep 600) || die "nq failed"
	: >"$WORK/nq.ids"
	i=0
	while [ "$i" -lt "$memjobs" ]; do
		i=$((i + 1))
		nq true >>"$WORK/nq.ids" || die "nq failed"
	done
	sleep "$settle"
	pids=
	while read -r f; do
		p=${f##*.}
		pids="$pids $p $(ppid_of "$p")"
	done <"$WORK/nq.ids"
	# shellcheck disable=SC2086 # a list of pids
	per_job nq "$(pss_sum $pids)"
	kill "${nqblock##*.}" || die "kill nq job ${nqblock##*.}"
	bounded 120 nq -w >/dev/null 2>&1 || die "nq -w failed"
else
	result queue-mem nq n/a
fi

if have tsp; then
	tsp -C >/dev/null
	tsp -S 1 >/dev/null || die "tsp -S 1 failed"
	tblock=$(tsp sleep 600) || die "tsp failed"
	# shellcheck disable=SC2016 # expanded by that sh
	wait_for 10 "tsp job $tblock to start" \
		sh -c 'p=$(tsp -p "$1" 2>/dev/null) && [ -n "$p" ]' sh "$tblock"
	tjob=$(tsp -p "$tblock")
	tclient=$(ppid_of "$tjob")
	i=0
	while [ "$i" -lt "$memjobs" ]; do
		i=$((i + 1))
		tsp true >/dev/null || die "tsp failed"
	done
	sleep "$settle"
	server=$(tsp_server_pid) || die "no tsp server"
	pids=$(procs_of tsp "TS_SOCKET=$TS_SOCKET" |
		grep -vx -e "$server" -e "$tclient")
	nt=$(echo "$pids" | grep -c .)
	[ "$nt" = "$memjobs" ] ||
		die "tsp: $nt client processes waiting, not $memjobs"
	# shellcheck disable=SC2086 # a list of pids
	per_job tsp "$(pss_sum $pids)"
	# shellcheck disable=SC2046 # "rss pss"
	set -- $("$BT" mem "$server")
	srv_rss=$1
	srv_pss=$2
	kill "$tjob" || die "kill tsp job $tjob"
	bounded 120 tsp -w >/dev/null 2>&1
	# shellcheck disable=SC2016 # expanded by that sh
	wait_every 5 60 "the tsp queue to drain" sh -c \
		'[ "$(tsp -l | awk '\''NR > 1 && $2 != "finished"'\'' | wc -l)" -eq 0 ]'
	note "queue: the tsp server (one for all jobs, holding the $memjobs" \
		"queued in its memory) had RSS $srv_rss KiB, PSS $srv_pss KiB."
else
	result queue-mem tsp n/a
fi
target queue-mem "$(met_if le "$pss_ae" 128)" "<= 128 KiB"

note "queue: $count jobs a repetition, median of $n; floor = seq N |" \
	"xargs -P$slots -I{} true; tsp = tsp -S $slots, server warm, done when" \
	"tsp -l shows every job finished; nq has no slot count (one job at a" \
	"time). Floor and tsp are the same measurement in the three rows."
note "queue: the launch loop alone (median ms): agent-exec $launch_ae," \
	"with --snapshot-after 10s $launch_ae0${launch_tsp:+, tsp $launch_tsp};" \
	"the rest of each row is the wait for the last jobs. Runs that" \
	"answered queued (median): $queued_ae, with --snapshot-after 10s" \
	"$queued_ae0 of $count (the others found a free slot)."
note "queue memory: per queued job, PSS (RSS, private = Pss_Anon);" \
	"agent-exec: its supervisor; floor: flock(1) waiting on a lock;" \
	"nq: its two waiting processes; tsp: its client process."
