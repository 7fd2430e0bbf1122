#!/bin/sh
# tests/faultsweep.sh - a fault-injection sweep: fail the Nth call of each
# system call that touches the job store or processes, with strace's
# -e inject, for one scenario, and check invariants after each injection.
#
#   AE_BIN=./agent-exec sh tests/faultsweep.sh        (from the repo root)
#
#   AE_BIN=PATH          the binary under test (required; made absolute)
#   FS_CAP=N             at most N injection points per (syscall, errno) [60]
#   FS_JOBS=N            points run at once [4]
#   FS_BOUND=S           the time bound, in seconds, of the traced run and of
#                        each wait [20]
#   FS_ONLY="SYS:ERR..." only these pairs, e.g. FS_ONLY="write:EIO fcntl:EINTR"
#   FS_POINTS=N,N,...    only these N (with FS_ONLY, to replay a violation)
#   FS_KEEP=DIR          copy the files of every failing point into DIR
#   FS_PRE="STRACE-OPTS" extra strace options for the baseline and every
#                        point, e.g. a fixed fault that opens a path the
#                        plain scenario never takes (the full-disk reserve):
#                        FS_PRE="-e inject=openat:error=ENOSPC:when=14"
#                        FS_ONLY="ftruncate:EIO pwrite64:EIO" (do not sweep
#                        the syscall FS_PRE injects: strace keeps one
#                        injection per syscall)
#   FS_RUN="RUN-OPTS"    more options of the scenario's run, e.g.
#                        FS_RUN="--queue q --slots 2": the job through a
#                        queue (its open, its slot, its release)
#   FS_VERBOSE=1         also print an "ok - ..." line per passed check
#   SCHEMA_CHECK, AE_SCHEMA  as in tests/run.sh (build/schema_check is built
#                        with make when it is missing)
#
# The scenario of one point, on a fresh root R:
#   timeout -k 5 BOUND strace -I 2 -f -ttt -o LOG \
#     -e trace=SYS,execve,fork,vfork,clone,clone3 -e inject=SYS:error=ERR:when=N \
#     agent-exec --root R run --wait --notify-command 'cat >> NOTIFY' \
#     -- sh -c 'echo out; echo err >&2'
# then, without injection, status ID (polled every 50 ms until a terminal
# state, at most BOUND s), status ID again, and list --all. (-I 2: strace
# takes timeout's SIGTERM and detaches; the processes of the point still
# alive are then listed as evidence and killed, by pid.)
#
# strace counts "when=N" per syscall AND PER TRACEE: the Nth call fails in
# every traced process that makes N such calls (the CLI, the middle process,
# the supervisor, the job's sh, the notify command's sh -c and its
# children, and each retry of it). So the number of points of a pair is the
# largest number of calls any single process makes in the un-injected
# scenario (the most over three baseline runs), capped at FS_CAP. A system
# call of a group (open/openat, write/pwrite64, rename/renameat/renameat2,
# mkdir/mkdirat, fork/vfork/clone/clone3, pipe/pipe2) is swept on its own;
# one the scenario never calls gets no point (musl's open() of an absolute
# path is the open syscall, hence open beside openat). strace's trace set also holds execve and the
# fork family, only for the log (parentage, programs); it injects into SYS
# alone. strace -f waits for every tracee, so the traced command returns once
# the CLI, the supervisor (double-forked, detached) and every sink are gone.
#
# Invariants, checked after each point (one check each; a broken one prints
# "not ok - SYS ERR N: <what>" and "#   " lines of evidence):
#  1 answer:  the CLI printed exactly one line, a JSON object of the schema
#             with "ok":true (exit 0) or "ok":false (exit 1); no other exit
#             status, no signal. When the answer itself cannot be written
#             (its write fails), nothing at all and exit 1.
#  2 no hang: the CLI returned within the bound and every traced process had
#             ended within it; the job reached a terminal state (status
#             polled) within the bound; or the CLI answered ok:false without
#             leaving a job (no job directory, or a failed job), or naming
#             the job it leaves ("job_id") whose record ends terminal.
#  3 no crash: no agent-exec process (the CLI, or a process forked from it
#             that had not exec'd another program) was killed by a signal
#             (strace's "+++ killed by SIG" lines).
#  4 records: state.json (when the job directory exists) parses, matches the
#             schema and its state is created/running/exited/killed/failed;
#             status answers ok:true with a terminal state within the bound,
#             a second status the same state; list --all answers ok:true and
#             shows the job in that state.
#  5 event:   when state.json says "completion_event":true,
#             completion_event.json exists, matches the schema and its
#             delivery_status is delivered or pending (waited for while
#             pending, at most the bound) - or "failed" when every recorded
#             attempt failed (the injection also fails each retry of the
#             sink, so this is an expected outcome, counted in the summary);
#             when delivered, the notify file holds at least one copy of the
#             event per successful attempt (at least one), byte-identical
#             copies of a valid job.finished event (more copies: delivered
#             again because a success could not be recorded; a note).
#             In addition (5b): a terminal job whose meta.json configures a
#             notify command has "completion_event":true in state.json (else
#             its job.finished is lost).
# Summary: "faultsweep: P points, X passed, Y failed" (X + Y = 5 checks per
# point, 5b counted with 5), then one line per pair. Exit 0 only when nothing
# failed.

