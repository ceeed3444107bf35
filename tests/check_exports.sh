#!/usr/bin/env bash
# The exported-symbols test: libtickforge.so exports exactly the functions the header declares with
# TF_API, and the symbols test program (test_capi_symbols.c) references every one of them.
# Usage: check_exports.sh LIBRARY HEADER SYMBOLS_TEST_SOURCE
set -euo pipefail
lib=$1 header=$2 table=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: the first tf_NAME( on every line that starts with TF_API.
grep -E '^TF_API ' "$header" | grep -oE 'tf_[a-z0-9_]+\(' | head -n 1000 | tr -d '(' | sort -u >"$tmp/declared"
# Exported: every defined dynamic symbol of any kind except the absolute (version node) ones.
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u >"$tmp/exported"
# Referenced by the symbols test.
grep -oE '\btf_[a-z0-9_]+\b' "$table" | sort -u | comm -12 - "$tmp/declared" >"$tmp/referenced"

status=0
if [ ! -s "$tmp/declared" ]; then
  echo "no TF_API declarations found in $header"
  status=1
fi
if ! diff -u "$tmp/declared" "$tmp/exported" >"$tmp/diff1"; then
  echo "exported symbols differ from the header's TF_API functions (- declared only, + exported only):"
  cat "$tmp/diff1"
  status=1
fi
if ! diff -u "$tmp/declared" "$tmp/referenced" >"$tmp/diff2"; then
  echo "functions the symbols test does not reference (- missing):"
  cat "$tmp/diff2"
  status=1
fi
echo "declared $(wc -l <"$tmp/declared"), exported $(wc -l <"$tmp/exported"), referenced $(wc -l <"$tmp/referenced")"
exit $status
