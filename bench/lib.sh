# bench/lib.sh: sourced by every benchmark script (POSIX sh).
#
# A script does:   . "$(dirname "$0")/lib.sh"; bench_init NAME
# and then has:
#   $AE_SRC      the agent-exec binary under test (absolute path)
#   $AE          the copy of it that is run (see snapshot_ae)
#   $BT          the benchtool helper (built once per scratch directory)
#   $MCPDRIVE    the MCP client of mcp.sh (bench/mcpdrive.c, built alike)
#   $ONFINISH    benchtool under the name onfinish-stamp (for tsp)
#   $WORK        its own scratch directory, removed at exit
# Results go to stdout as lines run.sh reads:
#   FIGURE <key> <label...>                   a row of the table, in order
#   RESULT <key> <tool> <value> [<unit>...]   a cell (tool: agent-exec,
#                                             floor, nohup, nq, tsp)
#   TARGET <key> <met|MISSED> <text...>       the target of a row
#   NOTE <text...>                            a line under the table
# and everything for people goes to stderr.
#
# Environment: AE_BIN (default ./agent-exec), BENCH_RUNS (repetitions of
# every median, to make a quick run), BENCH_TMP (the scratch directory),
# CC (the compiler for benchtool and mcpdrive).

set -u

BENCH_SRC=$(cd "$(dirname "$0")" && pwd) || exit 2
BENCH_REPO=$(dirname "$BENCH_SRC")

say() { printf '%s\n' "$*" >&2; }
die() { say "$(basename "$0"): $*"; exit 1; }

figure() { _k=$1; shift; echo "FIGURE $_k $*"; }
result() { echo "RESULT $*"; }
target() { echo "TARGET $*"; }
note() { echo "NOTE $*"; }

have() { command -v "$1" >/dev/null 2>&1; }

# runs DEFAULT: the repetitions of a median (BENCH_RUNS when set).
runs() {
	case ${BENCH_RUNS:-} in
	'') echo "$1" ;;
	*[!0-9]* | 0*) die "BENCH_RUNS must be a positive integer" ;;
	*) echo "$BENCH_RUNS" ;;
	esac
}

# warmups N: runs thrown away before N measured ones (N/10, 1 to 20).
warmups() {
	_w=$(($1 / 10))
	[ "$_w" -lt 1 ] && _w=1
	[ "$_w" -gt 20 ] && _w=20
	echo "$_w"
}

# calc EXPR: a floating-point expression, printed with 2 decimals.
calc() { awk "BEGIN { printf \"%.2f\\n\", $1 }"; }
# le A B: true when A <= B (floating point).
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
# us_to_ms US: microseconds as milliseconds, 2 decimals.
us_to_ms() { calc "$1 / 1000"; }
# met_if CMD...: "met" when CMD succeeds, else "MISSED".
met_if() { if "$@"; then echo met; else echo MISSED; fi; }

# wait_for SECONDS WHAT CMD...: run CMD every 50 ms until it succeeds; fail
# with a message after SECONDS.
wait_for() { wait_every 50 "$@"; }

# wait_every MS SECONDS WHAT CMD...: the same, CMD every MS milliseconds.
wait_every() {
	_wf_step=$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')
	_wf_max=$(($2 * 1000 / $1))
	_wf_what=$3
	shift 3
	_wf_n=0
	until "$@"; do
		_wf_n=$((_wf_n + 1))
		[ "$_wf_n" -gt "$_wf_max" ] && die "timed out waiting for $_wf_what"
		sleep "$_wf_step"
	done
}

# bounded SECONDS CMD...: run CMD, killed (and failing) after SECONDS.
bounded() {
	_b_s=$1
	shift
	"$BT" bounded "$((_b_s * 1000))" -- "$@"
}

# job_id: the job_id of the agent-exec answer on stdin.
job_id() { sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p'; }

# state_num ROOT ID KEY: an integer of the job's state.json (pretty JSON).
state_num() {
	sed -n "s/.*\"$3\": *\([0-9][0-9]*\).*/\1/p" "$1/$2/state.json"
}

# ae_run ROOT ARGS...: agent-exec run, printing the job id; fails unless
# the answer is ok.
ae_run() {
	_r_root=$1
	shift
	_r_out=$("$AE" --root "$_r_root" run "$@") || die "run failed: $_r_out"
	case $_r_out in
	*'"ok":true'*) ;;
	*) die "run failed: $_r_out" ;;
	esac
	printf '%s\n' "$_r_out" | job_id
}

# new_root NAME: a fresh jobs root under $WORK (its running jobs are killed
# at exit).
new_root() { echo "$WORK/root.$1"; }

