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
# Each run starts on an idle machine: an untimed pause of PAUSE_MS (50)
# after every run lets the job just launched finish its own start-up (with
# the default wrapper sh -lc reads the login profile: milliseconds of CPU
# on this 2-core machine) before the next launch is timed. Without it the
# figure measures how launches compete with earlier jobs, not latency.
# Target: agent-exec <= 1.5x the floor, and faster than nq and tsp.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init launch

n=$(runs 200)
w=$(warmups "$n")
say "launch: $n runs (+$w warm-up) each"

# median_ms TOOL CMD...: print the median in ms (min and max to stderr).
median_ms() {
	_tool=$1
	shift
	_out=$("$BT" repeat "$n" --warmup "$w" --timeout-ms 30000 \
		--pause-ms "${PAUSE_MS:-50}" -- "$@") ||
		die "$_tool: the launch command failed"
	# shellcheck disable=SC2086 # "median min max"
	set -- $_out
	say "  $_tool: median $(us_to_ms "$1") ms" \
		"(min $(us_to_ms "$2"), max $(us_to_ms "$3"))"
	us_to_ms "$1"
}

figure launch "1. launch latency (run --snapshot-after 0 -- true)"
figure launch.ratio "1. launch latency / fork+exec floor"

floor=$(median_ms floor sh -c 'true &') || exit 1
result launch floor "$floor" ms
result launch.ratio floor 1.00 x
ms=$(median_ms nohup sh -c 'nohup true >/dev/null 2>&1 &') || exit 1
result launch nohup "$ms" ms
result launch.ratio nohup "$(calc "$ms / $floor")" x

nq_ms=
if have nq; then
	nq_env
	nq_ms=$(median_ms nq nq true) || exit 1
	result launch nq "$nq_ms" ms
	result launch.ratio nq "$(calc "$nq_ms / $floor")" x
else
	result launch nq n/a
	result launch.ratio nq n/a
fi
tsp_ms=
if have tsp; then
	tsp_env
	tsp_ms=$(median_ms tsp tsp true) || exit 1
	result launch tsp "$tsp_ms" ms
	result launch.ratio tsp "$(calc "$tsp_ms / $floor")" x
	# the queue runs its jobs one by one: let it drain before the server
	# is killed
	bounded 60 tsp -w >/dev/null 2>&1 || say "  tsp: the queue did not drain"
else
	result launch tsp n/a
	result launch.ratio tsp n/a
fi

ae=$(median_ms agent-exec "$AE" --root "$(new_root launch)" run \
	--snapshot-after 0 -- true) || exit 1
result launch agent-exec "$ae" ms
ratio=$(calc "$ae / $floor")
result launch.ratio agent-exec "$ratio" x

ok=met
le "$ratio" 1.5 || ok=MISSED
[ -n "$nq_ms" ] && { lt "$ae" "$nq_ms" || ok=MISSED; }
[ -n "$tsp_ms" ] && { lt "$ae" "$tsp_ms" || ok=MISSED; }
target launch "$ok" "<= 1.5x floor and < nq, tsp"
target launch.ratio "$(met_if le "$ratio" 1.5)" "<= 1.5x"
say "  agent-exec / floor = $ratio"
note "launch: a one-word command (true) is run by agent-exec through its" \
	"shell wrapper (sh -lc); run answers once the wrapper is running."
