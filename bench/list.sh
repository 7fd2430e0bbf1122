#!/bin/sh
# list.sh: figure 6, list --all and status with 2,000 and 10,000 finished
# jobs in the store. The store is filled by really launching the jobs
# (run --snapshot-after 0 -- true fill: several words, so no login shell;
# 4 launchers at a time; the tsp queue is filled meanwhile), first 2,000,
# then 8,000 more; once every job is
# terminal, benchtool repeat times
#   agent-exec --root R list --all        (median of 11; a first list
#                                          has written list's index)
#   agent-exec --root R list --all --limit 50   (median of 11)
#   agent-exec --root R status ID         (median of 101)
#   agent-exec --root R summary           (median of 11; its floor: reading
#                                          the state.json of every job)
# and, for tsp, whose server keeps finished jobs (TS_MAXFINISHED raised),
#   tsp -l  and  tsp -s ID
# nq has no list of its jobs (a directory of files): nothing to compare.
# Targets: list --all of 10,000 jobs <= 50 ms; list --limit 50 of 10,000
# jobs <= 5 ms; status <= 1 ms.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init list

n_list=$(runs 11)
n_status=$(runs 101)
sizes="2000 10000"
say "list: stores of $sizes jobs; list x$n_list, status x$n_status"

# median_ms N CMD...: the median time of CMD, in ms.
median_ms() {
	_n=$1
	shift
	_out=$("$BT" repeat "$_n" --warmup "$(warmups "$_n")" \
		--timeout-ms 60000 -- "$@") || die "$1 failed"
	us_to_ms "${_out%% *}"
}

# fill_ae ROOT FROM TO: launch jobs FROM..TO into ROOT, 4 at a time.
# shellcheck disable=SC2016 # the script is expanded by the sh xargs runs
fill_ae() {
	awk -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++) print i }' |
		xargs -n 100 -P 4 sh -c '
			ae=$1 root=$2
			shift 2
			for i; do
				"$ae" --root "$root" run --snapshot-after 0 -- true fill \
					>/dev/null || exit 255
			done' sh "$AE" "$1" ||
		die "filling $1 failed"
}

# fill_tsp FROM TO: enqueue jobs FROM..TO, 500 at a time, each batch run
# to its end (one slot: the last job of a batch ends last); the id of the
# last job goes to $WORK/tsp.last.
fill_tsp() {
	_i=$1
	while [ "$_i" -le "$2" ]; do
		_tid=$(tsp true) || die "tsp failed"
		_i=$((_i + 1))
		if [ $(((_i - $1) % 500)) = 0 ] || [ "$_i" -gt "$2" ]; then
			bounded 120 tsp -w "$_tid" >/dev/null ||
				die "tsp -w $_tid failed"
		fi
	done
	echo "$_tid" >"$WORK/tsp.last"
}

for size in $sizes; do
	figure "list.$size" "6. list --all, $size finished jobs"
	figure "limit.$size" "6. list --all --limit 50, $size finished jobs"
	figure "status.$size" "6. status, $size finished jobs"
	figure "summary.$size" "6. summary, $size finished jobs"
done

root=$(new_root list)
have tsp && tsp_env && TS_MAXFINISHED=20000 tsp -S 1 >/dev/null
from=1
for size in $sizes; do
	say "  filling the stores up to $size jobs"
	tsp_fill=
	if have tsp; then	# at the same time: filling is not measured
		fill_tsp "$from" "$size" &
		tsp_fill=$!
		track "$tsp_fill"
	fi
	fill_ae "$root" "$from" "$size"
	wait_for 300 "$size terminal jobs in $root" all_terminal "$root" "$size"
	if [ -n "$tsp_fill" ]; then
		wait "$tsp_fill" || die "filling the tsp queue failed"
		untrack "$tsp_fill"
	fi

	id=$("$AE" --root "$root" list --all --limit 1 | job_id)
	[ -n "$id" ] || die "no job in $root"
	# the first list writes the index the others read (list.sh times
	# lists once the store is settled, as a user meets it)
	"$AE" --root "$root" list --all >/dev/null || die "list failed"
	ms_list=$(median_ms "$n_list" "$AE" --root "$root" list --all) || exit 1
	result "list.$size" agent-exec "$ms_list" ms
	say "  list --all, $size jobs: $ms_list ms"
	ms=$(median_ms "$n_list" "$AE" --root "$root" list --all --limit 50) ||
		exit 1
	result "limit.$size" agent-exec "$ms" ms
	say "  list --all --limit 50, $size jobs: $ms ms"
	[ "$size" = 10000 ] &&
		target "limit.$size" "$(met_if le "$ms" 5)" "<= 5 ms"
	# the floor: only reading the two records of every job
	ms=$(median_ms "$n_list" "$BT" records "$root" state.json meta.json) ||
		exit 1
	result "list.$size" floor "$ms" ms
	say "  floor (read state.json and meta.json of each), $size jobs: $ms ms"
	[ "$size" = 10000 ] &&
		target "list.$size" "$(met_if le "$ms_list" 50)" "<= 50 ms"
	ms=$(median_ms "$n_list" "$AE" --root "$root" summary) || exit 1
	result "summary.$size" agent-exec "$ms" ms
	say "  summary, $size jobs: $ms ms"
	ms=$(median_ms "$n_list" "$BT" records "$root" state.json) || exit 1
	result "summary.$size" floor "$ms" ms
	ms=$(median_ms "$n_status" "$AE" --root "$root" status "$id") || exit 1
	result "status.$size" agent-exec "$ms" ms
	say "  status, $size jobs: $ms ms"
	target "status.$size" "$(met_if le "$ms" 1)" "<= 1 ms"

	if have tsp; then
		listed=$(tsp -l | awk 'NR > 1 && $2 == "finished"' | wc -l | tr -d ' ')
		[ "$listed" = "$size" ] ||
			die "tsp lists $listed finished jobs, not $size"
		ms=$(median_ms "$n_list" tsp -l) || exit 1
		result "list.$size" tsp "$ms" ms
		say "  tsp -l, $size jobs: $ms ms"
		ms=$(median_ms "$n_status" tsp -s "$(cat "$WORK/tsp.last")") ||
			exit 1
		result "status.$size" tsp "$ms" ms
		say "  tsp -s, $size jobs: $ms ms"
	else
		result "list.$size" tsp n/a
		result "status.$size" tsp n/a
	fi
	from=$((size + 1))
done
note "list: tsp = tsp -l and tsp -s ID on a server keeping every finished" \
	"job (TS_MAXFINISHED, in its memory); nq keeps no list of its jobs;" \
	"floor = reading state.json and meta.json of every job (benchtool" \
	"records: openat, one read, close), the least a list of the store does;" \
	"summary's floor reads state.json alone."
