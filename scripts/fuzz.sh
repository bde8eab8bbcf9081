#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module, one at a time (go test allows one target
# per package per run), each for $FUZZTIME (default 15s).
set -euo pipefail
FUZZTIME="${FUZZTIME:-15s}"
cd "$(dirname "$0")/.."
found=0
while IFS= read -r pkg; do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		found=1
		echo "fuzz: $pkg $target for $FUZZTIME"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
	done
done < <(go list ./...)
[[ $found -eq 1 ]] || echo "fuzz: no fuzz targets found"
