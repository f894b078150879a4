#!/usr/bin/env bash
# Fails when a C++ file of the project does not follow .clang-format (`make format` fixes it).
# The files are found on disk, not with git, so the check runs in any copy of the tree.
set -euo pipefail
root=${1:?usage: clang_format_check.sh SOURCE_DIR}
cd "$root"
mapfile -t files < <(find include src server cli wasm tests bench examples integrations \
  \( -name node_modules -o -name 'build*' \) -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
[ ${#files[@]} -gt 50 ] || { echo "clang-format check: only ${#files[@]} files found in $root" >&2; exit 1; }
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format check: ${#files[@]} files follow .clang-format"
