#!/bin/sh
# launch.sh: figure 1, launch latency. The same spawner (benchtool repeat:
# fork, exec, waitpid, CLOCK_MONOTONIC) runs each command N times after a
# warm-up; the figure is the median time until the launching command
# returns:
#   agent-exec  agent-exec --root R run --snapshot-after 0 -- true
#   floor       sh -c 'true &'             (fork+exec of a background job)
#   nohup       sh -c 'nohup true >/dev/null 2>&1 &'
#   nq          nq true                    (its own NQDIR)
#   tsp         tsp true                   (its own TS_SOCKET; server warm)
# Every tool is measured twice:
#   back to back  (the headline) no pause between runs: each launch starts
#                 as soon as the one before returned, while the job it
#                 launched may still be starting or ending. This is what
#                 hyperfine -N measures (no shell, no pause; hyperfine
#                 prints the mean, benchtool the median).
#   idle          an untimed pause of PAUSE_MS (50) after every run lets the
#                 job just launched finish before the next launch is timed:
#                 latency on an idle machine.
# Between two measurements the jobs launched are left to end (a queue
# drained, every agent-exec job terminal), so none competes with the next.
# agent-exec runs the one word through its default wrapper, sh -c.
# Target (back to back, at least 200 runs): agent-exec <= 1.5x the floor,
# and faster than nq and tsp.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init launch

n=$(runs 200)
w=$(warmups "$n")
idle_ms=${PAUSE_MS:-50}
say "launch: $n runs (+$w warm-up) each, back to back and ${idle_ms} ms apart"

# median_ms TOOL PAUSE CMD...: print the median in ms of runs PAUSE ms
# apart (min and max to stderr).
median_ms() {
	_tool=$1
	_pause=$2
	shift 2
	_out=$("$BT" repeat "$n" --warmup "$w" --timeout-ms 30000 \
		--pause-ms "$_pause" -- "$@") ||
		die "$_tool: the launch command failed"
	# shellcheck disable=SC2086 # "median min max"
	set -- $_out
	say "  $_tool: median $(us_to_ms "$1") ms" \
		"(min $(us_to_ms "$2"), max $(us_to_ms "$3"))"
	us_to_ms "$1"
}

# cell KEY TOOL MS: the result of TOOL; with a ratio row (KEY.ratio) for
# the headline, else the ratio to the floor in the same cell.
cell() {
	if [ "$1" = launch ]; then
		result launch "$2" "$3" ms
		result launch.ratio "$2" "$(calc "$3 / $floor")" x
	else
		result "$1" "$2" "$3" ms "$(calc "$3 / $floor")x"
	fi
}

# measure KEY PAUSE: every tool, runs PAUSE ms apart, as the cells of row
# KEY; sets $floor, $nq_ms, $tsp_ms and $ae.
measure() {
	say " $1 (runs $2 ms apart)"
	floor=$(median_ms floor "$2" sh -c 'true &') || exit 1
	cell "$1" floor "$floor"
	_ms=$(median_ms nohup "$2" sh -c 'nohup true >/dev/null 2>&1 &') ||
		exit 1
	cell "$1" nohup "$_ms"
	nq_ms=
	if have nq; then
		# a queue of its own: nq looks at every job file of its queue
		NQDIR=$WORK/nq.$1 && mkdir "$NQDIR" || exit 1
		nq_ms=$(median_ms nq "$2" nq true) || exit 1
		cell "$1" nq "$nq_ms"
		bounded 60 nq -w >/dev/null 2>&1 || say "  nq: the queue did not drain"
	else
		result "$1" nq n/a
	fi
	tsp_ms=
	if have tsp; then
		tsp_ms=$(median_ms tsp "$2" tsp true) || exit 1
		cell "$1" tsp "$tsp_ms"
		# the queue runs its jobs one by one: let it drain
		bounded 60 tsp -w >/dev/null 2>&1 || say "  tsp: the queue did not drain"
		tsp -C >/dev/null 2>&1
	else
		result "$1" tsp n/a
	fi
	_root=$(new_root "$1")
	ae=$(median_ms agent-exec "$2" "$AE" --root "$_root" run \
		--snapshot-after 0 -- true) || exit 1
	cell "$1" agent-exec "$ae"
	wait_every 5 60 "the launched jobs to end" all_terminal "$_root" \
		"$((n + w))"
}

figure launch "1. launch, back to back (run --snapshot-after 0 -- true, $n runs, no pause)"
figure launch.ratio "1. launch, back to back / fork+exec floor"
figure launch.idle "1. launch on an idle machine ($idle_ms ms pause between runs; x floor)"

have nq && nq_env
have tsp && tsp_env

measure launch 0
ratio=$(calc "$ae / $floor")
ok=met
le "$ratio" 1.5 || ok=MISSED
[ -n "$nq_ms" ] && { lt "$ae" "$nq_ms" || ok=MISSED; }
[ -n "$tsp_ms" ] && { lt "$ae" "$tsp_ms" || ok=MISSED; }
target launch "$ok" "<= 1.5x floor and < nq, tsp"
target launch.ratio "$(met_if le "$ratio" 1.5)" "<= 1.5x"
say "  agent-exec / floor, back to back = $ratio"

measure launch.idle "$idle_ms"
say "  agent-exec / floor, idle = $(calc "$ae / $floor")"

note "launch: back to back = benchtool repeat --pause-ms 0, each run" \
	"started as soon as the one before returned: what hyperfine -N" \
	"measures (it prints the mean; this is the median). Idle = an untimed" \
	"$idle_ms ms pause after every run."
note "launch: a one-word command (true) is run by agent-exec through its" \
	"default shell wrapper (sh -c); run answers once the wrapper is running."
[ "$n" -ge 200 ] ||
	note "launch: only $n runs (BENCH_RUNS); the target asks for at least 200."
