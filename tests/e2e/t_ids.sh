#!/bin/sh
# Job ids: ULIDs in creation order; unique prefixes accepted everywhere;
# ambiguous prefixes, invalid ids and unknown ids are JSON errors.
. "$(dirname "$0")/lib.sh"

# ---- format and order --------------------------------------------------------------

ids=""
for n in 1 2 3 4 5; do
	id=$(job_id "$(ae run --snapshot-after 0 -- true)")
	check_match "job id $n is a 26-char Crockford base32 ULID" "$id" "$ID_RE"
	ids="$ids$id
"
done
check_eq "ids increase in creation order (5 distinct, sorted)" \
	"$(printf '%s' "$ids" | LC_ALL=C sort -u | grep -c .) $(printf '%s' "$ids" | LC_ALL=C sort -u)" \
	"5 $(printf '%s' "$ids" | sed '/^$/d')"
check_eq "the job directory is named by the id" \
	"$(ls "$ROOT" | LC_ALL=C sort | tr '\n' ' ')" "$(printf '%s' "$ids" | tr '\n' ' ')"
now_s=$(date +%s)
first=$(printf '%s' "$ids" | head -n 1)
# the first 10 characters are the creation time in ms (base32)
ms=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	c=$(printf '%s' "$first" | cut -c "$i")
	v=$(printf '0123456789ABCDEFGHJKMNPQRSTVWXYZ' | awk -v c="$c" '{ print index($0, c) - 1 }')
	ms=$((ms * 32 + v))
done
check_between "the id's time part is the creation time (s)" $((ms / 1000)) \
	$((now_s - 60)) $((now_s + 1))

# ten runs at once: ten distinct ids, ten finished jobs
for n in 1 2 3 4 5 6 7 8 9 10; do
	ae run --wait -- true >"$TMP/par.$n" &
