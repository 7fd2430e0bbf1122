#!/bin/sh
# notify.sh: figure 4, from a job's end to the start of its notify command.
# The job is "exec benchtool stamp END"; the notify command is "benchtool
# stamp START" (no date process to skew the figure). Latency = START - END,
# median over N jobs, one job at a time.
#   notify        agent-exec run --notify-command, the default wrapper
#                 (sh -c); the headline
#   notify.sh-lc  the same with --shell-wrapper 'sh -lc', a login shell
#                 (it reads the profile first), for comparison
#   floor         sh -c 'JOB; NOTIFY': the next command of a shell
#   tsp           TS_ONFINISH, the program tsp runs when a job ends
#   (nohup and nq have nothing of the kind)
# Target: <= 5 ms with the default wrapper.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init notify

n=$(runs 21)
say "notify: $n jobs each"

# stamp_cmd NAME KIND I: the shell command that stamps $WORK/NAME.KIND.I.
stamp_cmd() { echo "$BT stamp $WORK/$1.$2.$3"; }


# started NAME I: wait (bounded) until the notify command of job I ran.
started() {
	"$BT" waitfiles 10000 "$WORK/$1.start.$2" ||
		die "$1: the notify command of job $2 did not run"
}

figure notify "4. job end -> notify command starts (default wrapper, sh -c)"
figure notify.sh-lc "4. job end -> notify command starts (--shell-wrapper 'sh -lc', a login shell)"

root=$(new_root notify)
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	ae_run "$root" --snapshot-after 0 \
		--notify-command "$(stamp_cmd c start "$i")" \
		-- sh -c "exec $(stamp_cmd c end "$i")" >/dev/null || exit 1
	started c "$i"
	ae_run "$root" --snapshot-after 0 --shell-wrapper "sh -lc" \
		--notify-command "$(stamp_cmd lc start "$i")" \
		-- sh -c "exec $(stamp_cmd lc end "$i")" >/dev/null || exit 1
	started lc "$i"
	sh -c "$(stamp_cmd floor end "$i"); exec $(stamp_cmd floor start "$i")"
done
latency notify agent-exec c start
ae_c=$lat
latency notify.sh-lc agent-exec lc start
latency notify floor floor start
result notify.sh-lc floor "$lat" ms

if have tsp; then
	tsp_env
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		TS_ONFINISH=$ONFINISH BENCH_STAMP_FILE=$WORK/tsp.start.$i \
			tsp sh -c "exec $(stamp_cmd tsp end "$i")" >/dev/null ||
			die "tsp failed"
		started tsp "$i"
	done
	latency notify tsp tsp start
else
	result notify tsp n/a
fi

note "notify: floor = sh -c 'JOB; NOTIFY', the shell starting the next" \
	"command; tsp = its TS_ONFINISH program; nq and nohup have no such hook."
note "notify: the login-shell row (sh -lc) is for comparison: its" \
	"extra time is the profile's; the target is the default wrapper's."
target notify "$(met_if le "$ae_c" 5)" "<= 5 ms"
