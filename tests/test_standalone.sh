#!/usr/bin/env bash
# The repository must work on its own, without anything beside or above it:
# fails when a file of the repository names a path outside it (a sibling
# folder such as the one the design notes once came from, or an absolute path of one machine's home, root or
# work folder) or cites the design notes by their old, out-of-repository name
# DESIGN.md instead of docs/design.md. Prints every offending line.
#
# Usage: test_standalone.sh SOURCE_DIR      check the repository at SOURCE_DIR
#        test_standalone.sh --self-test     show that the check catches each pattern
#
# Files checked: in a git checkout, the tracked files and the untracked ones git
# does not ignore (a new file is checked before it is added); otherwise every
# file except build and output folders. Binary files are skipped.
set -uo pipefail

# One extended regular expression per forbidden kind of reference. An absolute
# path must start the word ("$corpus/work/x" is a relative path built in a script).
patterns=(
  '\.\./share[d]'  # written so that this file does not name the folder itself
  '(^|[^[:alnum:]_.)}/$-])/(work|root|home)/'
  'DESIGN\.md'
)
self=tests/test_standalone.sh

list_files() {  # relative paths of the files to check, one per line
  local root=$1
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
     [ "$(git -C "$root" rev-parse --show-toplevel)" = "$(cd "$root" && pwd -P)" ]; then
    git -C "$root" -c core.quotepath=off ls-files --cached --others --exclude-standard
  else
    (cd "$root" && find . \( -name .git -o -name '__pycache__' -o -path './build*' \
        -o -path './demo-output' -o -path './evaluation-output' \) -prune -o -type f -print | sed 's#^\./##')
  fi
}

check() {  # prints offending lines as FILE:LINE:TEXT; status 1 if there are any
  local root=$1 args=() pattern found
  for pattern in "${patterns[@]}"; do args+=(-e "$pattern"); done
  # Judged by what grep prints, not by its status: xargs may split the files
  # over several grep runs, and one run without a match must not hide another's.
  found=$(list_files "$root" | grep -vxF "$self" |
    (cd "$root" && xargs -r -d '\n' sh -c 'for f; do [ -f "$f" ] && printf "%s\n" "$f"; done' sh |
     xargs -r -d '\n' grep -IHnE "${args[@]}" --))
  [ -z "$found" ] && return 0
  printf '%s\n' "$found"
  return 1
}

self_test() {  # every pattern must be caught, and a clean tree must pass
  local dir status=0
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/docs" "$dir/tests"
  echo "see docs/design.md 1.4 and \$corpus/work/x (fine)" > "$dir/docs/clean.md"
  if ! check "$dir" >/dev/null; then echo "self-test: a clean tree was flagged" >&2; status=1; fi
  local bad
  for bad in 'read ../''shared/reference/x' 'data in /work/data' 'HOME=/root/x' 'cd /home/me/' 'see DESIGN.md 1.4'; do
    echo "$bad" > "$dir/tests/bad.txt"
    if check "$dir" >/dev/null; then echo "self-test: not caught: $bad" >&2; status=1; fi
  done
  [ $status -eq 0 ] && echo "self-test: every forbidden reference is caught"
  return $status
}

case "${1:-}" in
  --self-test) self_test; exit ;;
  ""|-h|--help) sed -n '2,13p' "$0"; exit 2 ;;
esac
root=$(cd "$1" && pwd -P) || exit 2
if check "$root"; then
  echo "no file names a path outside the repository"
else
  echo "the lines above name a path outside the repository (or DESIGN.md, now docs/design.md)" >&2
  exit 1
fi
