#!/bin/sh
# notify-latency.sh [RUNS]: how long after a job's end its notify command
# starts. The job's last act and the sink's first act each write a
# nanosecond timestamp (date +%s%N, GNU or busybox with FEATURE_DATE_NANO);
# the shell wrapper is plain `sh -c`, so no profile is read. Prints the
# median, min and max in milliseconds over RUNS jobs (default 21).
set -u
cd "$(dirname "$0")/.." || exit 2
bin=${AE_BIN:-$PWD/agent-exec}
runs=${1:-21}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
case $(date +%s%N) in *N) echo "date has no %N: cannot measure" >&2; exit 2 ;; esac

i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	"$bin" --root "$tmp/jobs" run --snapshot-after 0 --shell-wrapper "sh -c" \
		--notify-command "date +%s%N > $tmp/start.$i" \
		-- sh -c "date +%s%N > $tmp/end.$i" >/dev/null
done
# every sink has run once its start file exists
deadline=$(( $(date +%s) + 30 ))
while [ "$(ls "$tmp"/start.* 2>/dev/null | wc -l)" -lt "$runs" ]; do
	[ "$(date +%s)" -gt "$deadline" ] && { echo "sinks did not all run" >&2; exit 1; }
	sleep 0.1
done
sleep 0.2	# the last writes land
i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	echo $(( ($(cat "$tmp/start.$i") - $(cat "$tmp/end.$i")) / 1000 ))
done | sort -n | awk -v runs="$runs" '
	{ v[NR] = $1 }
	END {
		printf "notify command start after job end (%d runs): median %.2f ms, min %.2f ms, max %.2f ms\n",
			runs, v[int((NR + 1) / 2)] / 1000, v[1] / 1000, v[NR] / 1000
	}'
