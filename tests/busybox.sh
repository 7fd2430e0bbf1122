#!/bin/sh
# The end-to-end suite in a chroot that holds nothing but a static busybox:
# no bash, no jq, no GNU tools, no C library files. It shows that the
# static binary needs nothing from the system, that the jobs' shell
# wrapper (sh -c) works with busybox sh, and that the tests are POSIX sh
# that runs under busybox ash with busybox's applets.
#   sh tests/busybox.sh BIN [TEST...]    (make busybox-check [TESTS=...])
#   BIN      the static agent-exec to test (e.g. agent-exec)
#   TEST...  only these scripts, as tests/run.sh takes them (t_run t_kill)
#   BUSYBOX  the static busybox to use [/bin/busybox; sh tests/deps.sh
#            busybox installs Debian's busybox-static there]
#
# What it builds, in a directory made by mktemp in ${TMPDIR:-/tmp}:
#   /bin/busybox and a symbolic link to it for each applet (busybox --list),
#   /bin/agent-exec (BIN), /etc/passwd and /etc/group (root only), an
#   empty /root (HOME) and /tmp (mode 1777), and /repo: the repository's
#   tests/ and schema/, the files the e2e scripts read from the repository
#   root (README.md, agent-exec.1, completion/ and the *.c sources, which
#   t_docs.sh checks the manual against), and build/schema_check and
#   build/mcp_client, static builds of tests/tools/schema_check.c and of
#   the MCP test client (musl-gcc, else cc -static).
# What it runs: in a private mount namespace (unshare --mount --fork) it
# mounts /proc (proc; a bind of the host's where a new one is refused) and
# binds the host's /dev (the PTY tests need /dev/ptmx and /dev/pts) into
# that directory, then runs, in a clean environment,
#   chroot DIR /bin/sh -c 'cd /repo && sh tests/run.sh [TEST...]'
# with E2E_ONLY=1 (no unit tests: they need libcheck). Its output ends with
# tests/run.sh's "N passed, N failed" line, and this script's exit status is
# the suite's. Scripts that need a tool the chroot lacks skip that part with
# a "# skip:" note: t_docs.sh (no mandoc lint, no bash completion test).
# Whatever happens, the mounts go with the namespace (and are unmounted
# first), any process still running in the chroot is killed, and the
# directory is removed.
#
# Requirements: root (CAP_SYS_ADMIN, CAP_SYS_CHROOT), or unprivileged user
# namespaces (unshare --mount --map-root-user --fork); util-linux unshare;
# a static busybox; musl-gcc or a C compiler with a static C library.
# shellcheck disable=SC2317 # the cleanup functions run from traps
set -eu

me=busybox.sh
die() {
	echo "$me: $*" >&2
	exit 1
}
note() { echo "# $*"; }
# is_static FILE: FILE has no program interpreter (no dynamic loader's path
# in it), as tests/deps.sh tells a static busybox.
is_static() { ! grep -aqE '/lib(64)?/ld-(linux|musl)' "$1"; }