case ${1:-} in
--point) MODE=point ;;
*) MODE=main ;;
esac

: "${AE_BIN:?AE_BIN must name the binary under test}"
AE_BIN=$(cd "$(dirname "$AE_BIN")" && pwd)/$(basename "$AE_BIN")
REPO=$(cd "$(dirname "$0")/.." && pwd)
AE_SCHEMA=${AE_SCHEMA:-$REPO/schema/agent-exec.schema.json}
SCHEMA_CHECK=${SCHEMA_CHECK:-$REPO/build/schema_check}
FS_CAP=${FS_CAP:-60}
FS_JOBS=${FS_JOBS:-4}
FS_BOUND=${FS_BOUND:-20}
export AE_BIN AE_SCHEMA SCHEMA_CHECK FS_CAP FS_JOBS FS_BOUND
export FS_PRE FS_KEEP FS_VERBOSE
. "$REPO/tests/e2e/lib.sh"

# the pairs swept: SYSCALL:ERRNO,ERRNO...
PAIRS="open:ENOSPC,EIO,EMFILE openat:ENOSPC,EIO,EMFILE write:ENOSPC,EIO
rename:ENOSPC,EIO renameat:ENOSPC,EIO renameat2:ENOSPC,EIO fsync:EIO
fdatasync:EIO ftruncate:EIO pwrite64:ENOSPC,EIO pipe:EMFILE pipe2:EMFILE fork:EAGAIN
vfork:EAGAIN clone:EAGAIN clone3:EAGAIN fcntl:EINTR,EIO mkdir:ENOSPC,EACCES
mkdirat:ENOSPC,EACCES"
# the processes' own calls, logged (not injected) for parentage and programs
LOGGED=execve,fork,vfork,clone,clone3
JOB_CMD='echo out; echo err >&2'

# ---- helpers ----------------------------------------------------------------

# flat FILE: a pretty-printed record on one line
flat() { sed 's/^ *//' "$1" 2>/dev/null | tr -d '\n'; }
# schema_ok DEFINITION FILE: FILE matches the schema's DEFINITION; the
# checker's complaint in SCHEMA_WHY
schema_ok() {
	SCHEMA_WHY=$("$SCHEMA_CHECK" "$AE_SCHEMA" "$1" "$2" 2>&1)
}
# terminal STATE
terminal() {
	case $1 in exited | killed | failed) return 0 ;; esac
	return 1
}
# head_of TEXT: the first 400 bytes, on one line
head_of() { printf '%s' "$1" | tr '\n' ' ' | head -c 400; }

# ---- one point ----------------------------------------------------------------

