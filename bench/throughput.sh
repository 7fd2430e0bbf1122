#!/bin/sh
# throughput.sh: figure 5, log throughput. A job writes BYTES (1 GiB) to
# its stdout, in two kinds:
#   zero   head -c BYTES /dev/zero                     (no newline at all)
#   lines  yes <79 characters> | head -c BYTES         (80-byte lines)
# timed from before the launch to the return of the waiter:
#   floor       sh -c 'GEN > FILE': the same job writing straight to a file
#   agent-exec  run --snapshot-after 0 -- sh -c GEN, then agent-exec wait
#               (the output goes through the supervisor to stdout.log and
#               full.log); meanwhile benchtool hwm polls the supervisor's
#               VmHWM: its peak memory
#   nq          nq sh -c GEN, then nq -w      (stdout is nq's job file)
#   tsp         tsp sh -c GEN, then tsp -w    (stdout is tsp's output file)
# Rates in MiB/s, medians over BENCH_LOG_RUNS runs (3; 1 when BENCH_RUNS
# is set, for a quick run), the tools taking turns after one uncounted
# direct run. Every output file is deleted after its run, and each run
# starts after a sync.
# BENCH_LOG_BYTES changes BYTES (for trying the script out).
# Targets: agent-exec >= 75% of the direct rate; peak memory <= 1 MiB.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init throughput

bytes=${BENCH_LOG_BYTES:-1073741824}
case $bytes in '' | *[!0-9]*) die "BENCH_LOG_BYTES must be a number" ;; esac
if [ -n "${BENCH_LOG_RUNS:-}" ]; then
	n=$BENCH_LOG_RUNS
elif [ -n "${BENCH_RUNS:-}" ]; then
	n=1
else
	n=3
fi
case $n in '' | *[!0-9]* | 0*) die "BENCH_LOG_RUNS must be a positive integer" ;; esac
line=$(printf '%079d' 0)
limit=600000	# ms: no run may take longer than 10 minutes

# Room for the largest run: stdout.log, and full.log with its timestamps.
need_kib=$((bytes * 4 / 1024))
free_kib=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
[ "${free_kib:-0}" -ge "$need_kib" ] ||
	die "needs $need_kib KiB free in $WORK, has ${free_kib:-?} KiB"
say "throughput: $bytes bytes, $n run(s) of each"

gen() {
	case $1 in
	zero) echo "head -c $bytes /dev/zero" ;;
	lines) echo "yes $line | head -c $bytes" ;;
	esac
}

# rate US: MiB/s for BYTES in US microseconds.
rate() { awk "BEGIN { printf \"%.0f\\n\", $bytes / 1048576 / ($1 / 1000000) }"; }

# add_sample TOOL KIND T0FILE T1FILE: a rate, from two stamps.
add_sample() {
	_us=$("$BT" delta "$3" "$4") || exit 1
	rate "$_us" >>"$WORK/rate.$1.$2"
	rm -f "$3" "$4"
}

check_size() {
	_size=$(wc -c <"$1" | tr -d ' ')
	[ "$_size" -ge "$bytes" ] ||
		die "$1 holds $_size bytes, not $bytes"
}

# run_floor KIND [FILE]: one direct run; its rate appended to FILE
# [$WORK/rate.floor.KIND].
run_floor() {
	_f=$WORK/direct.out
	_us=$("$BT" repeat 1 --timeout-ms "$limit" -- sh -c "$(gen "$1") > $_f") ||
		die "floor: the job failed"
	check_size "$_f"
	rm -f "$_f"
	rate "${_us%% *}" >>"${2:-$WORK/rate.floor.$1}"
}

# run_tee KIND: the reference for keeping the output twice (as stdout.log
# and full.log are): the job piped into tee, which writes two files and
# does nothing else.
run_tee() {
	_a=$WORK/tee.a
	_b=$WORK/tee.b
	_us=$("$BT" repeat 1 --timeout-ms "$limit" -- \
		sh -c "$(gen "$1") | tee $_a > $_b") || die "tee: the job failed"
	check_size "$_a"
	rm -f "$_a" "$_b"
	rate "${_us%% *}" >>"$WORK/rate.tee.$1"
}

