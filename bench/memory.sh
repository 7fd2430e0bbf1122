#!/bin/sh
# memory.sh: figure 2, the memory of what holds one sleeping job, read from
# /proc/PID/smaps_rollup (RSS and PSS, KiB) 300 ms after the launch, alone
# on the machine (one job at a time), median over N jobs:
#   agent-exec  the supervisor of run --snapshot-after 0 -- sleep 30
#               (supervisor_pid in state.json)
#   floor       a shell waiting for its child (sh -c 'sleep 30 & ...; wait')
#   nohup       no process holds the job (nohup execs it): nothing
#   nq          the nq process that waits for its job (the job's parent)
#   tsp         the tsp client that runs the job (the job's parent); the
#               server, shared by all jobs, is in a note
# Killing a job between samples uses its pid: agent-exec kill, or kill of
# the pid nq and tsp report.
# A second PSS row holds the average over 10 jobs sleeping side by side
# (agent-exec: 10 supervisors): PSS shares a page among the processes that
# map it, so with one job alone the binary's code pages all count to its
# one supervisor, and with ten each carries a tenth of them.
# Targets: supervisor PSS <= 128 KiB, RSS <= 512 KiB.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init memory

n=$(runs 5)
say "memory: $n jobs each"
settle=0.3

# sample TOOL PID: append "rss pss" of PID to $WORK/mem.TOOL.
sample() {
	_m=$("$BT" mem "$2") || die "$1: cannot read the memory of $2"
	echo "$_m" >>"$WORK/mem.$1"
}

# median_col FILE N: the median of column N of FILE, as an integer.
median_col() {
	_med=$(cut -d' ' -f"$2" "$1" | "$BT" stats) || die "no samples in $1"
	_med=${_med%% *}
	echo "${_med%.*}"
}

# report TOOL: the medians of the samples, as RESULT lines and in $rss,
# $pss.
report() {
	_rss=$(median_col "$WORK/mem.$1" 1) || exit 1
	_pss=$(median_col "$WORK/mem.$1" 2) || exit 1
	result mem.rss "$1" "$_rss" KiB
	result mem.pss "$1" "$_pss" KiB
	say "  $1: RSS $_rss KiB, PSS $_pss KiB"
	rss=$_rss
	pss=$_pss
}

figure mem.rss "2. memory of what holds a sleeping job: RSS"
figure mem.pss "2. memory of what holds a sleeping job: PSS"
figure mem.pss10 "2. PSS, average over 10 jobs sleeping side by side"

root=$(new_root memory)
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	id=$(ae_run "$root" --snapshot-after 0 -- sleep 30) || exit 1
	sup=$(state_num "$root" "$id" supervisor_pid)
	[ -n "$sup" ] || die "no supervisor_pid in $root/$id/state.json"
	sleep "$settle"
	sample agent-exec "$sup"
	"$AE" --root "$root" kill --signal KILL "$id" >/dev/null ||
		die "kill $id failed"
	"$BT" waitgone 5000 "$sup" || die "the supervisor of $id did not end"
done
report agent-exec
rss_ae=$rss
pss_ae=$pss

# ten at once: the average PSS of their supervisors
: >"$WORK/ten.ids"
i=0
while [ "$i" -lt 10 ]; do
	i=$((i + 1))
	ae_run "$root" --snapshot-after 0 -- sleep 30 >>"$WORK/ten.ids" || exit 1
done
sleep "$settle"
while read -r id; do
	sup=$(state_num "$root" "$id" supervisor_pid)
	"$BT" mem "$sup" >>"$WORK/mem.ten" || die "cannot read $sup"
done <"$WORK/ten.ids"
pss10_ae=$(awk '{ s += $2 } END { printf "%d", s / NR }' "$WORK/mem.ten")
result mem.pss10 agent-exec "$pss10_ae" KiB
say "  agent-exec, 10 jobs: average PSS $pss10_ae KiB"
while read -r id; do
	sup=$(state_num "$root" "$id" supervisor_pid)
	"$AE" --root "$root" kill --signal KILL "$id" >/dev/null ||
		die "kill $id failed"
	"$BT" waitgone 5000 "$sup" || die "the supervisor of $id did not end"
done <"$WORK/ten.ids"
result mem.pss10 floor -
result mem.pss10 nohup -
result mem.pss10 nq -
result mem.pss10 tsp -

i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	rm -f "$WORK/child.pid"
	sh -c 'sleep 30 & echo $! >"$1"; wait' sh "$WORK/child.pid" &
	sh_pid=$!
	track "$sh_pid"
	"$BT" waitfiles 5000 "$WORK/child.pid" || exit 1
	child=$(cat "$WORK/child.pid")
	track "$child"
	sleep "$settle"
	sample floor "$sh_pid"
	kill "$child" "$sh_pid" 2>/dev/null
	wait "$sh_pid" 2>/dev/null
	"$BT" waitgone 5000 "$child" || die "sleep $child did not end"
	untrack "$sh_pid"
	untrack "$child"
done
report floor

if have nq; then
	nq_env
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		job=$(nq sleep 30) || die "nq failed"
		job_pid=${job##*.}
		sleep "$settle"
		sample nq "$(ppid_of "$job_pid")"
		kill "$job_pid" || die "kill nq job $job_pid"
		bounded 10 nq -w "$job" >/dev/null 2>&1 || die "nq -w $job"
	done
	report nq
else
	result mem.rss nq n/a
	result mem.pss nq n/a
fi

if have tsp; then
	tsp_env
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		tid=$(tsp sleep 30) || die "tsp failed"
		# shellcheck disable=SC2016 # expanded by that sh
		wait_for 10 "tsp job $tid to start" \
			sh -c 'p=$(tsp -p "$1" 2>/dev/null) && [ -n "$p" ]' sh "$tid"
		job_pid=$(tsp -p "$tid")
		sleep "$settle"
		sample tsp "$(ppid_of "$job_pid")"
		if [ "$i" = 1 ]; then
			server=$(tsp_server_pid) && sample tsp-server "$server"
		fi
		kill "$job_pid" || die "kill tsp job $job_pid"
		bounded 10 tsp -w "$tid" >/dev/null 2>&1
	done
	report tsp
	if [ -s "$WORK/mem.tsp-server" ]; then
		read -r srv_rss srv_pss <"$WORK/mem.tsp-server"
		note "memory: the tsp column is the tsp client that runs the job;" \
			"the tsp server (one for all jobs) has RSS $srv_rss KiB," \
			"PSS $srv_pss KiB more."
	fi
else
	result mem.rss tsp n/a
	result mem.pss tsp n/a
fi

note "memory: floor = a shell (sh) waiting for its child; nohup leaves" \
	"no process besides the job."
target mem.rss "$(met_if le "$rss_ae" 512)" "<= 512 KiB"
target mem.pss "$(met_if le "$pss_ae" 128)" "<= 128 KiB"
target mem.pss10 "$(met_if le "$pss10_ae" 128)" "<= 128 KiB"
