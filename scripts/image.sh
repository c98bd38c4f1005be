#!/usr/bin/env bash
# make image: builds the offsetlag OCI image with buildah, from scratch (no
# base image pulled, no daemon), into an OCI archive:
#   /usr/local/bin/{offsetlag-exporter,factor-worker,offsetlag-demo,offsetlag-cloudwatch}
#                      static binaries (CGO off), version/revision/build date stamped
#   /etc/ssl/certs/ca-certificates.crt   the build machine's CA bundle (Debian ca-certificates)
#   /etc/passwd, /etc/group              root and nonroot (65532), as distroless
#   /home/nonroot (65532, the working directory), /tmp (1777)
# Config: USER 65532:65532, ENTRYPOINT offsetlag-exporter, EXPOSE 9745/tcp, OCI
# labels org.opencontainers.image.{version,revision,created,source,title}.
# The Dockerfile builds the same image with Docker (distroless base).
#
#   scripts/image.sh                         # dist/offsetlag-image-<version>.<arch>.oci.tar
#   OUT=/tmp/x VERSION=1.2.3 scripts/image.sh
#   podman load < dist/offsetlag-image-*.oci.tar; skopeo copy oci-archive:... docker://...
#
# buildah runs with a private storage root under a temp dir, the vfs driver
# and chroot isolation (no overlayfs or user namespaces needed: works as
# root in containers and on CI machines). Needs buildah (Debian package).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

command -v buildah >/dev/null || { echo "image: buildah not found (apt-get install buildah, or scripts/ci-deps.sh)" >&2; exit 1; }
GO="${GO:-go}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
REVISION="${REVISION:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
BRANCH="${BRANCH:-$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)}"
BUILD_DATE="${BUILD_DATE:-$(date -u +%Y%m%d-%H:%M:%S)}"
BUILD_USER="${BUILD_USER:-$(id -un 2>/dev/null || echo unknown)@$(hostname 2>/dev/null || echo unknown)}"
GOARCH="${GOARCH:-$("$GO" env GOARCH)}"
CMDS="offsetlag-exporter factor-worker offsetlag-demo offsetlag-cloudwatch"
OUT="${OUT:-dist}"
CA="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[[ -s "$CA" ]] || { echo "image: no CA bundle at $CA (apt-get install ca-certificates)" >&2; exit 1; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
archive="$OUT/offsetlag-image-$VERSION.linux-$GOARCH.oci.tar"
start=$(date +%s)
log() { echo "image: $* ($(( $(date +%s) - start ))s)" >&2; }

work="$(mktemp -d)"
ctr=""
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
cleanup() {
  if [[ -n "$ctr" ]]; then "${B[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
  # vfs layers are plain directories: remove them with the storage.
  rm -rf "$work" 2>/dev/null || { chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; }
}
trap cleanup EXIT

pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=$VERSION -X $pkg.Revision=$REVISION -X $pkg.Branch=$BRANCH -X $pkg.BuildDate=$BUILD_DATE -X $pkg.BuildUser=$BUILD_USER"
mkdir -p "$work/bin"
for c in $CMDS; do
  log "go build $c (linux/$GOARCH)"
  CGO_ENABLED=0 GOOS=linux GOARCH="$GOARCH" "$GO" build -trimpath -ldflags "$ldflags" -o "$work/bin/$c" "./cmd/$c"
done

# The files distroless/static:nonroot would bring.
mkdir -p "$work/etc"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$work/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$work/etc/group"
mkdir -p "$work/home-nonroot" "$work/tmp-dir"

log "buildah from scratch"
ctr="$("${B[@]}" from --isolation chroot scratch)"
"${B[@]}" copy --chmod 0755 "$ctr" "$work/bin/" /usr/local/bin/ >/dev/null
"${B[@]}" copy --chmod 0644 "$ctr" "$CA" /etc/ssl/certs/ca-certificates.crt >/dev/null
"${B[@]}" copy --chmod 0644 "$ctr" "$work/etc/passwd" /etc/passwd >/dev/null
"${B[@]}" copy --chmod 0644 "$ctr" "$work/etc/group" /etc/group >/dev/null
"${B[@]}" copy --chown 65532:65532 --chmod 0755 "$ctr" "$work/home-nonroot" /home/nonroot >/dev/null
"${B[@]}" copy --chmod 1777 "$ctr" "$work/tmp-dir" /tmp >/dev/null
"${B[@]}" config \
  --user 65532:65532 \
  --workingdir /home/nonroot \
  --entrypoint '["/usr/local/bin/offsetlag-exporter"]' \
  --cmd '' \
  --port 9745/tcp \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --os linux --arch "$GOARCH" \
  --label org.opencontainers.image.title=offsetlag \
  --label org.opencontainers.image.version="$VERSION" \
  --label org.opencontainers.image.revision="$REVISION" \
  --label org.opencontainers.image.created="$BUILD_DATE" \
  --label org.opencontainers.image.source=https://github.com/offsetlag/offsetlag \
  "$ctr"
log "buildah commit"
rm -f "$archive"
"${B[@]}" commit --quiet --format oci --rm "$ctr" "oci-archive:$archive:offsetlag:$VERSION" >/dev/null
ctr=""
log "$archive ($(du -h "$archive" | cut -f1))"
echo "$archive"