# count_jobs ROOT [LIST OPTIONS]: how many jobs "list --all" shows.
count_jobs() {
	_c_root=$1
	shift
	"$AE" --root "$_c_root" list --all "$@" | grep -o '"job_id"' | wc -l |
		tr -d ' '
}

# all_terminal ROOT N: true once ROOT holds N jobs and none is running.
all_terminal() {
	[ "$(count_jobs "$1" --state running)" = 0 ] &&
		[ "$(count_jobs "$1")" = "$2" ]
}

# ---- baselines ------------------------------------------------------------

# tsp_env: a task-spooler queue of this script's own: TS_SOCKET and
# TMPDIR (where tsp puts its output files) exported, under $WORK. Its
# server is killed at exit.
tsp_env() {
	TS_SOCKET=$WORK/tsp.socket
	TMPDIR=$WORK/tsp
	export TS_SOCKET TMPDIR
	mkdir -p "$TMPDIR" || die "mkdir $TMPDIR"
	TSP_USED=1
}

# nq_env: an nq queue of this script's own (NQDIR exported).
nq_env() {
	NQDIR=$WORK/nq
	export NQDIR
	mkdir -p "$NQDIR" || die "mkdir $NQDIR"
}

# tsp_server_pid: the pid of the tsp server listening on $TS_SOCKET (the
# process holding the socket /proc/net/unix lists under that path).
tsp_server_pid() {
	_ino=$(awk -v p="$TS_SOCKET" '$NF == p { print $7; exit }' /proc/net/unix)
	[ -n "$_ino" ] || return 1
	for _fd in /proc/[0-9]*/fd/*; do
		if [ "$(readlink "$_fd" 2>/dev/null)" = "socket:[$_ino]" ]; then
			_p=${_fd#/proc/}
			echo "${_p%%/*}"
			return 0
		fi
	done
	return 1
}

# ppid_of PID
ppid_of() { awk '{ sub(/^.*\) /, ""); print $2 }' "/proc/$1/stat"; }

# ---- setup and cleanup ----------------------------------------------------

bench_cleanup() { :; }	# a script's own cleanup: define it after bench_init

# track PID...: background processes of the script's own, killed at exit
# unless untracked (once waited for: their pids may be reused).
BENCH_BG=
track() { BENCH_BG="$BENCH_BG $*"; }
untrack() { BENCH_BG=$(echo " $BENCH_BG " | sed "s/ $1 / /"); }

_bench_exit() {
	_rc=$?
	trap - EXIT INT TERM HUP
	bench_cleanup
	for _p in $BENCH_BG; do
		kill "$_p" 2>/dev/null
	done
	[ -n "$BENCH_BG" ] && sleep 0.1	# what they were starting lands
	for _root in "$WORK"/root.*; do
		[ -d "$_root" ] || continue
		"$AE" --root "$_root" list --all --state running 2>/dev/null |
			job_id_all | while read -r _id; do
			"$AE" --root "$_root" kill --signal KILL "$_id" >/dev/null 2>&1
		done
	done
	if [ -n "${TSP_USED:-}" ]; then
		tsp -l 2>/dev/null | awk '$2 == "running" { print $1 }' |
			while read -r _id; do
				tsp -k "$_id" >/dev/null 2>&1
			done
		tsp -K >/dev/null 2>&1
	fi
	if [ -n "${NQDIR:-}" ] && [ -d "$NQDIR" ]; then
		for _f in "$NQDIR"/,*; do
			[ -e "$_f" ] || continue
			nq -t "${_f##*/}" >/dev/null 2>&1 || kill "${_f##*.}" 2>/dev/null
		done
	fi
	if [ -n "${BENCH_DEFER_RM:-}" ] && [ "$BENCH_NAME" != run ]; then
		# deleting thousands of job directories now would slow the next
		# figure (ext4 avoids reusing inodes freed in the last minutes):
		# run.sh deletes them all at the end
		mkdir -p "$BENCH_BASE/.trash" && mv "$WORK" "$BENCH_BASE/.trash/" ||
			rm -rf "$WORK"
	else
		rm -rf "$WORK" "$BENCH_BASE/.trash"
	fi
	[ -n "${BENCH_OWN_TMP:-}" ] && rm -rf "$BENCH_BASE"
	exit "$_rc"
}

# job_id_all: every job_id of a list answer on stdin, one a line.
job_id_all() { grep -o '"job_id":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/'; }

