#!/bin/sh
# wait.sh: figure 3, from a job's end to the return of whoever waits for
# it. The job's last act is "exec benchtool stamp END" (CLOCK_REALTIME);
# the waiter runs under "benchtool timed RET", which stamps RET the moment
# the waiter has returned. Latency = RET - END, median over N jobs, one
# job at a time; each job sleeps 0.1 s first so the waiter is blocked
# before it ends.
#   wait      agent-exec wait ID (blocked on a running job)
#             floor: the job's own parent (benchtool timed -- JOB)
#             nq: nq -w ID; tsp: tsp -w ID
#   run-wait  agent-exec run --wait -- JOB
#             floor: as above; tsp: tsp -f JOB (runs it, waits for it)
#   tail-wait agent-exec tail --cursor C --wait-ms 30s ID, blocked on a
#             running job that has printed nothing yet; the job prints
#             the time (date +%s%N) as its next line, and keeps running
#             (the tail wakes on output, not on the end). Latency = the
#             tail's return - the time printed.
#             floor: a reader blocked on the job's pipe (head -n 1)
#             nq, tsp: n/a (they follow output, never answer on new bytes)
# Target: <= 5 ms.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init wait

n=$(runs 21)
nap=0.1
say "wait: $n jobs each"

# job NAME I: the argv of a job that naps, then stamps $WORK/NAME.end.I.
job() { echo "sleep $nap; exec $BT stamp $WORK/$1.end.$2"; }


# waited NAME I CMD...: run the waiter CMD under benchtool timed, bounded.
waited() {
	_name=$1
	_i=$2
	shift 2
	"$BT" timed "$WORK/$_name.ret.$_i" --timeout-ms 30000 -- "$@" \
		>/dev/null || die "$_name: the waiter failed ($*)"
}

figure wait "3. job end -> blocked wait returns"
figure run-wait "3. job end -> run --wait returns"
figure tail-wait "3. new output -> tail --wait-ms returns"

root=$(new_root wait)
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	id=$(ae_run "$root" --snapshot-after 0 -- sh -c "$(job ae "$i")") ||
		exit 1
	waited ae "$i" "$AE" --root "$root" wait "$id"
	waited aerun "$i" "$AE" --root "$root" run --wait -- \
		sh -c "$(job aerun "$i")"
	waited floor "$i" sh -c "$(job floor "$i")"
done
latency wait agent-exec ae ret
ae_wait=$lat
latency run-wait agent-exec aerun ret
ae_run_wait=$lat
latency wait floor floor ret
latency run-wait floor floor ret

# printer: a job that naps, prints the time in ns, and lives on a moment
printer="sleep $nap; date +%s%N; sleep 0.3"
case $(date +%s%N) in
*[!0-9]* | '') die "tail-wait needs date +%N (GNU coreutils or busybox)" ;;
esac
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	id=$(ae_run "$root" --snapshot-after 0 -- sh -c "$printer") || exit 1
	waited aetail "$i" "$AE" --root "$root" tail --cursor 0:0 \
		--wait-ms 30s "$id"
	cp "$root/$id/stdout.log" "$WORK/aetail.end.$i" || exit 1
	sh -c "$printer" | "$BT" timed "$WORK/floortail.ret.$i" \
		--timeout-ms 30000 -- head -n 1 >"$WORK/floortail.end.$i" ||
		die "floortail: the reader failed"
done
latency tail-wait agent-exec aetail ret
ae_tail_wait=$lat
latency tail-wait floor floortail ret
result tail-wait nq n/a
result tail-wait tsp n/a

if have nq; then
	nq_env
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		nqid=$(nq sh -c "$(job nq "$i")") || die "nq failed"
		waited nq "$i" nq -w "$nqid"
	done
	latency wait nq nq ret
else
	result wait nq n/a
fi

if have tsp; then
	tsp_env
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		tid=$(tsp sh -c "$(job tsp "$i")") || die "tsp failed"
		waited tsp "$i" tsp -w "$tid"
		waited tspf "$i" tsp -f sh -c "$(job tspf "$i")"
	done
	latency wait tsp tsp ret
	latency run-wait tsp tspf ret
else
	result wait tsp n/a
	result run-wait tsp n/a
fi

note "wait: floor = the job's own parent returning from waitpid;" \
	"run-wait for tsp = tsp -f (run in the foreground);" \
	"tail-wait: floor = a reader blocked on the job's pipe (head -n 1)."
target wait "$(met_if le "$ae_wait" 5)" "<= 5 ms"
target run-wait "$(met_if le "$ae_run_wait" 5)" "<= 5 ms"
target tail-wait "$(met_if le "$ae_tail_wait" 5)" "<= 5 ms"
