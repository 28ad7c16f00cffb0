#!/usr/bin/env bash
# The release flow of the README, in a scratch copy: a changeset for @feed/core alone, then
# `changeset version`, must bump core (minor) and, as a patch, exactly the packages that depend on it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$tmp" 2>/dev/null || true
ln -s "$repo/node_modules" "$tmp/node_modules"
cd "$tmp"
# Only the changeset of this check: pending ones of real work would change the expected bumps.
find .changeset -name '*.md' ! -name README.md -delete
cat > .changeset/core-change.md <<'MD'
---
'@feed/core': minor
---

A change to core alone.
MD
node "$repo/node_modules/@changesets/cli/bin.js" version >/dev/null
version() { node -p "require('./$1/package.json').version"; }
expect() {
  local got
  got=$(version "$1")
  if [ "$got" != "$2" ]; then echo "release flow: $1 is $got, expected $2" >&2; exit 1; fi
  echo "  $1: $got"
}
was() { node -p "require('$repo/$1/package.json').version"; }
bump() { node -e "const [a,b,c]=process.argv[1].split('.').map(Number);console.log(process.argv[2]==='minor'?a+'.'+(b+1)+'.0':a+'.'+b+'.'+(c+1))" "$1" "$2"; }
expect packages/core "$(bump "$(was packages/core)" minor)"
for p in data-manager mock alpaca synth; do
  expect "packages/$p" "$(bump "$(was "packages/$p")" patch)"
done
expect apps/integration "$(was apps/integration)"
expect tooling/tsconfig "$(was tooling/tsconfig)"
test -f packages/core/CHANGELOG.md || { echo "release flow: no CHANGELOG.md for core" >&2; exit 1; }
echo "release flow: ok"
