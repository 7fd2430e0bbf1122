#!/bin/sh
# A host over ssh (README, "A host over ssh"), through a real OpenSSH
# server that this script starts as the current user on 127.0.0.1 (a free
# high port, its own host key, config and authorized key, all in $TMP):
# the binary copied with cat over ssh runs there; run over ssh answers at
# once while the job runs on (ssh does not wait for it); status and wait
# --exit-status over ssh give the exit code; the recipe's quoting carries
# spaces and quotes (and the unquoted form splits, as the README warns);
# events --follow --since end --type job.finished over ssh delivers the
# job's line; killing that ssh client ends the remote follower and leaves
# no sshd child, while the job runs on; --since the last cursor gives the
# events written in the meantime, then goes on live. The remote root is
# $ROOT, so lib.sh's cleanup ends what is left of the jobs; the trap stops
# sshd and the ssh clients first.
# Skipped with a note without ssh, ssh-keygen or sshd (sh tests/deps.sh
# installs openssh-client and openssh-server as root), when sshd does not
# start or does not let us in, under qemu (the copied binary would run
# without the emulator), valgrind and the sanitizers (a wrapper or a
# dynamic build), and in the busybox chroot (no ssh there).
. "$(dirname "$0")/lib.sh"

if emulated; then
	echo "# skip: t_ssh under qemu (the binary copied over ssh would run without the emulator)"
	exit 0
fi
if [ -n "${AE_UNDER_TOOL:-}" ]; then
	echo "# skip: t_ssh under $AE_UNDER_TOOL (the binary under test is not a static file to copy)"
	exit 0
fi
if ! command -v ssh >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
	echo "# skip: t_ssh: no ssh or ssh-keygen (openssh-client; sh tests/deps.sh installs it as root)"
	exit 0
fi
# sshd re-executes itself: it wants an absolute path
SSHD=$(command -v sshd 2>/dev/null)
case $SSHD in
/*) ;;
*) SSHD=/usr/sbin/sshd ;;
esac
if [ ! -x "$SSHD" ]; then
	echo "# skip: t_ssh: no sshd (openssh-server; sh tests/deps.sh installs it as root)"
	exit 0
fi
# Debian's sshd, as root, wants its privilege separation directory
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ] && ! mkdir -m 755 /run/sshd 2>/dev/null; then
	echo "# skip: t_ssh: cannot make sshd's privilege separation directory /run/sshd"
	exit 0
fi

SSHDIR=$TMP/ssh
mkdir -p "$SSHDIR"
# the "remote" host's files; canonical, as /proc/PID/exe shows the binary
RDIR=$(cd "$TMP" && pwd -P)/remote
RBIN=$RDIR/bin/agent-exec
SSHD_PID=""
BG_PIDS=""

# ---- helpers ---------------------------------------------------------------

# q WORD...: each word in single quotes, for the remote shell (the
# README's helper): ssh joins its arguments into one string that the
# remote shell splits again.
q() { for w; do printf "'%s' " "$(printf %s "$w" | sed "s/'/'\\\\''/g")"; done; }
# ssh_exec ARG...: become ssh to our sshd (exec: in a subshell, $! is
# then the pid of ssh itself, the client the test kills); rsh ARG...: ssh
# there, stdin from /dev/null; rsh_in ARG...: with this shell's stdin.
ssh_exec() {
	exec ssh -F /dev/null -o StrictHostKeyChecking=no \
		-o "UserKnownHostsFile=$SSHDIR/known" -o BatchMode=yes \
		-o IdentitiesOnly=yes -o ConnectTimeout=20 -o LogLevel=ERROR \
		-i "$SSHDIR/key" -p "$PORT" 127.0.0.1 "$@"
}
rsh_in() { (ssh_exec "$@"); }
rsh() { (ssh_exec "$@") </dev/null; }
# rae ARG...: the remote binary on the remote root (ARGs: plain words)
RAE="$(q "$RBIN")--root $(q "$ROOT")"
rae() { rsh "$RAE" "$@"; }

# port_listening PORT: something listens on TCP port PORT.
port_listening() {
	_hex=$(printf %04X "$1")
	for _t in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$_t" ] || continue
		awk -v p=":$_hex" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 }
			END { exit !f }' "$_t" && return 0
	done
	return 1
}
# below PID: the pids of PID's descendants, one a line.
below() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v top="$1" '
		{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); parent[$1] = f[2] }
		END {
			tree[top] = 1
			do {
				changed = 0
				for (p in parent)
					if (!(p in tree) && (parent[p] in tree)) {
						tree[p] = 1
						changed = 1
					}
			} while (changed)
			for (p in tree) if (p != top) print p
		}'
}
# no_sshd_children: sshd holds no session and runs nothing for one.
no_sshd_children() { [ -z "$(below "$SSHD_PID")" ]; }
# follower_waiting: the remote agent-exec below sshd (the one ssh
# session there is) has opened the event log and sleeps waiting for more
# (--since end is resolved); sets FOLLOWER to its pid.
follower_waiting() {
	for _p in $(below "$SSHD_PID"); do
		[ "$(readlink "/proc/$_p/exe" 2>/dev/null)" = "$RBIN" ] || continue
		[ "$(proc_field "$_p" 3)" = S ] || return 1
		_open=""
		for _fd in /proc/"$_p"/fd/*; do
			case $(readlink "$_fd" 2>/dev/null) in */.events) _open=1 ;; esac
		done
		[ -n "$_open" ] || return 1
		FOLLOWER=$_p
		return 0
	done
	return 1
}
# finished_line FILE ID: the job.finished line of job ID in FILE.
finished_line() {
	grep -F "\"event_type\":\"job.finished\",\"job_id\":\"$2\"" "$1" 2>/dev/null
}
has_finished() { [ -n "$(finished_line "$1" "$2")" ]; }
# all_finished FILE ID...: every ID has its job.finished line in FILE.
all_finished() {
	_file=$1
	shift
	for _id in "$@"; do has_finished "$_file" "$_id" || return 1; done
}
# cursor_of LINE / last_cursor FILE
cursor_of() { printf '%s\n' "$1" | sed -n 's/^{"cursor":"\([0-9]*\)".*/\1/p'; }
last_cursor() { cursor_of "$(tail -n 1 "$1")"; }
# ids_of FILE: the job ids of the lines, sorted, on one line
ids_of() { sed 's/.*"event_type":"[^"]*","job_id":"//; s/".*//' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }
# background PID: stopped at the end if still running
background() { BG_PIDS="$BG_PIDS $1"; }

