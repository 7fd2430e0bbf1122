#!/bin/sh
# tests/release.sh - what make install, make uninstall and make dist deliver
# (CI runs it after the suites; it builds the aarch64 binary, so it needs
# what "sh tests/deps.sh cross aarch64" installs).
#   1. install with PREFIX and DESTDIR puts the binary, the man page and the
#      bash, zsh and fish completions where they belong (where each shell
#      looks), with their modes; uninstall removes exactly those;
#   2. dist makes the source tarball and one binary tarball per architecture,
#      each with a SHA-256 file that sha256sum -c accepts; the source tarball
#      builds; each binary is static, of its architecture, and runs a job
#      (aarch64 under qemu-aarch64-static);
#      the x86-64 binary, built with musl, is within the size budget;
#   3. the version comes from one place: the Makefile's VERSION is what
#      --version prints and what the tarballs are named after.
# Prints "ok"/"not ok" lines and ends with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ae-release.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}
# mode_of FILE: its permission bits in octal
mode_of() { stat -c %a "$1" 2>/dev/null; }
# elf_machine FILE: e_machine of an ELF file (62 x86-64, 183 aarch64)
elf_machine() { od -An -tu2 -j18 -N2 "$1" | tr -d ' '; }
# is_static FILE: no program interpreter (no dynamic loader named inside)
is_static() { ! grep -aqE '/lib(64)?/ld-(linux|musl)' "$1"; }
# runs_a_job RUNNER...: the binary (with its runner) runs a job and reports
# its output
runs_a_job() {
	_root=$(mktemp -d "$TMP/root.XXXXXX")
	_out=$("$@" --root "$_root" run --wait -- echo hello 2>&1)
	printf '%s\n' "$_out" | grep -q '"state":"exited"' &&
		printf '%s\n' "$_out" | grep -q '"exit_code":0' &&
		grep -qx hello "$_root"/*/stdout.log
}

version=$(sed -n 's/^VERSION := //p' Makefile)
check "the Makefile names the version" [ -n "$version" ]

# ---- 1. install and uninstall ------------------------------------------------
dest="$TMP/dest"
make --no-print-directory -s install DESTDIR="$dest" PREFIX=/opt/ae >"$TMP/install.out" 2>&1
check "make install succeeds" [ $? = 0 ]
check_eq "binary installed, mode 755" "$(mode_of "$dest/opt/ae/bin/agent-exec")" 755
check_eq "man page installed, mode 644" \
	"$(mode_of "$dest/opt/ae/share/man/man1/agent-exec.1")" 644
check_eq "bash completion installed, mode 644" \
	"$(mode_of "$dest/opt/ae/share/bash-completion/completions/agent-exec")" 644
check_eq "zsh completion installed as site-functions/_agent-exec, mode 644" \
	"$(mode_of "$dest/opt/ae/share/zsh/site-functions/_agent-exec")" 644
check_eq "fish completion installed in vendor_completions.d, mode 644" \
	"$(mode_of "$dest/opt/ae/share/fish/vendor_completions.d/agent-exec.fish")" 644
check "the installed completions are the repository's" sh -c \
	'cmp -s completion/agent-exec.bash "$1/bash-completion/completions/agent-exec" &&
	 cmp -s completion/agent-exec.zsh "$1/zsh/site-functions/_agent-exec" &&
	 cmp -s completion/agent-exec.fish "$1/fish/vendor_completions.d/agent-exec.fish"' \
	sh "$dest/opt/ae/share"
check_eq "the installed binary prints the Makefile's version" \
	"$("$dest/opt/ae/bin/agent-exec" --version)" "agent-exec $version"
check "the installed binary runs a job" runs_a_job "$dest/opt/ae/bin/agent-exec"
if command -v man >/dev/null 2>&1; then
	check "the installed man page renders" sh -c \
		'MANWIDTH=80 man -l "$1" 2>&1 | grep -q "agent-exec"' sh \
		"$dest/opt/ae/share/man/man1/agent-exec.1"
fi
make --no-print-directory -s uninstall DESTDIR="$dest" PREFIX=/opt/ae >/dev/null 2>&1
check "make uninstall succeeds" [ $? = 0 ]
check_eq "uninstall leaves no installed file" "$(find "$dest" -type f | wc -l | tr -d ' ')" 0

# ---- 2. dist -----------------------------------------------------------------
if make --no-print-directory -s dist >"$TMP/dist.out" 2>&1; then
	ok "make dist succeeds"
else
	not_ok "make dist succeeds"
	sed 's/^/#   /' "$TMP/dist.out"
fi
src="dist/agent-exec-$version.tar.gz"
for tarball in "$src" "dist/agent-exec-$version-x86_64-linux.tar.gz" \
	"dist/agent-exec-$version-aarch64-linux.tar.gz"; do
	check "$tarball exists" [ -s "$tarball" ]
	check "$tarball.sha256 verifies" sh -c 'cd dist && sha256sum -c "$1" >/dev/null' \
		sh "$(basename "$tarball").sha256"
done
check "the source tarball holds the sources under agent-exec-$version/" sh -c \
	'tar -tzf "$1" | grep -qx "agent-exec-$2/Makefile" &&
	 tar -tzf "$1" | grep -qx "agent-exec-$2/exec.c" &&
	 tar -tzf "$1" | grep -qx "agent-exec-$2/agent-exec.1"' sh "$src" "$version"
mkdir "$TMP/src"
tar -C "$TMP/src" -xzf "$src"
make --no-print-directory -s -C "$TMP/src/agent-exec-$version" >"$TMP/build.out" 2>&1
check "the source tarball builds" [ $? = 0 ]
check_eq "the binary built from it prints the version" \
	"$("$TMP/src/agent-exec-$version/agent-exec" --version 2>&1)" "agent-exec $version"

for arch in x86_64 aarch64; do
	name="agent-exec-$version-$arch-linux"
	mkdir -p "$TMP/bin"
	tar -C "$TMP/bin" -xzf "dist/$name.tar.gz"
	dir="$TMP/bin/$name"
	for file in agent-exec agent-exec.1 agent-exec.bash agent-exec.zsh \
		agent-exec.fish README.md LICENSE; do
		check "$name holds $file" [ -f "$dir/$file" ]
	done
	check "$name: the binary is static" is_static "$dir/agent-exec"
	case $arch in
	x86_64)
		check_eq "$name: an x86-64 ELF binary" "$(elf_machine "$dir/agent-exec")" 62
		runner=""
		# the size budget (README, "Size"): 256 KiB built with musl
		if command -v musl-gcc >/dev/null 2>&1; then
			size=$(stat -c %s "$dir/agent-exec")
			check "$name: within the size budget ($size bytes, at most 262144)" \
				[ "$size" -le 262144 ]
		fi
		;;
	aarch64)
		check_eq "$name: an aarch64 ELF binary" "$(elf_machine "$dir/agent-exec")" 183
		runner=qemu-aarch64-static
		;;
	esac
	check_eq "$name: --version" "$($runner "$dir/agent-exec" --version)" \
		"agent-exec $version"
	check "$name: runs a job" runs_a_job $runner "$dir/agent-exec"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