run_ae() {
	_root=$(new_root "tp.$1")
	"$BT" stamp "$WORK/t0"
	_id=$(ae_run "$_root" --snapshot-after 0 -- sh -c "$(gen "$1")") ||
		exit 1
	_sup=$(state_num "$_root" "$_id" supervisor_pid)
	[ -n "$_sup" ] || die "no supervisor_pid for $_id"
	"$BT" hwm "$_sup" 5 "$WORK/hwm" --timeout-ms "$limit" &
	_hwm=$!
	track "$_hwm"
	"$BT" timed "$WORK/t1" --timeout-ms "$limit" -- \
		"$AE" --root "$_root" wait "$_id" >/dev/null ||
		die "agent-exec wait $_id failed"
	wait "$_hwm" || die "no peak memory read for the supervisor $_sup"
	untrack "$_hwm"
	check_size "$_root/$_id/stdout.log"
	add_sample agent-exec "$1" "$WORK/t0" "$WORK/t1"
	cat "$WORK/hwm" >>"$WORK/peak.$1"
	rm -rf "$_root" "$WORK/hwm"
}

run_nq() {
	"$BT" stamp "$WORK/t0"
	_job=$(nq sh -c "$(gen "$1")") || die "nq failed"
	"$BT" timed "$WORK/t1" --timeout-ms "$limit" -- nq -w "$_job" ||
		die "nq -w $_job failed"
	check_size "$NQDIR/$_job"
	add_sample nq "$1" "$WORK/t0" "$WORK/t1"
	rm -f "$NQDIR/$_job"
}

run_tsp() {
	"$BT" stamp "$WORK/t0"
	_tid=$(tsp sh -c "$(gen "$1")") || die "tsp failed"
	"$BT" timed "$WORK/t1" --timeout-ms "$limit" -- tsp -w "$_tid" \
		>/dev/null || die "tsp -w $_tid failed"
	_out=$(tsp -o "$_tid")
	check_size "$_out"
	add_sample tsp "$1" "$WORK/t0" "$WORK/t1"
	rm -f "$_out"
}

# median FILE: the median of the numbers in FILE, as an integer.
median() {
	_m=$("$BT" stats <"$1") || die "no samples in $1"
	awk -v m="${_m%% *}" 'BEGIN { printf "%.0f\n", m }'
}

if [ "$bytes" = 1073741824 ]; then
	size="1 GiB"
else
	size="$bytes bytes"
fi
tools="floor agent-exec tee"
have nq && { nq_env; tools="$tools nq"; }
have tsp && { tsp_env; tools="$tools tsp"; }

for kind in zero lines; do
	case $kind in
	zero) what="without newlines" ;;
	lines) what="80-byte lines" ;;
	esac
	figure "log.$kind" "5. log throughput, $size $what"
	figure "log.$kind.ratio" "5. log throughput / direct to file ($kind)"
	figure "log.$kind.peak" "5. supervisor peak memory ($kind)"
	sync
	run_floor "$kind" "$WORK/warm-up"	# not counted: the first big write
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		for tool in $tools; do
			sync	# each run starts with no dirty pages to write back
			case $tool in
			floor) run_floor "$kind" ;;
			agent-exec) run_ae "$kind" ;;
			tee) run_tee "$kind" ;;
			nq) run_nq "$kind" ;;
			tsp) run_tsp "$kind" ;;
			esac
		done
	done
	for tool in $tools; do
		r=$(median "$WORK/rate.$tool.$kind") || exit 1
		if [ "$tool" = tee ]; then
			tee_rate=$r
			continue
		fi
		result "log.$kind" "$tool" "$r" MiB/s
		say "  $kind $tool: $r MiB/s"
		case $tool in
		floor) direct=$r ;;
		agent-exec) ae=$r ;;
		*) result "log.$kind.ratio" "$tool" "$(calc "100 * $r / $direct")" % ;;
		esac
	done
	pct=$(calc "100 * $ae / $direct")
	result "log.$kind.ratio" agent-exec "$pct" %
	result "log.$kind.ratio" floor 100.00 %
	peak=$(median "$WORK/peak.$kind") || exit 1
	result "log.$kind.peak" agent-exec "$peak" KiB
	say "  $kind: agent-exec at $pct% of direct; supervisor peak $peak KiB"
	note "throughput ($kind): tee writing the output to two files, the" \
		"least any tool keeping stdout.log and full.log writes, ran at" \
		"$tee_rate MiB/s, $(calc "100 * $tee_rate / $direct")% of direct."
	target "log.$kind.ratio" "$(met_if le 75 "$pct")" ">= 75%"
	target "log.$kind.peak" "$(met_if le "$peak" 1024)" "<= 1 MiB"
	for tool in nq tsp; do
		have "$tool" && continue
		result "log.$kind" "$tool" n/a
		result "log.$kind.ratio" "$tool" n/a
	done
done
note "throughput: floor = the job writing straight to a file; nq and tsp" \
	"give the job's stdout a file too. Peak memory = VmHWM of the supervisor."
