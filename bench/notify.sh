#!/bin/sh
# notify.sh: figure 4, from a job's end to the start of its notify command.
# The job is "exec benchtool stamp END"; the notify command is "benchtool
# stamp START" (no date process to skew the figure). Latency = START - END,
# median over N jobs, one job at a time.
#   notify        agent-exec run --notify-command, the default wrapper
#                 (sh -lc: a login shell reads the profile first)
#   notify.sh-c   the same with --shell-wrapper "sh -c"
#   floor         sh -c 'JOB; NOTIFY': the next command of a shell
#   tsp           TS_ONFINISH, the program tsp runs when a job ends
#   (nohup and nq have nothing of the kind)
# Target: <= 5 ms.
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

figure notify "4. job end -> notify command starts (default sh -lc)"
figure notify.sh-c "4. job end -> notify command starts (sh -c wrapper)"

root=$(new_root notify)
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	ae_run "$root" --snapshot-after 0 \
		--notify-command "$(stamp_cmd lc start "$i")" \
		-- sh -c "exec $(stamp_cmd lc end "$i")" >/dev/null || exit 1
	started lc "$i"
	ae_run "$root" --snapshot-after 0 --shell-wrapper "sh -c" \
		--notify-command "$(stamp_cmd c start "$i")" \
		-- sh -c "exec $(stamp_cmd c end "$i")" >/dev/null || exit 1
	started c "$i"
	sh -c "$(stamp_cmd floor end "$i"); exec $(stamp_cmd floor start "$i")"
done
latency notify agent-exec lc start
ae_lc=$lat
latency notify.sh-c agent-exec c start
ae_c=$lat
latency notify floor floor start
result notify.sh-c floor "$lat" ms

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
target notify "$(met_if le "$ae_lc" 5)" "<= 5 ms"
target notify.sh-c "$(met_if le "$ae_c" 5)" "<= 5 ms"
