#!/bin/sh
# run.sh: the agent-exec benchmarks, side by side with their baselines on
# this machine (what "make bench" runs).
#
#   sh bench/run.sh                    every figure
#   sh bench/run.sh launch wait        only these (launch memory wait notify
#                                      throughput list burst size mcp queue)
#
# Prints the machine, then one table (Markdown, to paste into
# BENCHMARKS.md): figure | agent-exec | floor | nohup | nq | tsp | target |
# met?. Progress goes to stderr. Exits 1 when a script failed (not when a
# target is missed).
#
# Environment:
#   AE_BIN=PATH       the binary to measure [./agent-exec]; it is copied
#                     once, so rebuilding it during the run is harmless
#   BENCH_RUNS=N      repetitions of every median (a quick run: 3); the
#                     1 GiB log runs then run once (BENCH_LOG_RUNS=N sets
#                     them; BENCH_LOG_BYTES=N another size, to try it out)
#   QUEUE_RUNS=N      repetitions of the queue figure [BENCH_RUNS, else 5];
#   QUEUE_JOBS=N      jobs a repetition [1000]; QUEUE_MEM_JOBS=N queued
#                     jobs whose memory is measured [100]
#   PAUSE_MS=N        the pause between the runs of launch's idle-machine
#                     row [50] (its headline row runs back to back)
#   BENCH_TMP=DIR     the scratch directory [mktemp -d in ${TMPDIR:-/tmp}];
#                     the log figure needs about 4 GiB free there
#   BENCH_INSTALL=1   as root with apt-get: install nq and task-spooler
#   CC=...            the compiler for bench/benchtool.c and
#                     bench/mcpdrive.c [cc]
# nq and tsp are optional: without them their columns say n/a.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

all="launch memory wait notify throughput list burst size mcp queue"
# the long and disk-heavy ones last, so that their writeback does not
# disturb the others
run_order="size launch memory wait notify mcp burst queue list throughput"

# shellcheck disable=SC2086 # a list of names
[ $# -gt 0 ] || set -- $all
selected=" "
for name in "$@"; do
	name=${name%.sh}
	case " $all " in
	*" $name "*) selected="$selected$name " ;;
	*) die "unknown figure '$name' (one of: $all)" ;;
	esac
done

# install_baselines: nq and task-spooler with apt-get, when missing.
install_baselines() {
	missing=
	have nq || missing="$missing nq"
	have tsp || missing="$missing task-spooler"
	[ -n "$missing" ] || return 0
	say "installing$missing"
	# shellcheck disable=SC2086 # a list of packages
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
		{ apt-get update -q >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2; } ||
		say "could not install$missing: going on without"
}

if [ "${BENCH_INSTALL:-}" = 1 ]; then
	if [ "$(id -u)" = 0 ] && have apt-get; then
		install_baselines
	else
		say "BENCH_INSTALL=1 needs root and apt-get: not installing"
	fi
fi

bench_init run
# the scripts share the scratch directory, benchtool and the binary's copy
BENCH_TMP=$BENCH_BASE
BENCH_AE_COPY=$AE
BENCH_DEFER_RM=1	# the scripts leave their scratch to be deleted at the end
export BENCH_TMP BENCH_AE_COPY BENCH_DEFER_RM

# ---- the machine ----------------------------------------------------------

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
case $(ldd --version 2>&1) in
*GLIBC* | *"GNU libc"*)
	libc="glibc $(ldd --version 2>&1 | awk 'NR == 1 { print $NF }')" ;;
*musl*) libc="musl $(ldd --version 2>&1 | awk '/^Version/ { print $2 }')" ;;
*) libc=unknown ;;
esac
fs=$(df -PT "$BENCH_BASE" 2>/dev/null | awk 'NR == 2 { print $2 }')
[ -n "$fs" ] || fs=$(stat -f -c %T "$BENCH_BASE")
version() {
	if ! have "$1"; then
		echo "$1 not installed"
	elif have dpkg-query && v=$(dpkg-query -W -f='${Version}' "$2" 2>/dev/null); then
		echo "$1 $v"
	else
		echo "$1 (version unknown)"
	fi
}
commit=$(git -C "$BENCH_REPO" describe --always --dirty 2>/dev/null || echo "?")