# build_tool NAME DIR: compile bench/NAME.c into DIR/NAME (static when the
# toolchain can), unless it is there and newer than its source.
build_tool() {
	_bin=$2/$1
	if [ ! -x "$_bin" ] ||
		[ -n "$(find "$BENCH_SRC/$1.c" -newer "$_bin")" ]; then
		mkdir -p "$2" || die "mkdir $2"
		_cc=${CC:-cc}
		# shellcheck disable=SC2086 # CC may be "ccache gcc"
		$_cc -std=c99 -O2 -static -o "$_bin.tmp.$$" "$BENCH_SRC/$1.c" \
			2>/dev/null ||
			$_cc -std=c99 -O2 -o "$_bin.tmp.$$" "$BENCH_SRC/$1.c" ||
			die "cannot compile bench/$1.c with $_cc"
		mv -f "$_bin.tmp.$$" "$_bin" || die "mv $_bin"
	fi
}

# build_benchtool DIR: benchtool and mcpdrive (the MCP client) in DIR.
build_benchtool() {
	build_tool benchtool "$1"
	build_tool mcpdrive "$1"
	BT=$1/benchtool
	# shellcheck disable=SC2034 # used by mcp.sh
	MCPDRIVE=$1/mcpdrive
	ONFINISH=$1/onfinish-stamp
	[ -L "$ONFINISH" ] || ln -sf benchtool "$ONFINISH" || die "ln $ONFINISH"
}

# bench_init NAME: the binary, the scratch directory, benchtool, traps.
bench_init() {
	AE_SRC=${AE_BIN:-$BENCH_REPO/agent-exec}
	case $AE_SRC in /*) ;; *) AE_SRC=$PWD/$AE_SRC ;; esac
	if [ -n "${BENCH_TMP:-}" ]; then
		mkdir -p "$BENCH_TMP" || die "mkdir $BENCH_TMP"
		BENCH_BASE=$(cd "$BENCH_TMP" && pwd) || exit 2
		BENCH_OWN_TMP=
	else
		BENCH_BASE=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench.XXXXXX") ||
			die "mktemp"
		BENCH_OWN_TMP=1
	fi
	case $BENCH_BASE in
	*[!A-Za-z0-9._/+-]*)
		die "the scratch path may hold only A-Z a-z 0-9 . _ / + -" \
			"(it goes into shell strings): $BENCH_BASE" ;;
	esac
	BENCH_NAME=$1
	WORK=$(mktemp -d "$BENCH_BASE/$1.XXXXXX") || die "mktemp"
	# no config.toml of the user's: "the default wrapper" is agent-exec's
	XDG_CONFIG_HOME=$BENCH_BASE/.config
	export XDG_CONFIG_HOME
	trap _bench_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	build_benchtool "$BENCH_BASE/.tools"
	snapshot_ae
}

# snapshot_ae: the copy of the binary under test ($AE_SRC) that is run
# ($AE): $BENCH_AE_COPY when run.sh made it, else a copy in $WORK. One run
# measures one binary, even if it is rebuilt meanwhile. A binary being
# linked (not yet executable, or not answering --version) is waited for,
# up to 60 s (3 s when there is no file at all).
snapshot_ae() {
	if [ -n "${BENCH_AE_COPY:-}" ] && [ -x "$BENCH_AE_COPY" ]; then
		AE=$BENCH_AE_COPY
		return 0
	fi
	AE=$WORK/agent-exec
	_tries=0
	until [ -x "$AE_SRC" ] && cp "$AE_SRC" "$AE" 2>/dev/null &&
		"$AE" --version >/dev/null 2>&1; do
		_tries=$((_tries + 1))
		if [ "$_tries" -gt 60 ] || { [ "$_tries" -gt 3 ] && [ ! -e "$AE_SRC" ]; }; then
			die "no working agent-exec at $AE_SRC (run make, or set AE_BIN)"
		fi
		[ "$_tries" = 1 ] && say "waiting for $AE_SRC to be usable"
		sleep 1
	done
}

# latency KEY TOOL NAME LATER: the median of LATER - END over the N jobs
# of NAME (the stamps $WORK/NAME.end.I and $WORK/NAME.LATER.I), as a
# RESULT and in $lat (ms).
latency() {
	_i=0
	while [ "$_i" -lt "$n" ]; do
		_i=$((_i + 1))
		"$BT" delta "$WORK/$3.end.$_i" "$WORK/$3.$4.$_i" || exit 1
	done >"$WORK/$3.us"
	_st=$("$BT" stats <"$WORK/$3.us") || exit 1
	# shellcheck disable=SC2086 # "median min max count"
	set -- "$1" "$2" $_st
	lat=$(us_to_ms "$3")
	result "$1" "$2" "$lat" ms
	say "  $1 $2: median $lat ms (min $(us_to_ms "$4")," \
		"max $(us_to_ms "$5"))"
}