stop_all() {
	for _p in $BG_PIDS; do kill -KILL "$_p" 2>/dev/null; done
	if [ -n "$SSHD_PID" ]; then
		for _p in $(below "$SSHD_PID"); do kill -KILL "$_p" 2>/dev/null; done
		kill -TERM "$SSHD_PID" 2>/dev/null
		until_true 5 proc_gone "$SSHD_PID" || kill -KILL "$SSHD_PID" 2>/dev/null
	fi
	return 0
}
trap 'stop_all; cleanup' EXIT

# ---- an sshd of our own ------------------------------------------------------

ssh-keygen -q -t ed25519 -N '' -C t_ssh-host -f "$SSHDIR/host_key" >/dev/null 2>&1 &&
	ssh-keygen -q -t ed25519 -N '' -C t_ssh -f "$SSHDIR/key" >/dev/null 2>&1 &&
	cp "$SSHDIR/key.pub" "$SSHDIR/authorized_keys" ||
	{ echo "# skip: t_ssh: ssh-keygen could not make the keys"; exit 0; }
cat >"$SSHDIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $SSHDIR/host_key
AuthorizedKeysFile $SSHDIR/authorized_keys
PidFile $SSHDIR/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
PubkeyAuthentication yes
PrintMotd no
UseDNS no
LogLevel VERBOSE
EOF
if ! "$SSHD" -t -f "$SSHDIR/sshd_config" -o Port=22 >"$SSHDIR/t.err" 2>&1; then
	echo "# skip: t_ssh: sshd rejects the test's config: $(head -c 300 "$SSHDIR/t.err" | tr '\n' ' ')"
	exit 0
fi
# sshd_settled: it listens on PORT, or it gave up (a port taken meanwhile)
sshd_settled() { proc_gone "$SSHD_PID" || port_listening "$PORT"; }
for try in 1 2 3 4 5 6 7 8; do
	PORT=$((20000 + ($$ * 37 + try * 7919) % 40000))
	port_listening "$PORT" && continue
	"$SSHD" -D -f "$SSHDIR/sshd_config" -o "Port=$PORT" -E "$SSHDIR/sshd.log" &
	SSHD_PID=$!
	if until_true 20 sshd_settled && proc_running "$SSHD_PID"; then
		break
	fi
	kill -KILL "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=""
done
if [ -z "$SSHD_PID" ]; then
	echo "# skip: t_ssh: sshd did not start: $(tail -n 3 "$SSHDIR/sshd.log" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi
if ! rsh true >"$SSHDIR/connect.err" 2>&1; then
	echo "# skip: t_ssh: sshd on port $PORT did not let $(id -un) in:" \
		"$(head -c 200 "$SSHDIR/connect.err" | tr '\n' ' ')" \
		"$(tail -n 2 "$SSHDIR/sshd.log" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi

# ---- the binary, copied through ssh -------------------------------------------

rsh_in "mkdir -p $(q "$RDIR/bin")&& cat >$(q "$RBIN")&& chmod +x $(q "$RBIN")" <"$AE_BIN"
check "the binary copied with cat over ssh is the same file" cmp -s "$AE_BIN" "$RBIN"
capture rsh "$(q "$RBIN")" --version
check_out "... and runs there: --version over ssh" "$RC $OUT" "0 $("$AE_BIN" --version)"

# ---- launch, status, tail, wait ------------------------------------------------

t0=$(now_ms)
capture rae run --snapshot-after 0 -- sleep 120
took=$(($(now_ms) - t0))
long=$(job_id "$OUT")
check_match "run --snapshot-after 0 over ssh: a job id" "$long" "$ID_RE"
check_out "... exit 0, the job running" "$RC $(json_str state "$OUT")" "0 running"
check_between "... ssh returns at once, not when the job ends (ms)" "$took" 0 \
	$(($(bound 20) * 1000))
capture rae status "$long"
check_out "status over ssh: running" "$RC $(json_str state "$OUT")" "0 running"

(ssh_exec "$RAE events --follow --since end --type job.finished") \
	</dev/null >"$TMP/follow.out" 2>"$TMP/follow.err" &
FOLLOW=$!
background "$FOLLOW"
FOLLOWER=""
wait_for "events --follow --since end over ssh: the remote follower waits" 30 \
	follower_waiting

# one word after --: a script for sh -c, quoted once for the remote shell
capture rae run --snapshot-after 0 -- "$(q 'echo done; exit 3')"
id1=$(job_id "$OUT")
check_match "a job that ends, launched over ssh" "$RC $id1" "^0 ${ID_RE#^}"
wait_for "its job.finished line comes through the ssh stream" 30 \
	has_finished "$TMP/follow.out" "$id1"
line=$(finished_line "$TMP/follow.out" "$id1")
check_eq "... exited, exit_code 3" \
	"$(json_str state "$line") $(json_num exit_code "$line")" "exited 3"
check_eq "... the one line so far (--since end, --type job.finished)" \
	"$(line_count "$TMP/follow.out")" 1
check_schema "... an event_line" event_line --lines "$TMP/follow.out"
capture rae status "$id1"
check_out "status over ssh: exited, exit_code 3" \
	"$RC $(json_str state "$OUT") $(json_num exit_code "$OUT")" "0 exited 3"
capture rae wait --exit-status "$id1"
check_out "wait --exit-status over ssh: ssh exits with the job's code" "$RC" 3

# ---- quoting --------------------------------------------------------------------

# unquoted, ssh's join splits what the local shell had kept together
capture rae run --wait -- sh -c 'exit 3'
idu=$(job_id "$OUT")
check_out "unquoted over ssh, sh -c 'exit 3' arrives split (the README's warning)" \
	"$(json_num exit_code "$OUT")" 0
check_contains "... as [sh,-c,exit,3]" "$(rae status "$idu")" \
	'"command":["sh","-c","exit","3"]'
# the remote command line in single quotes, inner words in double quotes
capture rsh "$RAE"' run --wait -- sh -c "exit 3"'
idd=$(job_id "$OUT")
check_out "quoted once (the line in single quotes): exit_code 3" \
	"$(json_num exit_code "$OUT")" 3
check_contains "... as [sh,-c,exit 3]" "$(rae status "$idd")" \
	'"command":["sh","-c","exit 3"]'
# any words, each quoted by q
# shellcheck disable=SC2016 # a literal $, for the job
capture rsh "$RAE run --wait -- $(q sh -c 'printf "[%s]" "$@"' sh 'a  b' "it's" \
	'"dq"' '$HOME' '*' 'x;y' '')"
idq=$(job_id "$OUT")
check_out "words quoted by q survive ssh: spaces, quotes, \$, *, ;, an empty word" \
	"$(json_decode stdout_tail "$OUT")" "[a  b][it's][\"dq\"][\$HOME][*][x;y][]"