# ---- inside the new mount namespace ------------------------------------------
# sh tests/busybox.sh --inner DIR [TEST...]: mount, run the suite in the
# chroot DIR, clean up; exits with the suite's status.
if [ "${1:-}" = --inner ]; then
	dir=$2
	shift 2
	# Never mount on the host's namespace: the outer part removes DIR with
	# rm -rf, which must not meet a bound /dev.
	if [ -z "${AE_OUTER_MNT_NS:-}" ] ||
		[ "$(readlink /proc/self/ns/mnt)" = "$AE_OUTER_MNT_NS" ]; then
		die "not in a mount namespace of its own; mounting nothing"
	fi
	# unshare makes the new namespace's mounts private already; be sure
	mount --make-rprivate / 2>/dev/null || true

	# in_chroot: the pids of the processes whose root is DIR (a job or a
	# supervisor the suite left running)
	in_chroot() {
		for _p in /proc/[0-9]*; do
			[ "$(readlink "$_p/root" 2>/dev/null)" = "$dir" ] && echo "${_p#/proc/}"
		done
		return 0
	}
	inner_cleanup() {
		# a few rounds: one may have forked while the last was killed
		for _round in 1 2 3; do
			_left=$(in_chroot)
			[ -n "$_left" ] || break
			# shellcheck disable=SC2086 # a list of pids
			note "killing processes left in the chroot:" $_left
			# shellcheck disable=SC2086 # a list of pids
			kill -KILL $_left 2>/dev/null || true
			sleep 0.2
		done
		for _m in dev proc; do
			if grep -q " $dir/$_m " /proc/self/mounts; then
				umount -R "$dir/$_m" 2>/dev/null || umount -l "$dir/$_m" ||
					echo "$me: could not unmount $dir/$_m" >&2
			fi
		done
	}
	trap inner_cleanup EXIT
	trap 'exit 1' INT TERM HUP

	# A proc of our own; where a new one is refused (a user namespace
	# without its own pid namespace), a bind of the host's.
	mount -t proc proc "$dir/proc" 2>/dev/null ||
		mount --rbind /proc "$dir/proc" ||
		die "cannot mount /proc in the chroot"
	mount --rbind /dev "$dir/dev" || die "cannot bind /dev into the chroot"
	if [ ! -c "$dir/dev/ptmx" ] || [ ! -d "$dir/dev/pts" ]; then
		note "no /dev/ptmx or /dev/pts in the chroot: the PTY tests will fail"
	fi

	set +e
	# (every applet is in /bin: there is no /sbin or /usr)
	chroot "$dir" /bin/env -i PATH=/bin HOME=/root TMPDIR=/tmp \
		AE_BIN=/bin/agent-exec E2E_ONLY=1 \
		AE_SCHEMA=/repo/schema/agent-exec.schema.json \
		SCHEMA_CHECK=/repo/build/schema_check \
		MCP_CLIENT=/repo/build/mcp_client \
		JOBS="${JOBS:-4}" \
		/bin/sh -c 'cd /repo && exec sh tests/run.sh "$@"' sh "$@"
	status=$?
	set -e
	exit "$status"
fi

# ---- outside: check, build the chroot, enter a namespace ---------------------

[ $# -ge 1 ] || {
	echo "usage: sh tests/busybox.sh BIN [TEST...]" >&2
	exit 2
}
bin=$1
shift
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}

if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then die "no binary to test at $bin"; fi
is_static "$bin" || die "$bin is linked dynamically: a static build is needed"
[ -x "$busybox" ] || die "no busybox at $busybox (sh tests/deps.sh busybox)"
is_static "$busybox" ||
	die "$busybox is linked dynamically: install busybox-static (sh tests/deps.sh busybox)"
command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is needed"
command -v chroot >/dev/null 2>&1 || die "chroot is needed"

# The namespace: as root a mount namespace; otherwise (or where root may
# not make one, e.g. in a container) one inside a user namespace.
ns=""
for try in "unshare --mount --fork" "unshare --mount --map-root-user --fork"; do
	# shellcheck disable=SC2086 # the command and its options
	if $try sh -c 'mount -t tmpfs ae-probe /mnt 2>/dev/null || mount --bind / /mnt' \
		>/dev/null 2>&1; then
		ns=$try
		break
	fi
done
[ -n "$ns" ] || die "cannot make a mount namespace: run as root," \
	"or enable unprivileged user namespaces (unshare --mount --map-root-user)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ae-busybox.XXXXXX") || die "mktemp failed"
