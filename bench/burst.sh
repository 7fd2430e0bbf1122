#!/bin/sh
# burst.sh: figure 7, 200 launches back to back (a plain shell loop), timed
# from before the first launch until all 200 jobs are terminal, median over
# N bursts, each into a fresh store or queue. Every tool runs the same job,
# the one-word command true (agent-exec runs it through its default
# wrapper, sh -c; nohup, nq and tsp exec /usr/bin/true):
#   agent-exec  run --snapshot-after 0 -- true, x200; then list --all
#               until it shows 200 jobs, none running (polled every 5 ms)
#   floor       sh -c 'true &', x200 (nothing to wait for)
#   nohup       sh -c 'nohup true >/dev/null 2>&1 &', x200
#   nq          nq true, x200; then nq -w (one queue: one by one)
#   tsp         tsp true, x200 on a server with 200 slots (tsp -S 200);
#               then tsp -l until it shows 200 finished jobs
# Target: agent-exec <= 300 ms.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init burst

n=$(runs 5)
count=200
say "burst: $n bursts of $count launches each"

# ae_done ROOT: true once ROOT holds $count jobs and none is running.
ae_done() {
	_l=$("$AE" --root "$1" list --all) || die "list failed"
	case $_l in *'"state":"running"'* | *'"state":"created"'*) return 1 ;; esac
	[ "$(printf '%s' "$_l" | grep -o '"job_id"' | wc -l | tr -d ' ')" = "$count" ]
}

tsp_done() {
	[ "$(tsp -l | awk 'NR > 1 && $2 == "finished"' | wc -l | tr -d ' ')" = "$count" ]
}

# burst TOOL R: one burst; its duration in ms appended to $WORK/TOOL.ms.
burst() {
	case $1 in
	agent-exec) _root=$(new_root "burst.$2") ;;
	nq) NQDIR=$WORK/nq.$2 && export NQDIR && mkdir "$NQDIR" || exit 1 ;;
	tsp) tsp -C >/dev/null || die "tsp -C failed" ;;
	esac
	"$BT" stamp "$WORK/t0"
	_i=0
	while [ "$_i" -lt "$count" ]; do
		_i=$((_i + 1))
		case $1 in
		agent-exec) "$AE" --root "$_root" run --snapshot-after 0 -- true ;;
		floor) sh -c 'true &' ;;
		nohup) sh -c 'nohup true >/dev/null 2>&1 &' ;;
		nq) nq true ;;
		tsp) tsp true ;;
		esac >/dev/null || die "$1: launch $_i failed"
	done
	case $1 in
	agent-exec) wait_every 5 60 "$count terminal jobs" ae_done "$_root" ;;
	nq) bounded 60 nq -w >/dev/null || die "nq -w failed" ;;
	tsp) wait_every 5 60 "$count finished tsp jobs" tsp_done ;;
	esac
	"$BT" stamp "$WORK/t1"
	_us=$("$BT" delta "$WORK/t0" "$WORK/t1") || exit 1
	us_to_ms "$_us" >>"$WORK/$1.ms"
}

figure burst "7. $count launches back to back (true), until all are terminal"
tools="floor nohup agent-exec"
if have nq; then
	nq_env
	tools="$tools nq"
else
	result burst nq n/a
fi
if have tsp; then
	tsp_env
	tsp -S "$count" >/dev/null || die "tsp -S failed"
	tools="$tools tsp"
else
	result burst tsp n/a
fi

r=0
while [ "$r" -lt "$n" ]; do
	r=$((r + 1))
	for tool in $tools; do
		burst "$tool" "$r"
	done
done
for tool in $tools; do
	st=$("$BT" stats <"$WORK/$tool.ms") || exit 1
	# shellcheck disable=SC2086 # "median min max count"
	set -- $st
	ms=$(calc "$1")
	result burst "$tool" "$ms" ms
	say "  $tool: median $ms ms (min $(calc "$2"), max $(calc "$3"))"
	[ "$tool" = agent-exec ] && ae=$ms
done
target burst "$(met_if le "$ae" 300)" "<= 300 ms"
note "burst: nq runs its queue one job at a time; agent-exec and tsp are" \
	"done when their list shows every job terminal (polled every 5 ms)."