done
wait
check_eq "ten concurrent runs: ten distinct ids" \
	"$(cat "$TMP"/par.* | grep -o '"job_id":"[^"]*"' | sort -u | wc -l | tr -d ' ')" 10
check_eq "ten concurrent runs: ten exited jobs" \
	"$(cat "$TMP"/par.* | grep -c '"state":"exited"')" 10

# ---- prefixes ------------------------------------------------------------------------

# unique_prefix ID: the shortest prefix of ID naming only it.
unique_prefix() {
	_n=1
	while [ "$_n" -lt 26 ]; do
		_p=$(printf '%s' "$1" | cut -c "1-$_n")
		[ "$(ls "$ROOT" | grep -c "^$_p")" = 1 ] && break
		_n=$((_n + 1))
	done
	printf '%s' "$1" | cut -c "1-$_n"
}
id=$(job_id "$(ae run --wait -- sh -c 'echo prefixed; exit 6')")
p=$(unique_prefix "$id")
echo "# prefix $p of $id"
check "the prefix is shorter than the id" test "${#p}" -lt 26
out=$(ae status "$p")
check_eq "status by unique prefix" \
	"$(json_str job_id "$out") $(json_num exit_code "$out")" "$id 6"
check_eq "tail by unique prefix" \
	"$(json_str stdout_tail "$(ae tail "$p")") $(json_str job_id "$(ae tail "$p")")" \
	"prefixed $id"
check_eq "wait by unique prefix" \
	"$(json_num exit_code "$(ae wait "$p")") $(json_str job_id "$(ae wait "$p")")" \
	"6 $id"
run_id=$(start_job -- sleep 30)
rp=$(unique_prefix "$run_id")
out=$(ae kill --signal KILL "$rp")
check_eq "kill by unique prefix" \
	"$(json_str job_id "$out") $(json_str state "$out")" "$run_id killed"

common=$(printf '%s' "$id" | cut -c 1)
check_error "an ambiguous prefix: ambiguous_job_id" ambiguous_job_id \
	ae status "$common"
for cmd in tail wait kill; do
	check_error "$cmd with an ambiguous prefix: ambiguous_job_id" \
		ambiguous_job_id ae "$cmd" "$common"
done
check_eq "the ambiguous job was not killed" "$(state_of "$id")" exited

# ---- invalid and unknown ids -------------------------------------------------------------

long=$(printf '%065d' 0)
for bad in 'a/b' '..' '../x' "../$(basename "$ROOT")" 'a b' '.' "$long" \
	'A*'; do
	check_error "status '$bad': invalid_job_id" invalid_job_id \
		ae status -- "$bad"
done
for cmd in tail wait kill; do
	check_error "$cmd '../x': invalid_job_id" invalid_job_id \
		ae "$cmd" -- "../x"
done
check_error "a 64-char id is valid but unknown: job_not_found" job_not_found \
	ae status "$(printf '%064d' 0)"
check_error "an unknown valid id: job_not_found" job_not_found \
	ae status 7ZZZZZZZZZZZZZZZZZZZZZZZZZ
check_error "an unknown prefix: job_not_found" job_not_found ae status 7Z
check_contains "job_not_found names the id" "$(json_text message "$OUT")" 7Z

# ---- short ids ---------------------------------------------------------------------------

mkdir -p "$TMP/short"
capture ae run --snapshot-after 0 -- true
sid_job=$(job_id "$OUT")
printf '%s\n' "$OUT" >"$TMP/short/run"
short=$(json_str short_job_id "$OUT")
check_eq "run answers short_job_id: the last 6 characters of job_id" \
	"$short" "$(printf '%s' "$sid_job" | tail -c 6)"
capture ae status "$short"
printf '%s\n' "$OUT" >"$TMP/short/status"
check_eq "status SHORT_ID finds the job" "$(json_str job_id "$OUT")" "$sid_job"
check_eq "... and says its short id" "$(json_str short_job_id "$OUT")" "$short"
capture ae status "$(printf '%s' "$short" | tr 'A-Z' 'a-z')"
check_eq "... in any case" "$(json_str job_id "$OUT")" "$sid_job"
capture ae wait "$(printf '%s' "$sid_job" | tail -c 4)"
check_eq "wait with the last 4 characters finds it too" "$(json_str job_id "$OUT")" "$sid_job"
for cmd in tail kill log; do
	capture ae "$cmd" "$short"
	check_eq "$cmd SHORT_ID: ok" "$RC $(json_str job_id "$OUT")" "0 $sid_job"
done
capture ae list
printf '%s\n' "$OUT" >"$TMP/short/list"
check_match "list entries carry short_job_id" "$OUT" \
	"\"job_id\":\"$sid_job\"[^}]*}*,\"short_job_id\":\"$short\"}"
check_error "3 characters are not a short id: job_not_found" job_not_found \
	ae status "$(printf '%s' "$sid_job" | tail -c 3)"
# a prefix is still a prefix: the id's first characters win over a short id
check_eq "a prefix of the id still works" \
	"$(json_str job_id "$(ae status "$(printf '%s' "$sid_job" | cut -c 1-20)")")" "$sid_job"

# ambiguous_job_id lists the candidates (at most 20) in error.details
capture ae status "$common"
printf '%s\n' "$OUT" >"$TMP/short/error.ambiguous"
check_contains "ambiguous_job_id: error.details lists the candidates" "$OUT" \
	'"details":{"candidates":["'
check_contains "... with the count and truncated false" "$OUT" '"truncated":false}'
i=0
while [ $i -lt 22 ]; do ae create -- true >/dev/null; i=$((i + 1)); done
capture ae status "$common"
printf '%s\n' "$OUT" >"$TMP/short/error.many"
check_contains "over 20 candidates: truncated true" "$OUT" '"truncated":true}'
check_eq "... 20 listed" \
	"$(printf '%s' "$OUT" | grep -o '"candidates":\[[^]]*\]' | grep -o '"[0-9A-Z]\{26\}"' | wc -l | tr -d ' ')" 20
check_schema "the answers with short ids match the schema" - "$TMP/short/run" \
	"$TMP/short/status" "$TMP/short/list" "$TMP/short/error.ambiguous" \
	"$TMP/short/error.many"
check_schema "... and their own definitions" run "$TMP/short/run"
check_schema "... (status)" status "$TMP/short/status"
check_schema "... (errors)" error "$TMP/short/error.ambiguous" "$TMP/short/error.many"
