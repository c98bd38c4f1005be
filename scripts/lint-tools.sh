#!/usr/bin/env bash
# Install the pinned lint tools (staticcheck, gocognit) with `go install pkg@version` into a cached GOBIN,
# one directory per tool and version: $OFFSETLAG_TOOLS_DIR (default <repo>/.cache/tools)/<name>@<version>/<name>.
# Quick when they are there already. Prints the tools directory on the last line of stdout.
# Called by scripts/ci-deps.sh (make deps) and by `make lint` (which then finds them installed).
#
# Usage: scripts/lint-tools.sh            install what is missing, print the tools directory
#        scripts/lint-tools.sh path NAME  print the path of one tool's binary (installs it when missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
tools="${OFFSETLAG_TOOLS_DIR:-$repo/.cache/tools}"
GO="${GO:-go}"

# name module-path version: change a version here and nowhere else.
# staticcheck v0.8.2 is the newest honnef.co/go/tools that the module proxy served here (2026.1.2 release);
# gocognit v1.3.0 is the newest github.com/uudashr/gocognit (`go list -m -versions`).
TOOLS=(
  "staticcheck honnef.co/go/tools/cmd/staticcheck v0.8.2"
  "gocognit github.com/uudashr/gocognit/cmd/gocognit v1.3.0"
)

install_one() {
  local name="$1" pkg="$2" ver="$3"
  local dir="$tools/$name@$ver"
  if [[ ! -x "$dir/$name" ]]; then
    echo "lint-tools: go install $pkg@$ver" >&2
    mkdir -p "$dir"
    # GOFLAGS from the caller (e.g. -mod=...) would not apply to a tool outside this module.
    GOBIN="$dir" GOFLAGS= "$GO" install "$pkg@$ver"
  fi
  printf '%s\n' "$dir/$name"
}

if [[ "${1:-}" == path ]]; then
  want="${2:?usage: lint-tools.sh path NAME}"
  for t in "${TOOLS[@]}"; do
    read -r name pkg ver <<<"$t"
    if [[ "$name" == "$want" ]]; then install_one "$name" "$pkg" "$ver"; exit 0; fi
  done
  echo "lint-tools: unknown tool $want" >&2
  exit 2
fi

for t in "${TOOLS[@]}"; do
  read -r name pkg ver <<<"$t"
  install_one "$name" "$pkg" "$ver" >/dev/null
done
printf '%s\n' "$tools"
