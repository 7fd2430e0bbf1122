#!/bin/sh
# What a test target needs beyond a C compiler, installed with apt-get when
# we run as root, otherwise named so the user can install it.
#   sh tests/deps.sh              make check: libcheck and musl-gcc; and,
#                                 wanted, not needed: zsh and fish (the
#                                 completion test skips a shell without
#                                 them), OpenSSH's server and client
#                                 (t_ssh skips without them)
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
# skips that part): installed as root when it can be, only named
# otherwise, never a failure
want() {
	_package=$1
	shift
	"$@" >/dev/null 2>&1 || wanted="$wanted $_package"
}
has() { command -v "$1"; }
has_check() { pkg-config --exists check || [ -f /usr/include/check.h ]; }
# t_ssh starts sshd by its absolute path (it is not on a user's PATH)
has_sshd() { has sshd || [ -x /usr/sbin/sshd ]; }
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
	want openssh-server has_sshd
	want openssh-client has ssh-keygen
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
root_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
# apt_install PACKAGE...: quietly, updating the lists once if that fails;
# no service is started by an install (policy-rc.d says no while it
# runs): a test's sshd is its own, never the system's on port 22
apt_install() {
	_policy=/usr/sbin/policy-rc.d
	_made=""
	if [ ! -e "$_policy" ] && printf '#!/bin/sh\nexit 101\n' >"$_policy" &&
		chmod 755 "$_policy"; then
		_made=1
	fi
	apt-get install -y -qq "$@" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  apt-get install -y -qq "$@" >/dev/null 2>&1; }
	_rc=$?
	[ -n "$_made" ] && rm -f "$_policy"
	return "$_rc"
}
if [ -n "$wanted" ]; then
	if root_apt; then
		echo "installing:$wanted (for tests that skip without them)" >&2
		# shellcheck disable=SC2086 # a list of packages
		apt_install $wanted ||
			echo "note: apt-get could not install:$wanted; their tests skip" >&2
	else
		echo "note: some tests skip without:$wanted" \
			"(e.g. sudo apt-get install$wanted)" >&2
	fi
fi
[ -z "$missing" ] && exit 0
if root_apt; then
	echo "installing:$missing" >&2
	# shellcheck disable=SC2086 # a list of packages
	apt_install $missing ||
		{ echo "apt-get could not install:$missing" >&2; exit 1; }
	exit 0
fi
echo "this target needs:$missing" >&2
echo "install them, e.g.: sudo apt-get install$missing" >&2
exit 1
