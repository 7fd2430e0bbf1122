#!/bin/sh
# What a test target needs beyond a C compiler, installed with apt-get when
# we run as root, otherwise named so the user can install it.
#   sh tests/deps.sh              make check: libcheck and musl-gcc; and,
#                                 for the completion test only, zsh and
#                                 fish (wanted, not needed: without them
#                                 that test skips those shells)
#   sh tests/deps.sh cross ARCH   make ARCH=ARCH check: the cross compiler,
#                                 musl for ARCH (Debian's musl-dev of that
#                                 architecture, multiarch) and the
#                                 user-mode emulator
#   sh tests/deps.sh busybox      make busybox-check: a static busybox
#   sh tests/deps.sh strace       make faultsweep: strace (with -e inject)
missing=""
wanted=""
# need PACKAGE TEST...: PACKAGE is missing unless TEST succeeds
need() {
	_package=$1
	shift
	"$@" >/dev/null 2>&1 || missing="$missing $_package"
}
# want PACKAGE TEST...: the same for a package a test can do without (it
# skips that part): installed when we can, never a failure
want() {
	_package=$1
	shift
	"$@" >/dev/null 2>&1 || wanted="$wanted $_package"
}
has() { command -v "$1"; }
has_check() { pkg-config --exists check || [ -f /usr/include/check.h ]; }
# Debian's busybox package is linked dynamically; busybox-static is not
# (no program interpreter: the path of a dynamic loader is not in it)
static_busybox() {
	[ -x /bin/busybox ] &&
		! grep -aqE '/lib(64)?/ld-(linux|musl)' /bin/busybox
}

case "${1:-check}" in
check)
	need "check pkg-config" has_check
	need musl-tools has musl-gcc
	want zsh has zsh
	want fish has fish
	;;
cross)
	arch=${2:?usage: deps.sh cross ARCH}
	need "gcc-$arch-linux-gnu" has "$arch-linux-gnu-gcc"
	need qemu-user-static has "qemu-$arch-static"
	if ! has "$arch-linux-musl-gcc" >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
		command -v dpkg >/dev/null 2>&1; then
		# musl for ARCH is a package of that Debian architecture
		case $arch in
		aarch64) debian_arch=arm64 ;;
		*) debian_arch=$arch ;;
		esac
		dpkg --print-foreign-architectures | grep -qx "$debian_arch" || {
			dpkg --add-architecture "$debian_arch" && apt-get update -qq >/dev/null 2>&1
		}
		apt-get install -y -qq "musl-dev:$debian_arch" >/dev/null 2>&1 ||
			echo "note: no musl for $arch; building with $arch-linux-gnu-gcc (glibc)" >&2
	fi
	;;
busybox)
	need busybox-static static_busybox
	;;
strace)
	need strace has strace
	;;
*)
	echo "deps.sh: unknown target '$1'" >&2
	exit 2
	;;
esac
# apt_install PACKAGE...: quietly, updating the lists once if that fails
apt_install() {
	apt-get install -y -qq "$@" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  apt-get install -y -qq "$@" >/dev/null 2>&1; }
}
if [ -n "$wanted" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing:$wanted (test only)" >&2
		# shellcheck disable=SC2086 # a list of packages
		apt_install $wanted ||
			echo "note: apt-get could not install:$wanted; the tests that use them skip" >&2
	else
		echo "note: the tests skip what needs:$wanted (sudo apt-get install$wanted)" >&2
	fi
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing:$missing" >&2
	# shellcheck disable=SC2086 # a list of packages
	apt_install $missing ||
		{ echo "apt-get could not install:$missing" >&2; exit 1; }
	exit 0
fi
echo "this target needs:$missing" >&2
echo "install them, e.g.: sudo apt-get install$missing" >&2
exit 1
