#!/bin/sh
# Tags: --tag on run and create (dedup, validation), tag set (replace, clear,
# other keys kept), list --tag (exact, ns.*, AND, with --state and the cwd
# filter), and 50 concurrent tag sets that never corrupt meta.json.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/d1" "$TMP/d2"

# sorted_ids JSON: the job ids of a list answer, sorted, space-separated.
sorted_ids() {
	printf '%s\n' "$1" | grep -o '"job_id":"[^"]*"' | cut -d'"' -f4 | sort |
		tr '\n' ' '
}
# sorted LIST...: the words sorted, space-separated.
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
# no_dotfiles DIR: DIR holds no file whose name starts with a dot.
no_dotfiles() {
	for _f in "$1"/.[!.]* "$1"/..?*; do
		[ -e "$_f" ] && return 1
	done
	return 0
}
# meta_tags ID: the tags array of meta.json, flattened.
meta_tags() {
	json_flat "$ROOT/$1/meta.json" | grep -o '"tags": *\[[^]]*\]'
}
# meta_without_tags ID: meta.json flattened, its tags removed.
meta_without_tags() {
	json_flat "$ROOT/$1/meta.json" | sed 's/"tags": *\[[^]]*\],\{0,1\}//'
}

# ---- --tag on run and create -------------------------------------------------------

out=$(ae run --snapshot-after 0 --tag a --tag b --tag a --tag c --tag b -- true)
id=$(job_id "$out")
check_contains "run --tag a b a c b: deduplicated, first order kept" "$out" \
	'"tags":["a","b","c"]'
check_contains "... and so in meta.json" "$(meta_tags "$id")" \
	'"tags": ["a","b","c"]'
check_contains "... and in status" "$(ae status "$id")" '"tags":["a","b","c"]'
out=$(ae create --tag x.y --tag x.y --tag Z-9 -- true)
check_contains "create --tag: deduplicated" "$out" '"tags":["x.y","Z-9"]'
check_contains "start answers the created job's tags" \
	"$(ae start --wait "$(job_id "$out")")" '"tags":["x.y","Z-9"]'

for bad in "" "a..b" ".a" "a." "a b" "a_b" "a*" "ns.*" "é"; do
	check_usage_error "run --tag '$bad': usage error" ae run --tag "$bad" -- true
	check_usage_error "create --tag '$bad': usage error" \
		ae create --tag "$bad" -- true
done
check_eq "no job was created by the invalid tags" \
	"$(ae list --all | grep -o '"job_id":' | wc -l | tr -d ' ')" 2

# ---- tag set ----------------------------------------------------------------------------

id=$(job_id "$(ae run --wait --tag old --meta k=v -- true)")
before=$(meta_without_tags "$id")
capture ae tag set "$id" --tag x --tag y
check_eq "tag set: exit 0, one line" "$RC $OUT_LINES" "0 1"
check_eq "tag set: the answer" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"tag_set","job_id":"'"$id"'","tags":["x","y"]}'
check_contains "tag set replaces the tags in meta.json" "$(meta_tags "$id")" \
	'"tags": ["x","y"]'
check_eq "tag set keeps every other key of meta.json" \
	"$(meta_without_tags "$id")" "$before"
check_contains "status shows the new tags" "$(ae status "$id")" \
	'"tags":["x","y"]'
out=$(ae tag set "$id" --tag=p --tag q --tag p)
check_contains "tag set deduplicates (and takes --tag=T)" "$out" \
	'"tags":["p","q"]'
out=$(ae tag set "$id")
check_contains "tag set without --tag clears" "$out" '"tags":[]'
check_contains "... in meta.json too" "$(meta_tags "$id")" '"tags": []'
check_eq "... other keys still kept" "$(meta_without_tags "$id")" "$before"
ae tag set "$id" --tag keep >/dev/null
check_usage_error "tag set with an invalid tag: usage error" \
	ae tag set "$id" --tag a..b
check_contains "... and the tags are unchanged" "$(meta_tags "$id")" \
	'"tags": ["keep"]'
check_usage_error "tag set with an 'ns.*' tag: usage error" \
	ae tag set "$id" --tag 'ns.*'
check_error "tag set of an unknown job: job_not_found" job_not_found \
	ae tag set 01ZZZZZZZZZZZZZZZZZZZZZZZZ --tag x
check_usage_error "tag alone: usage error" ae tag
check_usage_error "tag bogus: usage error" ae tag bogus
check_usage_error "tag set without an id: usage error" ae tag set

# ---- list --tag ------------------------------------------------------------------------

j1=$(cd "$TMP/d1" && job_id "$(ae run --wait --tag ns --tag build -- true)")
j2=$(cd "$TMP/d1" && start_job --tag ns.x.y --tag build -- sleep 30)
j3=$(cd "$TMP/d2" && job_id "$(ae run --wait --tag nsx --tag build -- true)")
j4=$(cd "$TMP/d2" && job_id "$(ae run --wait --tag ns.a -- true)")
j5=$(cd "$TMP/d1" && job_id "$(ae run --wait --tag other.ns -- true)")
j6=$(cd "$TMP/d1" && job_id "$(ae run --wait --tag NS -- true)")

