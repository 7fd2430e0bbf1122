#!/bin/sh
# Bounded disk use without cron (issue 18): gc --max-jobs and --max-bytes
# (the newest kept, alone or with --older-than, --dry-run), and delete
# --all (the finished jobs of this directory; --all-dirs; --dry-run).
. "$(dirname "$0")/lib.sh"

# finished_job ID STAMP BYTES: hand-write a finished job whose finished_at
# is STAMP, holding BYTES bytes of output besides its state.json.
finished_job() {
	mkdir -p "$ROOT/$1"
	printf '{"job": {"id": "%s", "status": "exited"}, "result": {"exit_code": 0}, "finished_at": "%s", "updated_at": "%s"}\n' \
		"$1" "$2" "$2" >"$ROOT/$1/state.json"
	head -c "$3" /dev/zero >"$ROOT/$1/stdout.log"
}
# entry ID JSON: the gc entry of job ID; outcome ID JSON: "ACTION REASON".
entry() { printf '%s\n' "$2" | grep -o "{\"job_id\":\"$1\"[^}]*}"; }
outcome() { _e=$(entry "$1" "$2"); echo "$(json_str action "$_e") $(json_str reason "$_e")"; }
# fresh: a root of five finished jobs, J1 oldest .. J5 newest (finished a
# day apart, two days ago at the newest), 1000 bytes of output each.
J1=01J1AAAAAAAAAAAAAAAAAAAAAA
J2=01J2AAAAAAAAAAAAAAAAAAAAAA
J3=01J3AAAAAAAAAAAAAAAAAAAAAA
J4=01J4AAAAAAAAAAAAAAAAAAAAAA
J5=01J5AAAAAAAAAAAAAAAAAAAAAA
day() { date -u -d "@$(( $(date +%s) - $1 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
	date -u -r "$(( $(date +%s) - $1 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ; }
fresh() {
	rm -rf "$ROOT"
	n=6
	for id in $J1 $J2 $J3 $J4 $J5; do
		finished_job "$id" "$(day "$n")" 1000
		n=$((n - 1))
	done
}
gone() { for id in "$@"; do [ ! -e "$ROOT/$id" ] || return 1; done; }
there() { for id in "$@"; do [ -d "$ROOT/$id" ] || return 1; done; }

# ---- gc --max-jobs ----

fresh
capture ae gc --max-jobs 2 --dry-run
check_eq "gc --max-jobs 2 --dry-run: exit 0" "$RC" 0
check_contains "... says the limit and no age rule" "$OUT" '"older_than":"none","older_than_source":"none","max_jobs":2,'
check_eq "... the oldest three would go (max_jobs_2)" \
	"$(outcome $J1 "$OUT") / $(outcome $J2 "$OUT") / $(outcome $J3 "$OUT")" \
	"would_delete max_jobs_2 / would_delete max_jobs_2 / would_delete max_jobs_2"
check_eq "... the newest two stay (within_limits)" \
	"$(outcome $J4 "$OUT") / $(outcome $J5 "$OUT")" \
	"skipped within_limits / skipped within_limits"
check_eq "... would_delete 3" "$(json_num would_delete "$OUT")" 3
check "... nothing deleted" there $J1 $J2 $J3 $J4 $J5
keep_answer gc
running=$(start_job -- sleep 30)
created=$(job_id "$(ae create -- true)")
capture ae gc --max-jobs 2
check_eq "gc --max-jobs 2: three deleted" "$(json_num deleted "$OUT")" 3
check "... the oldest three are gone" gone $J1 $J2 $J3
check "... the newest two stay" there $J4 $J5
check "... a running job is neither counted nor touched" test -d "$ROOT/$running"
check_eq "... nor a created one" "$(state_of "$created")" created
keep_answer gc
ae kill --signal KILL "$running" >/dev/null
capture ae gc --max-jobs 0 --dry-run
check_contains "gc --max-jobs 0: every finished job would go (the killed one too)" \
	"$(outcome "$running" "$OUT")" "would_delete max_jobs_0"

# ---- gc --max-bytes ----

fresh
# a job's bytes: its files' sizes (gc counts regular files)
one=$(( $(wc -c <"$ROOT/$J5/state.json") + 1000 ))
capture ae gc --max-bytes "$((2 * one + one / 2))" --dry-run
check_eq "gc --max-bytes (2.5 jobs' worth): the newest two stay" \
	"$(outcome $J5 "$OUT") / $(outcome $J4 "$OUT")" \
	"skipped within_limits / skipped within_limits"
check_eq "... the third newest and older would go (max_bytes_B)" \
	"$(outcome $J3 "$OUT") / $(outcome $J1 "$OUT")" \
	"would_delete max_bytes_$((2 * one + one / 2)) / would_delete max_bytes_$((2 * one + one / 2))"
check_contains "... the answer says max_bytes" "$OUT" "\"max_bytes\":$((2 * one + one / 2)),"
capture ae gc --max-bytes 0
check "gc --max-bytes 0: every finished job goes" gone $J1 $J2 $J3 $J4 $J5

# ---- limits and age together: either rule lets a job go ----

fresh
capture ae gc --older-than 130h --max-jobs 4 --dry-run
check_contains "--older-than with a limit: the age rule kept" "$OUT" '"older_than":"130h","older_than_source":"flag","max_jobs":4,'
check_eq "... the oldest goes by age (six days old)" "$(outcome $J1 "$OUT")" "would_delete older_than_130h"
check_eq "... the next ones are too recent and within the limit" \
	"$(outcome $J2 "$OUT") / $(outcome $J5 "$OUT")" "skipped too_recent / skipped too_recent"
capture ae gc --older-than 30d --max-jobs 1 --dry-run
check_eq "... and by the limit when the age rule keeps it" "$(outcome $J2 "$OUT")" "would_delete max_jobs_1"
capture ae gc
check_eq "plain gc keeps its 30d default (nothing that recent goes)" \
	"$(json_str older_than "$OUT") $(json_str older_than_source "$OUT") $(json_num deleted "$OUT")" "30d default 0"
check_usage_error "gc --max-jobs x: a usage error" "$AE_BIN" --root "$ROOT" gc --max-jobs x

# ---- delete --all ----

rm -rf "$ROOT"
mkdir -p "$TMP/here" "$TMP/there"
(cd "$TMP/here" && ae run --wait -- true >/dev/null && ae run --wait -- false >/dev/null)
here_running=$(cd "$TMP/here" && start_job -- sleep 30)
here_created=$(cd "$TMP/here" && job_id "$(ae create -- true)")
there_done=$(cd "$TMP/there" && job_id "$(ae run --wait -- true)")
here_done=$(cd "$TMP/here" && ae list --state exited | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4 | sort | tr '\n' ' ' | sed 's/ $//')
capture sh -c 'cd "$1" && "$2" --root "$3" delete --all --dry-run' x "$TMP/here" "$AE_BIN" "$ROOT"
check_eq "delete --all --dry-run: the finished jobs of this directory" "$(ids_in "$OUT")" "$here_done"
check_contains "... each would go, with its bytes" "$OUT" '"deleted":false,"would_delete":true,"freed_bytes":0,"bytes":'
check_contains "... summed, nothing freed" "$OUT" '"failures":0,"freed_bytes":0,"would_free_bytes":'
check "... nothing deleted" test -d "$ROOT/$(echo "$here_done" | cut -d' ' -f1)"
keep_answer delete_many
capture sh -c 'cd "$1" && "$2" --root "$3" delete --all' x "$TMP/here" "$AE_BIN" "$ROOT"
check_eq "delete --all: those two deleted" "$(ids_in "$OUT") $(json_num failures "$OUT")" "$here_done 0"
check "... the running job stays" test -d "$ROOT/$here_running"
check_eq "... the created one stays" "$(state_of "$here_created")" created
check "... another directory's job stays" test -d "$ROOT/$there_done"
keep_answer delete_many
ae kill --signal KILL "$here_running" >/dev/null
wait_for "the killed job is recorded" 10 is_state "$here_running" killed
capture sh -c 'cd "$1" && "$2" --root "$3" delete --all --all-dirs --state killed' x "$TMP/there" "$AE_BIN" "$ROOT"
check_eq "delete --all --all-dirs --state killed: other selectors narrow it" "$(ids_in "$OUT")" "$here_running"
capture sh -c 'cd "$1" && "$2" --root "$3" delete --all --all-dirs' x "$TMP/here" "$AE_BIN" "$ROOT"
check_eq "delete --all --all-dirs: every directory's finished jobs" "$(ids_in "$OUT")" "$there_done"
check_eq "... the created job still stays" "$(state_of "$here_created")" created
check_usage_error "delete --all-dirs without --all: a usage error" \
	"$AE_BIN" --root "$ROOT" delete --all-dirs
check_usage_error "delete --all with an id: a usage error" \
	"$AE_BIN" --root "$ROOT" delete --all "$here_created"
# a dry run of a job delete would refuse says so, changing nothing
running=$(start_job -- sleep 30)
capture ae delete --dry-run "$running"
check_contains "delete --dry-run of a running job: the refusal delete would give" "$OUT" '"code":"invalid_state"'
check_eq "... the job still runs" "$(state_of "$running")" running
capture ae delete --dry-run --force "$running"
check_contains "... with --force: it would go" "$OUT" '"would_delete":true'
check_eq "... and still runs" "$(state_of "$running")" running
ae kill --signal KILL "$running" >/dev/null

for kind in gc delete_many; do
	check_schema "every $kind answer matches its definition" "$kind" --lines \
		"$TMP/answers.$kind"
done