# progs LOG AEBIN: per pid of the strace log, "PID ROLE PROGRAM END": the
# process's role, the program it ran when it ended (its last successful
# execve, else its parent's program) and how it ended ("exited N",
# "killed SIGX", or "- -" when the log has no end for it). Roles: cli, middle
# (the CLI's first child), supervisor (the middle's child), then PARENT/job
# (sh -c running the job's script), PARENT/sink (sh -c running the notify
# command), PARENT/fork (a forked
# process that did not exec), PARENT/PROGRAM, e.g. supervisor/sink/cat or
# cli/fork/fork (a background delivery process started by the CLI).
progs() {
	awk -v ae="$2" '
	function prog(p,   n) {
		n = 0
		while (!(p in exe) && (p in parent) && n++ < 100) p = parent[p]
		return (p in exe) ? exe[p] : "?"
	}
	function role(p,   q, a, n) {
		if (p in R) return R[p]
		if (p == first) return R[p] = "cli"
		if (!(p in parent) || ++depth > 50) return R[p] = "?"
		q = role(parent[p])
		if (q == "cli" && firstchild[first] == p) return R[p] = "middle"
		if (q == "middle" && !(p in exe)) return R[p] = "supervisor"
		if (!(p in exe)) return R[p] = q "/fork"
		a = exe[p]; sub(/.*\//, "", a)
		if (a == "sh" && arg1[p] == "-c") a = sink[p] ? "sink" : "job"
		return R[p] = q "/" a
	}
	NR == 1 { exe[$1] = ae; first = $1 }
	{ pid = $1; seen[pid] = 1 }
	/ execve\("/ {
		path = $0; sub(/^[^"]*"/, "", path); sub(/".*/, "", path)
		a1 = $0; sub(/^[^[]*\[[^,]*, "/, "", a1); sub(/".*/, "", a1)
		s = ($0 ~ /"cat >> /)
		if ($0 ~ /<unfinished \.\.\.>$/) { pend[pid] = path; pa1[pid] = a1; ps[pid] = s; next }
		if ($0 ~ /\) += 0$/) { exe[pid] = path; arg1[pid] = a1; sink[pid] = s }
		if ($0 ~ /\) += \?$/) { inexec[pid] = path; ia1[pid] = a1; is[pid] = s }
		next
	}
	/<\.\.\. execve resumed>/ {
		if ($0 ~ /\) += 0$/ && (pid in pend)) { exe[pid] = pend[pid]; arg1[pid] = pa1[pid]; sink[pid] = ps[pid] }
		if ($0 ~ /\) += \?$/ && (pid in pend)) { inexec[pid] = pend[pid]; ia1[pid] = pa1[pid]; is[pid] = ps[pid] }
		delete pend[pid]
		next
	}
	/(fork|vfork|clone|clone3)(\(|  *resumed>)/ && /= [0-9]+$/ {
		child = $NF
		if (!(child in parent)) parent[child] = pid
		if (!(pid in firstchild)) firstchild[pid] = child
		next
	}
	/\+\+\+ exited with/ { end[pid] = "exited " $(NF - 1); next }
	# killed inside an execve that never returned ("= ?"): no code of
	# ours ran there, so it is no crash of ours; it counts as the program
	# it was becoming (a vfork child, e.g. a job the supervisor aborts
	# because its logs cannot be opened, resumes its parent only once its
	# memory is the new program)
	/\+\+\+ killed by/ {
		end[pid] = "killed " $6
		if (pid in inexec) { exe[pid] = inexec[pid]; arg1[pid] = ia1[pid]; sink[pid] = is[pid] }
		next
	}
	END {
		for (p in seen) { depth = 0; print p, role(p), prog(p), (p in end) ? end[p] : "- -" }
	}' "$1"
}
# injected: the log's injected calls, each with the role of its process
injected() {
	awk 'NR == FNR { role[$1] = $2; next }
		/INJECTED/ { r = ($1 in role) ? role[$1] : "?"; $2 = ""; sub(/^[0-9]+  */, ""); print "[" r "] " $0 }' \
		"$P/progs" "$LOG" 2>/dev/null
}

# point SYS ERR N: run one injection point, print its lines
point() {
	sys=$1 err=$2 n=$3
	tag="$sys $err $n"
	P="$TMP/pt"
	R="$P/root"
	NF="$P/notify"
	LOG="$P/strace"
	mkdir -p "$P"
	pass=0
	fail=0
	# the scenario, injected
	# shellcheck disable=SC2086 # FS_PRE and FS_RUN are lists of options
	timeout -k 5 "$FS_BOUND" strace -I 2 -f -ttt -o "$LOG" ${FS_PRE:-} -e trace="$sys,$LOGGED" \
		-e inject="$sys:error=$err:when=$n" \
		"$AE_BIN" --root "$R" run --wait ${FS_RUN:-} \
		--notify-command "cat >> $NF" \
		-- sh -c "$JOB_CMD" >"$P/out" 2>"$P/err"
	src=$?
	out=$(cat "$P/out")
	lines=$(wc -l <"$P/out" | tr -d ' ')
	bytes=$(wc -c <"$P/out" | tr -d ' ')
	progs "$LOG" "$AE_BIN" >"$P/progs"
	cli=$(awk 'NR == 1 { print $1; exit }' "$LOG")
	cli_end=$(awk -v p="$cli" '$1 == p { print $4, $5 }' "$P/progs")
	# how long the CLI ran (strace's timestamps of its first and last line)
	cli_secs=$(awk -v p="$cli" 'NR == 1 { t0 = $2 } $1 == p && /\+\+\+ (exited|killed)/ { t1 = $2 }
		END { if (t1) printf "%.3f", t1 - t0; else print "-" }' "$LOG")
	# processes still alive after a timeout: stop them (only pids of this
	# point's log that still run this point's programs)
	alive=""
	if [ "$src" = 124 ] || [ "$src" = 137 ]; then
		for p in $(cut -d ' ' -f 1 "$P/progs"); do
			c=$( { tr '\0' ' ' <"/proc/$p/cmdline" | tr -s ' '; } 2>/dev/null)
			case $c in
			*agent-exec* | *"$JOB_CMD"* | *"$NF"* | "cat "*)
				alive="$alive $p($c)"
				kill -KILL "$p" 2>/dev/null ;;
			esac
		done
	fi
	inj=$(grep -c 'INJECTED' "$LOG")

	# --- 1 answer
	why=""
	noanswer=""
	if [ "$bytes" = 0 ] && [ "$cli_end" = "exited 1" ]; then
		# the answer itself could not be written: exit 1 says so
		echo "# $tag: no answer could be written; the CLI exited 1"
		report 1 "answer" "" ""
		out='{"schema_version":"0.1","ok":false}'
		okv=false
		noanswer=1
	else
	[ "$lines" = 1 ] || why="$why; stdout has $lines lines ($bytes bytes)"
	printf '%s\n' "$out" >"$P/answer.json"
	schema_ok - "$P/answer.json" || why="$why; stdout is not an answer of the schema: $(head_of "$SCHEMA_WHY")"
	okv=""
	case $out in
	'{"schema_version":"0.1","ok":true,'*) okv=true ;;
	'{"schema_version":"0.1","ok":false,'*) okv=false ;;
	*) why="$why; stdout is not {\"schema_version\":\"0.1\",\"ok\":true|false,...}" ;;
	esac
	case "$cli_end" in
	"exited 0") [ "$okv" = false ] && why="$why; exit 0 with ok:false" ;;
	"exited 1") [ "$okv" = true ] && why="$why; exit 1 with ok:true" ;;
	"") why="$why; the CLI is not in strace's log" ;;
	*) why="$why; the CLI ended: $cli_end (strace's status $src)" ;;
	esac
	report 1 "answer" "$why" \
		"exit: ${cli_end:-?}, stdout: $(head_of "$out")" \
		"stderr: $(head_of "$(cat "$P/err")")"
	fi

	# the job: the answer's id, else the one directory of the fresh root
	id=$(json_str job_id "$out")
	# (job ids are ULIDs: plain names)
	# shellcheck disable=SC2010
	dirs=$(ls "$R" 2>/dev/null | grep -v '^\.')
	[ -z "$id" ] && id=$(printf '%s\n' "$dirs" | head -n 1)
	J="$R/$id"
	[ -n "$id" ] && [ -d "$J" ] || J=""
	# the delivery as the traced processes left it (before any status)
	ds_exit=$(json_str delivery_status "$(flat "$J/completion_event.json" 2>/dev/null)")
	copies_exit=$(grep -o '"event_type":"job.finished"' "$NF" 2>/dev/null | wc -l | tr -d ' ')
	sinks=$(awk '$2 ~ /\/sink$/ { r = $2; sub(/\/sink$/, "", r); c[r]++ }
		END { for (r in c) printf " %s:%d", r, c[r] }' "$P/progs")

	# status, polled every 50 ms until terminal (at most the bound)
	st1=""
	st_out=""
	if [ -n "$J" ]; then
		deadline=$(($(date +%s) + FS_BOUND))
		while :; do
			st_out=$("$AE_BIN" --root "$R" status "$id" 2>"$P/status.err")
			st_rc=$?
			st1=$(json_str state "$st_out")
			[ "$st_rc" = 0 ] && terminal "$st1" && break
			[ "$(date +%s)" -gt "$deadline" ] && break
			sleep 0.05
		done
		st_out2=$("$AE_BIN" --root "$R" status "$id" 2>/dev/null)
		st2=$(json_str state "$st_out2")
	fi

	# --- 2 no hang
	why=""
	if [ "$src" = 124 ] || [ "$src" = 137 ]; then
		why="$why; traced processes still running after ${FS_BOUND} s (killed:${alive:- none left})"
	fi
	case $cli_secs in
	-) why="$why; the CLI did not return" ;;
	*) awk -v s="$cli_secs" -v b="$FS_BOUND" 'BEGIN { exit !(s > b) }' &&
		why="$why; the CLI took ${cli_secs} s" ;;
	esac
	if [ "$okv" = false ]; then
		if [ -n "$dirs" ]; then
			sj=$(json_str status "$(flat "$R/$(printf '%s\n' "$dirs" | head -n 1)/state.json")")
			# an error after the launch names the job it leaves
			[ "$sj" = failed ] ||
				{ { [ -n "$(json_str job_id "$out")" ] || [ -n "$noanswer" ]; } &&
					terminal "$st1"; } ||
				why="$why; ok:false left a job directory ($(printf '%s' "$dirs" | tr '\n' ' ')) with state '${sj:-no state.json}', files: $(ls -A "$R/$(printf '%s\n' "$dirs" | head -n 1)" | tr '\n' ' ')"
		fi
	elif [ "$okv" = true ]; then
		if [ -z "$J" ]; then
			why="$why; ok:true but no job directory for '$id'"
		elif ! terminal "$st1"; then
			why="$why; no terminal state within ${FS_BOUND} s (status: $(head_of "$st_out"))"
		fi
	fi
	report 2 "no hang" "$why" "strace status $src, CLI ran ${cli_secs} s, $inj injected call(s)"

	# --- 3 no crash
	why=""
	killed=$(awk -v ae="$AE_BIN" '$3 == ae && $4 == "killed" { printf " %s %s (%s)", $2, $1, $5 }' "$P/progs")
	[ -n "$killed" ] && why="agent-exec process(es) killed by a signal:$killed"
	others=$(awk -v ae="$AE_BIN" '$3 != ae && $4 == "killed" { printf " %s %s (%s)", $2, $1, $5 }' "$P/progs")
	report 3 "no crash" "$why" "$(grep -E 'killed by' "$LOG" | head -n 6)"
	[ -n "$others" ] && echo "# $tag: other programs killed by a signal:$others"

	# --- 4 records
	why=""
	sj=""
	if [ -n "$J" ]; then
		if [ ! -f "$J/state.json" ]; then
			why="$why; the job directory has no state.json (files: $(ls -A "$J" | tr '\n' ' '))"
		elif ! schema_ok state_record "$J/state.json"; then
			why="$why; state.json does not parse/match: $(head_of "$SCHEMA_WHY")"
		else
			sj=$(json_str status "$(flat "$J/state.json")")
			case $sj in
			created | running | exited | killed | failed) ;;
			*) why="$why; state.json's state is '$sj'" ;;
			esac
		fi
		if ! terminal "$st1" || [ "$(json_bool ok "$st_out")" != true ]; then
			why="$why; status is not ok:true with a terminal state: $(head_of "$st_out") $(head_of "$(cat "$P/status.err")")"
		elif [ "$st2" != "$st1" ]; then
			why="$why; status changed its terminal state: $st1 then $st2"
		fi
	fi
	ls_out=$("$AE_BIN" --root "$R" list --all 2>/dev/null)
	ls_rc=$?
	printf '%s\n' "$ls_out" >"$P/list.json"
	if [ "$ls_rc" != 0 ] || [ "$(json_bool ok "$ls_out")" != true ] ||
		! schema_ok - "$P/list.json"; then
		why="$why; list --all: exit $ls_rc: $(head_of "$ls_out")"
	elif [ -n "$J" ] && terminal "$st1"; then
		ls_state=$(printf '%s\n' "$ls_out" | grep -o "\"job_id\":\"$id\",[^}]*" |
			grep -o '"state":"[a-z]*"' | head -n 1 | sed 's/.*:"//; s/"//')
		[ "$ls_state" = "$st1" ] ||
			why="$why; list --all shows the job as '${ls_state}', status as '$st1'"
	fi
	tmps=$( [ -n "$J" ] && find "$J" -name '.tmp-*' | tr '\n' ' ')
	[ -n "$tmps" ] && echo "# $tag: temp file(s) left in the job directory: $tmps"
	report 4 "records" "$why" "state.json: $(head_of "$(flat "$J/state.json" 2>/dev/null)")"

	# --- 5 event
	why=""
	dstat=""
	cj=$( [ -n "$J" ] && flat "$J/state.json")
	if [ -n "$J" ] && [ "$(json_bool completion_event "$cj")" = true ]; then
		deadline=$(($(date +%s) + FS_BOUND))
		while :; do
			dstat=$(json_str delivery_status "$(flat "$J/completion_event.json")")
			[ "$dstat" != pending ] && break
			[ "$(date +%s)" -gt "$deadline" ] && break
			sleep 0.05
		done
		ce=$(flat "$J/completion_event.json")
		succ=$(printf '%s' "$ce" | grep -o '"success": *true' | wc -l | tr -d ' ')
		fails=$(printf '%s' "$ce" | grep -o '"success": *false' | wc -l | tr -d ' ')
		if [ ! -f "$J/completion_event.json" ]; then
			why="$why; completion_event.json is missing"
		elif ! schema_ok completion_record "$J/completion_event.json"; then
			why="$why; completion_event.json does not parse/match: $(head_of "$SCHEMA_WHY")"
		else
			case $dstat in
			delivered)
				copies=$(copies "$NF" "$id")
				# at least once: a success whose record could not be
				# written (a full disk) is delivered again, the same
				# event with the same event_id
				if [ "$succ" -lt 1 ] || ! [ "$copies" -ge "$succ" ] 2>/dev/null; then
					why="$why; delivered with $succ successful attempt(s), the notify file holds $copies ($(file_size "$NF") bytes: $(head_of "$(cat "$NF" 2>/dev/null)"))"
				elif [ "$copies" -gt "$succ" ]; then
					echo "# $tag: delivered again (at least once): $copies copies for $succ recorded success(es)"
				fi
				;;
			pending) echo "# $tag: completion_event.json still pending after ${FS_BOUND} s" ;;
			failed)
				[ "$succ" = 0 ] && [ "$fails" -ge 1 ] ||
					why="$why; delivery_status failed with $succ successful and $fails failed attempts"
				;;
			*) why="$why; delivery_status is '${dstat}'" ;;
			esac
		fi
	elif [ -n "$J" ] && terminal "$st1" &&
		flat "$J/meta.json" | grep -q '"notify_command": *"cat'; then
		dstat=lost
		why="$why; (5b) the job is $st1 and meta.json has a notify command, but state.json has no \"completion_event\":true: job.finished is never delivered (notify file: $(file_size "$NF" || echo none) bytes)"
	fi
	report 5 "event" "$why" \
		"when the traced processes had ended: delivery_status '${ds_exit:-none}', $copies_exit cop(ies) in the notify file; sink runs (by starter):${sinks:- none}" \
		"delivery_results: $(flat "$J/completion_event.json" 2>/dev/null | grep -o '"delivery_results": *\[[^]]*\]' | head -c 600)"

	echo "point $sys $err $n $pass $fail ${dstat:--} ${st1:-none}"
	if [ "$fail" -gt 0 ] && [ -n "${FS_KEEP:-}" ]; then
		mkdir -p "$FS_KEEP" && cp -r "$P" "$FS_KEEP/$sys.$err.$n"
	fi
	rm -rf "$P"
}
# copies FILE ID: how many job.finished events of ID the file holds, when
# it is exactly that many identical copies of one valid event ("bad" else)
copies() {
	[ -s "$1" ] || { echo 0; return; }
	_k=$(grep -o "\"event_id\":\"$2:job.finished\"" "$1" | wc -l | tr -d ' ')
	[ "$_k" -ge 1 ] || { echo "bad(0 event ids)"; return; }
	_size=$(file_size "$1")
	[ $((_size % _k)) = 0 ] || { echo "bad($_k event ids, $_size bytes)"; return; }
	_one=$((_size / _k))
	head -c "$_one" "$1" >"$TMP/one.json"
	schema_ok job_finished_event "$TMP/one.json" ||
		{ echo "bad(not $_k copies of one event)"; return; }
	_i=0
	: >"$TMP/all.json"
	while [ $_i -lt "$_k" ]; do
		cat "$TMP/one.json" >>"$TMP/all.json"
		_i=$((_i + 1))
	done
	if cmp -s "$TMP/all.json" "$1"; then echo "$_k"; else echo "bad(not $_k identical copies)"; fi
}
# report INV NAME WHY EVIDENCE...: one check of the point
report() {
	_inv=$1 _name=$2 _why=$3
	shift 3
	if [ -z "$_why" ]; then
		pass=$((pass + 1))
		[ -n "${FS_VERBOSE:-}" ] && echo "ok - $tag: $_inv $_name"
		return 0
	fi
	fail=$((fail + 1))
	echo "not ok - $tag: $_inv $_name: ${_why#; }"
	for _e in "$@"; do
		[ -n "$_e" ] && printf '%s\n' "$_e" | sed "s/^/#   /"
	done
	injected | head -n 6 | cut -c1-220 | sed 's/^/#   injected: /'
	return 0
}

