#!/usr/bin/env bash
# ansible-lint (production profile, ansible/.ansible-lint) over ansible/, for npm run lint.
# scripts/test-host.sh installs ansible-lint; a machine without it skips this step and says so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../ansible"
if ! command -v ansible-lint >/dev/null; then
  echo "lint: ansible-lint is not installed, ansible/ NOT checked (bash scripts/test-host.sh installs it)" >&2
  exit 0
fi
ansible-lint --nocolor -q -c .ansible-lint
