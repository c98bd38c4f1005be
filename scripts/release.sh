#!/usr/bin/env bash
# make release: cross-builds every binary for each target into
# dist/offsetlag-<version>.<os>-<arch>.tar.gz (binaries, README.md,
# configs/exporter.yaml, configs/factor-worker.yaml) and writes
# dist/SHA256SUMS. Version, revision,
# branch, build date and user are stamped into prometheus/common/version,
# so `<binary> --version` shows them.
#
#   scripts/release.sh                          # linux/darwin x amd64/arm64
#   TARGETS=linux/amd64 OUT=/tmp/d scripts/release.sh
#   VERSION=1.2.3 scripts/release.sh            # default: git describe
#
# Archives are reproducible for a given commit and BUILD_DATE (sorted
# entries, fixed owner and mtime, gzip -n).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

GO="${GO:-go}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
REVISION="${REVISION:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
BRANCH="${BRANCH:-$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)}"
BUILD_DATE="${BUILD_DATE:-$(date -u +%Y%m%d-%H:%M:%S)}"
BUILD_USER="${BUILD_USER:-$(id -un 2>/dev/null || echo unknown)@$(hostname 2>/dev/null || echo unknown)}"
TARGETS="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
CMDS="${CMDS:-offsetlag-exporter factor-worker offsetlag-demo offsetlag-cloudwatch}"
OUT="${OUT:-dist}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=$VERSION -X $pkg.Revision=$REVISION -X $pkg.Branch=$BRANCH -X $pkg.BuildDate=$BUILD_DATE -X $pkg.BuildUser=$BUILD_USER"
# mtime of every archive entry: the commit's time (reproducible), else now.
mtime="@$(git log -1 --format=%ct 2>/dev/null || date +%s)"

archives=()
for target in $TARGETS; do
  goos="${target%/*}" goarch="${target#*/}"
  name="offsetlag-$VERSION.$goos-$goarch"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/$name"
  start=$(date +%s)
  for c in $CMDS; do
    echo "release: $goos/$goarch $c" >&2
    CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" "$GO" build -trimpath -ldflags "$ldflags" -o "$stage/$name/$c" "./cmd/$c"
  done
  cp README.md "$stage/$name/"
  mkdir -p "$stage/$name/configs" && cp configs/exporter.yaml configs/factor-worker.yaml "$stage/$name/configs/"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C "$stage" -cf - "$name" | gzip -n -9 > "$OUT/$name.tar.gz"
  rm -rf "$stage"
  archives+=("$name.tar.gz")
  echo "release: $OUT/$name.tar.gz ($(du -h "$OUT/$name.tar.gz" | cut -f1), $(( $(date +%s) - start ))s)" >&2
done
(cd "$OUT" && sha256sum "${archives[@]}" > SHA256SUMS)
echo "release: $OUT/SHA256SUMS" >&2
cat "$OUT/SHA256SUMS"