if [ "$MODE" = point ]; then
	point "$2" "$3" "$4"
	exit 0
fi

# ---- the sweep ----------------------------------------------------------------

command -v strace >/dev/null || { echo "faultsweep: strace is not installed" >&2; exit 2; }
command -v timeout >/dev/null || { echo "faultsweep: timeout is not installed" >&2; exit 2; }
if ! strace -f -o /dev/null -e trace=getpid -e inject=getpid:error=EIO:when=1 true 2>/dev/null; then
	echo "faultsweep: this strace cannot inject faults (-e inject)" >&2
	exit 2
fi
if [ ! -x "$SCHEMA_CHECK" ]; then
	make -C "$REPO" --no-print-directory build/schema_check >/dev/null 2>&1
	[ -x "$SCHEMA_CHECK" ] || { echo "faultsweep: no $SCHEMA_CHECK" >&2; exit 2; }
fi
t0=$(date +%s)
echo "# faultsweep: $AE_BIN, $(strace -V | head -n 1), cap $FS_CAP points per pair, $FS_JOBS at once, bound $FS_BOUND s${FS_PRE:+, FS_PRE: $FS_PRE}"

# the syscalls this machine's strace knows
names=""
for pair in $PAIRS; do
	s=${pair%%:*}
	strace -o /dev/null -e trace="$s" true 2>/dev/null && names="$names,$s"