check_eq "list --tag ns: exact match only" \
	"$(sorted_ids "$(ae list --all --tag ns)")" "$(sorted "$j1")"
check_eq "list --tag 'ns.*': ns and ns.anything, not nsx or other.ns" \
	"$(sorted_ids "$(ae list --all --tag 'ns.*')")" "$(sorted "$j1" "$j2" "$j4")"
check_eq "list --tag 'ns.x.*': a deeper namespace" \
	"$(sorted_ids "$(ae list --all --tag 'ns.x.*')")" "$(sorted "$j2")"
check_eq "list --tag nsx" \
	"$(sorted_ids "$(ae list --all --tag nsx)")" "$(sorted "$j3")"
check_eq "list --tag is case-sensitive" \
	"$(sorted_ids "$(ae list --all --tag NS)")" "$(sorted "$j6")"
check_eq "several --tag are ANDed" \
	"$(sorted_ids "$(ae list --all --tag 'ns.*' --tag build)")" \
	"$(sorted "$j1" "$j2")"
check_eq "--tag build --tag nope: none" \
	"$(sorted_ids "$(ae list --all --tag build --tag nope)")" ""
check_eq "--tag with --state running" \
	"$(sorted_ids "$(ae list --all --tag 'ns.*' --state running)")" \
	"$(sorted "$j2")"
check_eq "--tag with --state exited" \
	"$(sorted_ids "$(ae list --all --tag build --state exited)")" \
	"$(sorted "$j1" "$j3")"
check_eq "--tag with the default cwd filter" \
	"$(sorted_ids "$(cd "$TMP/d1" && ae list --tag 'ns.*')")" \
	"$(sorted "$j1" "$j2")"
check_eq "--tag with --cwd" \
	"$(sorted_ids "$(ae list --cwd "$TMP/d2" --tag 'ns.*')")" "$(sorted "$j4")"
check_eq "list --tag follows tag set" \
	"$(ae tag set "$j5" --tag ns.late >/dev/null
		sorted_ids "$(ae list --all --tag 'ns.*')")" \
	"$(sorted "$j1" "$j2" "$j4" "$j5")"
for bad in 'a..b' '*' '' 'ns.*.*' 'a b' '.*'; do
	check_usage_error "list --tag '$bad': usage error" ae list --all --tag "$bad"
done
ae kill --signal KILL "$j2" >/dev/null

# ---- 50 concurrent tag sets ------------------------------------------------------------

id=$(job_id "$(ae run --wait --tag start -- true)")
before=$(meta_without_tags "$id")
# readers: status and list in a loop until the writers are done
reader() {
	while [ ! -e "$TMP/writers.done" ]; do
		"$AE_BIN" --root "$ROOT" status "$id" >>"$TMP/reads.$1"
		"$AE_BIN" --root "$ROOT" list --all >>"$TMP/reads.$1"
	done
}
reader 1 &
r1=$!
reader 2 &
r2=$!
i=0
pids=""
while [ $i -lt 50 ]; do
	"$AE_BIN" --root "$ROOT" tag set "$id" --tag "w$i" --tag "x$i" --tag "y$i" \
		>"$TMP/set.$i.out" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
: >"$TMP/writers.done"
wait "$r1" "$r2"
check_eq "50 concurrent tag sets all answer ok" \
	"$(cat "$TMP"/set.*.out | grep -c '"ok":true')" 50
check_eq "concurrent readers never saw an error" \
	"$(cat "$TMP"/reads.* | grep -c '"ok":false')" 0
check "concurrent readers did read" test -s "$TMP/reads.1"
check "meta.json is a valid meta record after the storm" \
	"$SCHEMA_CHECK" "$AE_SCHEMA" meta_record "$ROOT/$id/meta.json"
tags=$(meta_tags "$id")
n=$(printf '%s\n' "$tags" | sed -n 's/^"tags": \["w\([0-9]*\)","x\1","y\1"\]$/\1/p')
check_match "meta.json ends with exactly one whole tag set" "$n" '^[0-9]+$'
[ -n "$n" ] || echo "#   tags: $tags"
check_eq "... and kept every other key" "$(meta_without_tags "$id")" "$before"
check_contains "status agrees with the last tag set" "$(ae status "$id")" \
	"\"tags\":[\"w$n\",\"x$n\",\"y$n\"]"
check "no temp files are left in the job directory" no_dotfiles "$ROOT/$id"

# ---- tags and the job's life -----------------------------------------------------------

id=$(job_id "$(ae create --tag before -- true)")
ae tag set "$id" --tag after >/dev/null
check_contains "start answers the tags set after create" \
	"$(ae start --wait "$id")" '"tags":["after"]'
id=$(start_job --tag first -- sleep 30)
ae tag set "$id" --tag while-running >/dev/null
ae kill --signal KILL "$id" >/dev/null
ae wait --timeout-ms 5000 "$id" >/dev/null
check_contains "tags set while the job ran survive its end" \
	"$(ae status "$id")" '"tags":["while-running"]'
