#!/bin/sh
# install-skills: the embedded skill (self), --global, local:DIR, the lock
# file (upsert, legacy map form, garbage), unknown schemes, missing sources,
# and a source that is the installed skill itself.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/home" "$TMP/work/mine"
HOME=$TMP/home
export HOME
cd "$TMP/work" || exit 1
work=$(pwd -P)
home=$(cd "$HOME" && pwd -P)

# lock_count NAME: how many entries the lock file has for NAME.
lock_count() {
	grep -c "\"name\": *\"$1\"" "${2:-$work/.agents/.skill-lock.json}" 2>/dev/null
}
# lock_flat: the lock file on one line.
lock_flat() { json_flat "$work/.agents/.skill-lock.json" 2>/dev/null; }
# front_matter FILE: the lines between the first two '---' lines (the first
# line must be '---').
front_matter() {
	awk 'NR == 1 { if ($0 != "---") exit; next } $0 == "---" { exit } { print }' "$1"
}

# ---- self -----------------------------------------------------------------------

capture "$AE_BIN" install-skills
check_eq "install-skills: exit 0, one line" "$RC $OUT_LINES" "0 1"
check_eq "install-skills: the answer" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"install_skills","skills":[{"name":"agent-exec","source_type":"self","path":"'"$work"'/.agents/skills/agent-exec"}],"global":false,"lock_file_path":"'"$work"'/.agents/.skill-lock.json"}'
skill=$work/.agents/skills/agent-exec/SKILL.md
check "SKILL.md is installed" test -f "$skill"
check_eq "SKILL.md starts with a --- front matter line" "$(head -n 1 "$skill")" \
	"---"
check_contains "the front matter names the skill" "$(front_matter "$skill")" \
	"name: agent-exec"
check_contains "the front matter has a description" "$(front_matter "$skill")" \
	"description:"
for word in "agent-exec run" "agent-exec wait" "agent-exec tail" \
	"--notify-command" "--callback-session"; do
	check_contains "SKILL.md mentions $word" "$(cat "$skill")" "$word"
done
lock=$(lock_flat)
case $lock in
'{"skills": [{"name": "agent-exec","source_type": "self","installed_at": "'*'","path": "'"$work"'/.agents/skills/agent-exec"}]}')
	ok "the lock file lists the skill: name, source_type, installed_at, path" ;;
*) not_ok "the lock file lists the skill: name, source_type, installed_at, path"
	echo "#   $lock" ;;
esac
check_match "the lock file's installed_at is a timestamp" \
	"$(json_str installed_at "$lock")" "$TS_RE"
check "nothing was installed under HOME" test ! -e "$HOME/.agents"

echo "local edit" >>"$skill"
out=$("$AE_BIN" install-skills)
check_eq "a second install-skills answers the same" "$(json_str path "$out")" \
	"$work/.agents/skills/agent-exec"
check_eq "a second install upserts: one lock entry" "$(lock_count agent-exec)" 1
check_lacks "a second install rewrites SKILL.md" "$(cat "$skill")" "local edit"
cd "$TMP" || exit 1
capture "$AE_BIN" --root "$TMP/ignored" install-skills --source self
cd "$TMP/work" || exit 1
check_eq "install-skills accepts --root and --source self" \
	"$RC $(json_bool ok "$OUT")" "0 true"
check "... installing into the current directory" \
	test -f "$TMP/.agents/skills/agent-exec/SKILL.md"

# ---- --global --------------------------------------------------------------------

out=$("$AE_BIN" install-skills --global)
check_eq "--global: global true" "$(json_bool global "$out")" true
check_eq "--global: installed under \$HOME/.agents" "$(json_str path "$out")" \
	"$home/.agents/skills/agent-exec"
check_eq "--global: the lock file under \$HOME/.agents" \
	"$(json_str lock_file_path "$out")" "$home/.agents/.skill-lock.json"
check "--global: SKILL.md is there" \
	test -f "$HOME/.agents/skills/agent-exec/SKILL.md"
check_eq "--global: its lock file has the skill" \
	"$(lock_count agent-exec "$HOME/.agents/.skill-lock.json")" 1

# ---- local:DIR ----------------------------------------------------------------------

printf -- '---\nname: mine\ndescription: mine\n---\nmy skill\n' >"$TMP/work/mine/SKILL.md"
capture "$AE_BIN" install-skills --source local:mine
check_eq "local:DIR: the answer" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"install_skills","skills":[{"name":"mine","source_type":"local:mine","path":"'"$work"'/.agents/skills/mine"}],"global":false,"lock_file_path":"'"$work"'/.agents/.skill-lock.json"}'
check_eq "local:DIR: the skill is installed at .agents/skills/<name>" \
	"$(tail -n 1 "$work/.agents/skills/mine/SKILL.md" 2>/dev/null)" \
	"my skill"
if [ -L "$work/.agents/skills/mine" ]; then
	check_eq "local:DIR: a symlink to the source folder" \
		"$(cd "$work/.agents/skills/mine" && pwd -P)" "$work/mine"
else
	check "local:DIR: a copy of the source folder" \
		cmp -s "$work/mine/SKILL.md" "$work/.agents/skills/mine/SKILL.md"