done
names=${names#,}

# the baseline: the scenario three times without injection; per syscall,
# the most calls any one process made
: >"$TMP/counts"
for run in 1 2 3; do
	B="$TMP/base$run"
	mkdir -p "$B"
	# shellcheck disable=SC2086 # FS_PRE and FS_RUN are lists of options
	timeout -k 5 "$FS_BOUND" strace -f -o "$B/log" ${FS_PRE:-} -e trace="$names" \
		"$AE_BIN" --root "$B/root" run --wait ${FS_RUN:-} \
		--notify-command "cat >> $B/notify" \
		-- sh -c "$JOB_CMD" >"$B/out" 2>&1
	awk '$2 !~ /^</ { s = $2; sub(/\(.*/, "", s); c[s " " $1]++ }
		END { for (k in c) print k, c[k] }' "$B/log" >>"$TMP/counts"
done
b_out=$(cat "$TMP/base1/out")
b_id=$(json_str job_id "$b_out")
if [ "$(json_str state "$b_out")" != exited ] ||
	[ "$(json_str delivery_status "$(flat "$TMP/base1/root/$b_id/completion_event.json")")" != delivered ]; then
	if [ -z "${FS_PRE:-}" ]; then
		echo "faultsweep: the un-injected scenario does not end exited and delivered:" >&2
		echo "$b_out" >&2
		exit 2
	fi
	echo "# the baseline with FS_PRE does not end exited and delivered: $(head_of "$b_out")"
fi
# (a process's largest count, over the three runs)
max_calls() { awk -v s="$1" '$1 == s && $3 > m { m = $3 } END { print m + 0 }' "$TMP/counts"; }

# the points
: >"$TMP/points"
: >"$TMP/pairs"
: >"$TMP/tally"
for pair in $PAIRS; do
	s=${pair%%:*}
	case ",$names," in *",$s,"*) ;; *) continue ;; esac
	for e in $(echo "${pair#*:}" | tr ',' ' '); do
		if [ -n "${FS_ONLY:-}" ]; then
			case " $FS_ONLY " in *" $s:$e "*) ;; *) continue ;; esac
		fi
		calls=$(max_calls "$s")
		k=$calls
		[ "$k" -gt "$FS_CAP" ] && k=$FS_CAP
		echo "$s $e $calls $k" >>"$TMP/pairs"
		[ -n "${FS_POINTS:-}" ] && echo "# $s $e: only points $FS_POINTS of 1..$k"
		i=1
		while [ $i -le "$k" ]; do
			case ",${FS_POINTS:-$i}," in
			*",$i,"*) echo "$s $e $i" >>"$TMP/points" ;;
			esac
			i=$((i + 1))
		done
	done