echo "## agent-exec benchmarks"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- agent-exec: $("$AE" --version | awk '{ print $2 }'), $(wc -c <"$AE" |
	tr -d ' ') bytes, $("$BT" linkage "$AE"), source $commit"
echo "- machine: ${cpu:-$(uname -m)}, $cores cores, $mem, $(uname -sr), $libc"
echo "- scratch directory: $fs ($BENCH_BASE)"
echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- baselines: $(version nq nq), $(version tsp task-spooler)," \
	"$(nohup --version 2>/dev/null | head -n 1 || echo nohup)"
echo "- repetitions: ${BENCH_RUNS:-default} (BENCH_RUNS)"
echo

# ---- the figures ----------------------------------------------------------

failed=
for name in $run_order; do
	case $selected in *" $name "*) ;; *) continue ;; esac
	say "== $name"
	start=$(date +%s)
	sh "$BENCH_SRC/$name.sh" >"$WORK/result.$name"
	rc=$?
	if [ "$rc" != 0 ]; then
		failed="$failed $name.sh (exit $rc)"
		say "== $name FAILED (exit $rc)"
	else
		say "== $name done in $(($(date +%s) - start)) s"
	fi
done

# ---- the table ------------------------------------------------------------

for name in $all; do
	[ -f "$WORK/result.$name" ] && cat "$WORK/result.$name"
done | awk '
	function rest(n,    s, i) {	# fields n..NF, joined by blanks
		s = $n
		for (i = n + 1; i <= NF; i++)
			s = s " " $i
		return s
	}
	$1 == "FIGURE" && !($2 in label) { order[++rows] = $2; label[$2] = rest(3) }
	$1 == "RESULT" {
		v = $4
		if (NF >= 5) v = v " " $5
		if (NF >= 6) v = v " (" rest(6) ")"
		cell[$2, $3] = v
	}
	$1 == "TARGET" { met[$2] = $3; target[$2] = rest(4) }
	$1 == "NOTE" { notes[++nnotes] = rest(2) }
	END {
		ncols = split("figure agent-exec floor nohup nq tsp target met?", head, " ")
		for (c = 1; c <= ncols; c++)
			width[c] = length(head[c])
		for (r = 1; r <= rows; r++) {
			k = order[r]
			val[r, 1] = label[k]
			for (c = 2; c <= 6; c++)
				val[r, c] = ((k, head[c]) in cell) ? cell[k, head[c]] : "-"
			val[r, 7] = (k in target) ? target[k] : ""
			val[r, 8] = (k in met) ? met[k] : ""
			for (c = 1; c <= ncols; c++)
				if (length(val[r, c]) > width[c])
					width[c] = length(val[r, c])
		}
		line = "|"
		sep = "|"
		for (c = 1; c <= ncols; c++) {
			line = line sprintf(" %-" width[c] "s |", head[c])
			dashes = sprintf("%" width[c] "s", "")
			gsub(/ /, "-", dashes)
			sep = sep "-" dashes "-|"
		}
		print line
		print sep
		for (r = 1; r <= rows; r++) {
			line = "|"
			for (c = 1; c <= ncols; c++)
				line = line sprintf(" %-" width[c] "s |", val[r, c])
			print line
		}
		print ""
		print "Medians. \"-\": the tool does not do this job; n/a: not installed."
		print "floor: fork+exec of a background job (sh -c '\''true &'\''), or what a note says."
		for (i = 1; i <= nnotes; i++)
			print "- " notes[i]
	}'

if [ -n "$failed" ]; then
	echo
	echo "FAILED:$failed"
	exit 1
fi