# shellcheck disable=SC2016 # the job's words
check_contains "... the job's command, word for word" "$(rae status "$idq")" \
	'"command":["sh","-c","printf \"[%s]\" \"$@\"","sh","a  b","it'"'"'s","\"dq\"","$HOME","*","x;y",""]'
capture rae tail --lines 5 "$idq"
check_out "tail over ssh: the job's output" "$RC $(json_decode stdout_tail "$OUT")" \
	"0 [a  b][it's][\"dq\"][\$HOME][*][x;y][]"
# a script on stdin: no shell parses it twice
make_script "$TMP/job.sh" <<'EOS'
printf '%s\n' "it's \"quoted\"  twice; \$HOME stays"
exit 4
EOS
capture rsh_in "$RAE run --wait --stdin - -- sh -s" <"$TMP/job.sh"
ids=$(job_id "$OUT")
check_out "a script sent as the job's stdin (--stdin - -- sh -s): its output" \
	"$(json_decode stdout_tail "$OUT")" "it's \"quoted\"  twice; \$HOME stays"
check_out "... exit_code 4" "$(json_num exit_code "$OUT")" 4

# ---- the stream's ssh client killed ---------------------------------------------

wait_for "the stream delivered every job.finished so far" 30 \
	all_finished "$TMP/follow.out" "$id1" "$idu" "$idd" "$idq" "$ids"
cursor=$(last_cursor "$TMP/follow.out")
check_match "... each line with its cursor" "$cursor" '^[0-9]+$'
kill -KILL "$FOLLOW" 2>/dev/null
wait_status "$FOLLOW" 10
check_eq "the stream's ssh client killed (KILL)" "$WAIT_STATUS" 137
wait_for "... the remote follower ends (its stdout's reader is gone)" 20 \
	proc_gone "$FOLLOWER"
wait_for "... sshd keeps no session and no child" 20 no_sshd_children
check "... sshd still runs" proc_running "$SSHD_PID"
capture rae status "$long"
check_out "... the job launched over ssh runs on (status over ssh)" \
	"$(json_str state "$OUT")" running
check "... its process too" process_alive "$(record_num "$long" pid)"

# ---- resuming from the last cursor ------------------------------------------------

capture rae run --wait -- true
m1=$(job_id "$OUT")
capture rae run --wait -- false
m2=$(job_id "$OUT")
# missed_both: their job.finished lines are in the log (read here, locally)
missed_both() {
	ae events --since "$cursor" --type job.finished >"$TMP/local.out" &&
		all_finished "$TMP/local.out" "$m1" "$m2"
}
wait_for "two jobs end while no stream runs" 30 missed_both
rae events --since "$cursor" --type job.finished >"$TMP/missed.out"
check_eq "events --since CURSOR over ssh: exactly the missed job.finished lines" \
	"$(ids_of "$TMP/missed.out")" "$(sorted "$m1" "$m2")"
(ssh_exec "$RAE events --follow --since $cursor --type job.finished") \
	</dev/null >"$TMP/resume.out" 2>"$TMP/resume.err" &
RESUME=$!
background "$RESUME"
wait_for "events --follow --since CURSOR over ssh: the missed ones first" 30 \
	has_lines "$TMP/resume.out" 2
check_eq "... those two, none before the cursor again" \
	"$(head -n 2 "$TMP/resume.out" | ids_of /dev/stdin)" "$(sorted "$m1" "$m2")"
check_between "... after the cursor" "$(cursor_of "$(head -n 1 "$TMP/resume.out")")" \
	$((cursor + 1)) 999999999
capture rae kill "$long"
check_out "kill over ssh" "$RC" 0
wait_for "... then live: the killed job's job.finished comes through" 30 \
	has_finished "$TMP/resume.out" "$long"
check_eq "... state killed" "$(json_str state "$(finished_line "$TMP/resume.out" "$long")")" killed
kill -TERM "$RESUME" 2>/dev/null
wait_status "$RESUME" 10
wait_for "... its ssh client ended: sshd keeps no session and no child" 20 no_sshd_children

# ---- the end ----------------------------------------------------------------------

check_eq "the ssh clients' stderr: nothing" "$(cat "$TMP/follow.err" "$TMP/resume.err")" ""
# sshd's sessions outlive its listener: there must be none left by now
for p in $(below "$SSHD_PID"); do kill -KILL "$p" 2>/dev/null; done
kill -TERM "$SSHD_PID"
wait_status "$SSHD_PID" 10
check "sshd stops" test "$WAIT_STATUS" != timeout
SSHD_PID=""