done
total=$(wc -l <"$TMP/points" | tr -d ' ')
echo "# $total injection points (strace's when=N counts per process: point N fails the Nth call in every traced process that makes one)"

mkdir -p "$TMP/res"
# each point in its own process (this script, --point), FS_JOBS at once
RES="$TMP/res"
export RES
# shellcheck disable=SC2016 # expanded by the inner sh
[ "$total" -gt 0 ] &&
	xargs -P "$FS_JOBS" -n 3 sh -c 'sh "$0" --point "$1" "$2" "$3" >"$RES/$1.$2.$3" 2>&1' \
		"$REPO/tests/faultsweep.sh" <"$TMP/points"

# the results, in the order of the points
P_ALL=0 X=0 Y=0
while read -r s e i; do
	f="$TMP/res/$s.$e.$i"
	grep -v '^point ' "$f" 2>/dev/null
	line=$(grep '^point ' "$f" 2>/dev/null)
	if [ -z "$line" ]; then
		echo "not ok - $s $e $i: the point did not run to its end"
		Y=$((Y + 1))
		continue
	fi
	# shellcheck disable=SC2086 # the fields of the line
	set -- $line
	P_ALL=$((P_ALL + 1))
	X=$((X + $5))
	Y=$((Y + $6))
	echo "$s $e $6 $7 $8" >>"$TMP/tally"
