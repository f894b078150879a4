#!/usr/bin/env bash
# `php -l` on every PHP file of the WordPress plugin and of its test.
# Usage: php_lint.sh REPOSITORY_ROOT
set -u
root=${1:?usage: php_lint.sh REPOSITORY_ROOT}
failed=0
count=0
while IFS= read -r -d '' file; do
  count=$((count + 1))
  php -l "$file" >/dev/null || { echo "FAIL: $file"; failed=$((failed + 1)); }
done < <(find "$root/integrations/wordpress" "$root/tests/wordpress" -name '*.php' -print0)
echo "php -l: $count files, $failed with errors"
[ "$count" -gt 0 ] && [ "$failed" -eq 0 ]
