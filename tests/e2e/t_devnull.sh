#!/bin/sh
# A root without /dev/null or devpts (a bare chroot, a minimal container),
# and a caller whose stdio is closed: the supervisor still detaches, its
# stdio is neither the caller's nor a file it opens later, the job's stdin
# reads end of file, a notify command runs, and every failure of this kind
# names the path it could not open (/dev/ptmx). The chroot holds a static
# busybox and the binary; making it needs root, or a user namespace
# (unshare -r); without either, or without a static busybox, or for a
# binary that is not static, that part is skipped with a note.
. "$(dirname "$0")/lib.sh"

# ---- closed stdio (no chroot needed) ----------------------------------------

# stdin and stderr closed: the job directory's descriptors must not land on
# 0-2, where the detached supervisor puts its own stdio
capture ae run --wait -- echo hi <&- 2>&-
check_out "stdin and stderr closed: run --wait answers exited" \
	"$(json_str state "$OUT")" exited
check_eq "... with the job's output" "$(json_str stdout_tail "$OUT")" hi
printf '%s\n' "$OUT" >"$TMP/closed.json"
check_schema "... a valid run answer" run "$TMP/closed.json"
id=$(job_id "$OUT")
# stdout closed: the answer cannot be written (exit 1), and nothing of it
# went into a record opened on descriptor 1
ae status "$id" >&- 2>"$TMP/closed.err"
check_eq "stdout closed: status exits 1 (its answer cannot be written)" "$?" 1
check_contains "... and says so on stderr" "$(cat "$TMP/closed.err")" \
	"cannot write the answer"
check_schema "... the job's state.json is intact" state_record \
	"$ROOT/$id/state.json"
check_schema "... and its meta.json" meta_record "$ROOT/$id/meta.json"

# ---- a root without /dev/null ----------------------------------------------

# is_static FILE: an ELF file without a program interpreter.
is_static() {
	[ "$(head -c 4 "$1" 2>/dev/null | tail -c 3)" = ELF ] &&
		! grep -aqE '/lib(64)?/ld-(linux|musl)' "$1"
}

busybox=""
for candidate in "${BUSYBOX:-}" "$(command -v busybox 2>/dev/null)" /bin/busybox; do
	if [ -n "$candidate" ] && [ -x "$candidate" ] && is_static "$candidate"; then
		busybox=$candidate
		break
	fi
done
# how to enter a chroot: as root, or as the root of a user namespace
enter=""
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null 2>&1; then
	enter="chroot"
elif command -v unshare >/dev/null 2>&1 &&
	unshare -r true >/dev/null 2>&1; then
	enter="unshare -r chroot"
fi
if emulated || ! is_static "$AE_BIN"; then
	echo "# skip: the chroot tests need a static binary ($AE_BIN is not one)"
	exit 0
fi
if [ -z "$busybox" ]; then
	echo "# skip: the chroot tests need a static busybox (sh tests/deps.sh busybox)"
	exit 0
fi
if [ -z "$enter" ]; then
	echo "# skip: the chroot tests need root or a user namespace (unshare -r)"
	exit 0
fi

JAIL=$TMP/jail
mkdir -p "$JAIL/bin" "$JAIL/tmp" "$JAIL/dev"
cp "$busybox" "$JAIL/bin/busybox"
for applet in sh echo cat true sleep; do ln -s busybox "$JAIL/bin/$applet"; done
cp "$AE_BIN" "$JAIL/bin/agent-exec"
chmod 1777 "$JAIL/tmp"
# jail ARGS...: the binary in the chroot, on its root /tmp/root
jail() {
	# shellcheck disable=SC2086 # the command and its options
	$enter "$JAIL" /bin/agent-exec --root /tmp/root "$@"
}
check "the chroot has no /dev/null" test ! -e "$JAIL/dev/null"

capture jail run --wait -- echo hi
check_out "no /dev/null: run --wait answers exited (the supervisor detached)" \
	"$(json_str state "$OUT")" exited
check_eq "... the job's output" "$(json_str stdout_tail "$OUT")" hi
printf '%s\n' "$OUT" >"$TMP/jail-run.json"
check_schema "... a valid run answer" run "$TMP/jail-run.json"

capture jail run --wait 'echo one word'
check_out "no /dev/null: a one-word command through sh -c runs" \
	"$(json_str state "$OUT") $(json_str stdout_tail "$OUT")" "exited one word"

capture jail run --wait -- sh -c 'cat; echo "read $?"'
check_out "no /dev/null: the job's stdin reads end of file at once" \
	"$(json_str stdout_tail "$OUT")" "read 0"

# the supervisor's stdio: one empty pipe on 0, 1 and 2, not the caller's
capture jail run --snapshot-after 0 -- sleep 30
id=$(job_id "$OUT")
sup=$(json_num supervisor_pid "$(cat "$JAIL/tmp/root/$id/state.json" 2>/dev/null)")
fd0=$(readlink "/proc/$sup/fd/0" 2>/dev/null)
fd1=$(readlink "/proc/$sup/fd/1" 2>/dev/null)
fd2=$(readlink "/proc/$sup/fd/2" 2>/dev/null)
check_match "no /dev/null: the supervisor's stdin is a pipe" "$fd0" '^pipe:'
check_eq "... and its stdout and stderr the same one" "$fd1 $fd2" "$fd0 $fd0"
check_lacks "... never the caller's capture files" "$fd0 $fd1 $fd2" "$TMP/.capture"
[ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null
until_true 10 test -n "$(grep -l '"status": *"killed"' "$JAIL/tmp/root/$id/state.json" 2>/dev/null)"

# a notify command still runs (its stdout refuses writes instead of
# discarding them)
capture jail run --wait --notify-command 'cat >/tmp/event.json' -- true
wait_for "no /dev/null: the notify command ran and got the event" 10 \
	test -s "$JAIL/tmp/event.json"
check_contains "... job.finished" "$(cat "$JAIL/tmp/event.json" 2>/dev/null)" \
	'"event_type":"job.finished"'

# ---- no devpts ---------------------------------------------------------------

capture jail run --wait --pty -- echo hi
check_out "no /dev/ptmx: --pty is failed" "$(json_str state "$OUT")" failed
check_contains "... the error names /dev/ptmx" "$(json_text error "$OUT")" \
	"cannot open /dev/ptmx for the job's terminal: No such file or directory"
printf '%s\n' "$OUT" >"$TMP/jail-pty.json"
check_schema "... a valid run answer" run "$TMP/jail-pty.json"

if [ "$enter" = chroot ] && mknod "$JAIL/dev/ptmx" c 5 2 2>/dev/null; then
	capture jail run --wait --pty -- echo hi
	check_out "/dev/ptmx without devpts: --pty is failed" \
		"$(json_str state "$OUT")" failed
	check_contains "... the error names /dev/ptmx and devpts" \
		"$(json_text error "$OUT")" "/dev/ptmx for the job's terminal"
	check_contains "... and says what is missing" "$(json_text error "$OUT")" \
		"(no devpts mounted on /dev/pts)"
else
	echo "# skip: /dev/ptmx without devpts (mknod needs root outside a user namespace)"
fi