fi
check_eq "the lock file has both skills" \
	"$(lock_count agent-exec) $(lock_count mine)" "1 1"
check_contains "the lock entry keeps the source as given" "$(lock_flat)" \
	'"source_type": "local:mine"'
capture "$AE_BIN" install-skills --source local:mine
check_eq "installing the same local:DIR again succeeds" "$RC $(json_str name "$OUT")" \
	"0 mine"
check_eq "... and upserts: one lock entry" "$(lock_count mine)" 1
capture "$AE_BIN" install-skills --source "local:$TMP/work/mine/"
check_eq "local:DIR/ (absolute, trailing slash): named after the folder" \
	"$RC $(json_str name "$OUT")" "0 mine"
check_eq "... and keeps the source intact" "$(tail -n 1 "$work/mine/SKILL.md")" \
	"my skill"

# the installed skill is a link to the source: reinstalling from the link
# re-creates the same link and destroys nothing
capture "$AE_BIN" install-skills --source local:.agents/skills/mine
check_eq "local:<a link to the installed source>: reinstalled as mine" \
	"$RC $(json_str name "$OUT")" "0 mine"
check_eq "... the source folder is intact" \
	"$(tail -n 1 "$work/mine/SKILL.md" 2>/dev/null)" "my skill"
check_eq "... the installed skill is intact" \
	"$(tail -n 1 "$work/.agents/skills/mine/SKILL.md" 2>/dev/null)" "my skill"
capture "$AE_BIN" install-skills --source local:.agents/skills/agent-exec
check_eq "local:<the installed self skill>: exit 1, ok false" \
	"$RC $(json_bool ok "$OUT")" "1 false"
check_contains "... and its SKILL.md is intact" "$(cat "$skill" 2>/dev/null)" \
	"name: agent-exec"

# ---- the lock file's shapes -------------------------------------------------------

printf '{"skills":{"old":{"source_type":"self","installed_at":"x","path":"p"}}}\n' \
	>"$work/.agents/.skill-lock.json"
"$AE_BIN" install-skills >/dev/null
check_contains "a legacy map lock file is converted: old entry kept" \
	"$(lock_flat)" '{"name": "old","source_type": "self","installed_at": "x","path": "p"}'
check_eq "... with the new entry, in array form" \
	"$(lock_count old) $(lock_count agent-exec) $(lock_flat | cut -c1-12)" \
	'1 1 {"skills": ['

echo 'garbage {' >"$work/.agents/.skill-lock.json"
capture "$AE_BIN" install-skills
check_eq "a garbage lock file: install still works" "$RC" 0
case $(lock_flat) in
'{"skills": [{"name": "agent-exec",'*'}]}') ok "... and the lock file is replaced" ;;
*) not_ok "... and the lock file is replaced"; echo "#   $(lock_flat)" ;;
esac
check_eq "... with only the new entry" "$(lock_count agent-exec) $(lock_count old)" \
	"1 0"

# ---- errors -------------------------------------------------------------------------

check_error "--source git:x: unknown_source_scheme" unknown_source_scheme \
	"$AE_BIN" install-skills --source git:x
check_error "--source bogus: unknown_source_scheme" unknown_source_scheme \
	"$AE_BIN" install-skills --source bogus
capture "$AE_BIN" install-skills --source local:/nonexistent
check_eq "--source local:/nonexistent: exit 1, an error" \
	"$RC $(json_bool ok "$OUT") $(json_str type "$OUT")" "1 false error"
check "... nothing named nonexistent is installed" \
	test ! -e "$work/.agents/skills/nonexistent"
check_usage_error "install-skills --bogus: usage error" \
	"$AE_BIN" install-skills --bogus
check_usage_error "install-skills --global twice: usage error" \
	"$AE_BIN" install-skills --global --global

# ---- --claude: where Claude Code reads skills --------------------------------------

capture "$AE_BIN" install-skills --claude
check_eq "--claude: the answer" "$OUT" \
	'{"schema_version":"0.1","ok":true,"type":"install_skills","skills":[{"name":"agent-exec","source_type":"self","path":"'"$work"'/.claude/skills/agent-exec"}],"global":false,"claude":true,"lock_file_path":"'"$work"'/.claude/.skill-lock.json"}'
check "--claude: SKILL.md in .claude/skills/agent-exec" \
	cmp -s "$work/.claude/skills/agent-exec/SKILL.md" "$skill"
keep_answer install_skills
capture "$AE_BIN" install-skills --claude --global
check_eq "--claude --global: under \$HOME/.claude" "$(json_str path "$OUT")" \
	"$home/.claude/skills/agent-exec"
check "... SKILL.md there" test -f "$home/.claude/skills/agent-exec/SKILL.md"
keep_answer install_skills
capture "$AE_BIN" install-skills --claude --source "local:$TMP/work/mine"
check_eq "--claude --source local:DIR: linked into .claude/skills" \
	"$(json_str path "$OUT")" "$work/.claude/skills/mine"
check_schema "every --claude answer matches install_skills" install_skills \
	--lines "$TMP/answers.install_skills"