# its physical path: what /proc/PID/root and /proc/self/mounts show
work=$(cd "$work" && pwd -P)
dir=$work/root
cleanup() {
	_status=$?
	# the mounts were made in the namespace only; refuse to remove a tree
	# that still has one here
	if grep -qF " $work/" /proc/self/mounts; then
		echo "$me: $work still has mounts here; not removing it" >&2
		_status=1
	else
		rm -rf "$work"
	fi
	exit "$_status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# -- the tree
mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/dev" "$dir/tmp" "$dir/root" \
	"$dir/repo/build"
chmod 755 "$work" "$dir"
chmod 1777 "$dir/tmp"
chmod 700 "$dir/root"
echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
echo 'root:x:0:' >"$dir/etc/group"

cp "$busybox" "$dir/bin/busybox"
applets=0
for applet in $("$busybox" --list); do
	if [ "$applet" != busybox ]; then
		ln -s busybox "$dir/bin/$applet"
		applets=$((applets + 1))
	fi
done
cp "$bin" "$dir/bin/agent-exec"

# the repository: the tests, the schema, and what the scripts read at its root
mkdir -p "$dir/repo/tests"
cp -R "$repo/tests/run.sh" "$repo/tests/e2e" "$repo/tests/tools" "$dir/repo/tests/"
cp -R "$repo/schema" "$dir/repo/"
for f in README.md agent-exec.1 completion "$repo"/*.c; do
	f=${f#"$repo"/}
	if [ -e "$repo/$f" ]; then cp -R "$repo/$f" "$dir/repo/"; fi
done

# the schema checker, static
(
	cd "$repo"
	# the Makefile says which sources it links (CHECKER_SRCS)
	src=${CHECKER_SRCS:?run through make busybox-check}
	# shellcheck disable=SC2086 # the sources
	{ command -v musl-gcc >/dev/null 2>&1 &&
		musl-gcc -static -std=c11 -D_GNU_SOURCE -O1 -I. \
			-o "$dir/repo/build/schema_check" $src; } ||
		cc -static -std=c11 -D_GNU_SOURCE -O1 -I. \
			-o "$dir/repo/build/schema_check" $src
) || die "cannot build a static schema checker (musl-gcc or cc -static)"
is_static "$dir/repo/build/schema_check" || die "the schema checker is not static"

# the MCP test client (t_mcp*.sh), static the same way
(
	cd "$repo"
	src=${MCP_CLIENT_SRCS:?run through make busybox-check}
	# shellcheck disable=SC2086 # the sources
	{ command -v musl-gcc >/dev/null 2>&1 &&
		musl-gcc -static -std=c11 -D_GNU_SOURCE -O1 \
			-o "$dir/repo/build/mcp_client" $src; } ||
		cc -static -std=c11 -D_GNU_SOURCE -O1 \
			-o "$dir/repo/build/mcp_client" $src
) || die "cannot build a static MCP test client (musl-gcc or cc -static)"
is_static "$dir/repo/build/mcp_client" || die "the MCP test client is not static"

# -- what it holds
files=$(find "$dir" -type f | wc -l | tr -d ' ')
links=$(find "$dir" -type l | wc -l | tr -d ' ')
repo_files=$(find "$dir/repo" -type f | wc -l | tr -d ' ')
note "chroot $dir: $files files ($repo_files under /repo), $links links" \
	"($applets busybox applets in /bin)"
# shellcheck disable=SC2012,SC2010 # names we made
note "top level: $(ls "$dir" | tr '\n' ' ')"
# shellcheck disable=SC2012,SC2010 # names we made
note "/repo: $(ls "$dir/repo" | grep -v '\.c$' | tr '\n' ' ')and" \
	"$(ls "$dir/repo" | grep -c '\.c$') *.c sources (t_docs.sh reads them)"
shells=$(find "$dir" \( -name bash -o -name jq \) -print | head -n 5)
[ -z "$shells" ] || die "the chroot has bash or jq: $shells"
libs=$(find "$dir" \( -name 'lib' -o -name 'lib64' -o -name '*.so' -o -name '*.so.*' \
	-o -name 'ld-*' \) -print | head -n 5)
[ -z "$libs" ] || die "the chroot has library files: $libs"
for prog in "$dir/bin/busybox" "$dir/bin/agent-exec" "$dir/repo/build/schema_check" \
	"$dir/repo/build/mcp_client"; do
	is_static "$prog" || die "$prog is not static"
done
note "no bash, no jq, no lib directories or shared objects; busybox," \
	"agent-exec, schema_check and mcp_client are static"
note "namespace: $ns"

# -- run (the script again, as its inner part, in the namespace)
AE_OUTER_MNT_NS=$(readlink /proc/self/ns/mnt)
export AE_OUTER_MNT_NS
set +e
# shellcheck disable=SC2086 # the command and its options
$ns sh "$repo/tests/busybox.sh" --inner "$dir" "$@"
status=$?
set -e
exit "$status"
