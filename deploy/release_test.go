package deploy_test

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// releaseCmds are the binaries every archive carries.
var releaseCmds = []string{"offsetlag-exporter", "factor-worker", "offsetlag-demo", "offsetlag-cloudwatch"}

// releaseConfigs are the example configurations every archive carries.
var releaseConfigs = []string{"configs/exporter.yaml", "configs/factor-worker.yaml"}

// TestReleaseArchive runs scripts/release.sh (what `make release` runs) for
// this machine's target only (cross-building all four takes minutes on 2
// cores; `make release` builds them all), checks SHA256SUMS, unpacks the
// archive and runs every binary's --version: version, revision, branch,
// build date and user must be the stamped ones.
func TestReleaseArchive(t *testing.T) {
	testenv.SkipShort(t, "builds every binary")
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("release targets are linux and darwin")
	}
	target := runtime.GOOS + "/" + runtime.GOARCH
	out := t.TempDir()
	const (
		ver  = "v9.8.7-test"
		rev  = "abc1234"
		date = "20261130-12:34:56"
		user = "releaser@ci"
	)
	cmd := exec.Command("bash", "../scripts/release.sh")
	cmd.Env = append(os.Environ(), "TARGETS="+target, "OUT="+out, "VERSION="+ver, "REVISION="+rev,
		"BRANCH=release-test", "BUILD_DATE="+date, "BUILD_USER="+user)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, b)
	}
	name := "offsetlag-" + ver + "." + strings.ReplaceAll(target, "/", "-")
	archive := filepath.Join(out, name+".tar.gz")

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if want := hex.EncodeToString(sum[:]) + "  " + name + ".tar.gz\n"; string(sums) != want {
		t.Fatalf("SHA256SUMS = %q, want %q", sums, want)
	}
	t.Logf("%s: %d bytes", filepath.Base(archive), len(raw))

	// Unpack: every entry under name/, owned by root.
	dir := t.TempDir()
	files := map[string]bool{}
	untar(t, archive, dir, true, func(h *tar.Header) {
		if !strings.HasPrefix(h.Name, name+"/") || strings.Contains(h.Name, "..") {
			t.Fatalf("archive entry %q outside %s/", h.Name, name)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want 0:0", h.Name, h.Uid, h.Gid)
		}
		if h.Typeflag != tar.TypeDir {
			files[strings.TrimPrefix(h.Name, name+"/")] = true
		}
	})
	for _, want := range append([]string{"README.md"}, append(releaseConfigs, releaseCmds...)...) {
		if !files[want] {
			t.Errorf("archive lacks %s (has %v)", want, files)
		}
	}
	// The example configurations are the repository's, which their tests
	// check against --help (configs/exporter.yaml: internal/appconfig,
	// configs/factor-worker.yaml: cmd/factor-worker).
	for _, c := range releaseConfigs {
		shipped, err1 := os.ReadFile(filepath.Join(dir, name, c))
		repo, err2 := os.ReadFile(filepath.Join("..", c))
		if err1 != nil || err2 != nil || string(shipped) != string(repo) {
			t.Errorf("%s in the archive differs from the repository's (%v, %v)", c, err1, err2)
		}
	}
	for _, c := range releaseCmds {
		b, err := exec.Command(filepath.Join(dir, name, c), "--version").CombinedOutput()
		if err != nil {
			t.Errorf("%s --version: %v\n%s", c, err, b)
			continue
		}
		v := string(b)
		for _, want := range []string{c + ", version " + ver, "branch: release-test", "revision: " + rev, "build user:       " + user, "build date:       " + date} {
			if !strings.Contains(v, want) {
				t.Errorf("%s --version lacks %q:\n%s", c, want, v)
			}
		}
		if c == "offsetlag-exporter" {
			t.Logf("%s --version:\n%s", c, v)
		}
	}
}