done <"$TMP/points"

echo "faultsweep: $P_ALL points, $X passed, $Y failed ($(($(date +%s) - t0)) s)"
echo "# per pair; state/delivery: the job's final state (none: no job) / its delivery_status (-: no event due; lost: 5b)"
while read -r s e calls k; do
	bad=$(awk -v s="$s" -v e="$e" '$1 == s && $2 == e && $3 > 0' "$TMP/tally" 2>/dev/null | wc -l | tr -d ' ')
	outcomes=$(awk -v s="$s" -v e="$e" '$1 == s && $2 == e { c[$5 "/" $4]++ }
		END { for (k in c) printf " %s:%d", k, c[k] }' "$TMP/tally" 2>/dev/null)
	capped=""
	[ "$calls" -gt "$k" ] && capped=" (capped at $FS_CAP; up to $calls calls in one process)"
	ran=$(awk -v s="$s" -v e="$e" '$1 == s && $2 == e' "$TMP/points" | wc -l | tr -d ' ')
	if [ "$calls" = 0 ]; then
		echo "#   $s $e: not called in the scenario, 0 points"
	else
		echo "#   $s $e: $ran points (N=1..$k)$capped, $bad with violations; state/delivery:$outcomes"
	fi
done <"$TMP/pairs"
[ "$Y" = 0 ]
