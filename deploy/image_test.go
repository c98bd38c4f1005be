package deploy_test

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// TestImage builds the OCI image with scripts/image.sh (what `make image`
// runs: buildah from scratch into an OCI archive), checks its config (user,
// entry point, port, labels) and files, unpacks its layers into a root file
// system and runs the entry point from it (chrooted into it when root) with
// --version. Without buildah it skips, except with CI=true, where it fails.
func TestImage(t *testing.T) {
	testenv.SkipShort(t, "builds every binary and an image")
	testenv.LookPath(t, "buildah", "scripts/ci-deps.sh installs it: Debian package buildah")
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux")
	}
	const (
		ver = "v9.8.7-image"
		rev = "def5678"
	)
	out := t.TempDir()
	cmd := exec.Command("bash", "../scripts/image.sh")
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION="+ver, "REVISION="+rev, "BUILD_DATE=20261130-01:02:03")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("image.sh: %v\n%s", err, b)
	}
	archive := filepath.Join(out, "offsetlag-image-"+ver+".linux-"+runtime.GOARCH+".oci.tar")
	st, err := os.Stat(archive)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	t.Logf("%s: %d bytes", filepath.Base(archive), st.Size())

	// The OCI layout: index.json -> manifest -> config and layers.
	layout := t.TempDir()
	untar(t, archive, layout, false, nil)
	blob := func(digest string) []byte {
		alg, hex, ok := strings.Cut(digest, ":")
		if !ok {
			t.Fatalf("digest %q", digest)
		}
		raw, err := os.ReadFile(filepath.Join(layout, "blobs", alg, hex))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	var index struct {
		Manifests []struct {
			MediaType   string            `json:"mediaType"`
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	readJSON(t, filepath.Join(layout, "index.json"), &index)
	if len(index.Manifests) != 1 || index.Manifests[0].MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Fatalf("index.json: %+v", index)
	}
	var manifest struct {
		Config struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &manifest); err != nil {
		t.Fatal(err)
	}
	var config struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			User         string              `json:"User"`
			Entrypoint   []string            `json:"Entrypoint"`
			Cmd          []string            `json:"Cmd"`
			ExposedPorts map[string]struct{} `json:"ExposedPorts"`
			WorkingDir   string              `json:"WorkingDir"`
			Labels       map[string]string   `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(blob(manifest.Config.Digest), &config); err != nil {
		t.Fatal(err)
	}
	c := config.Config
	if config.OS != "linux" || config.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", config.OS, config.Architecture)
	}
	if c.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532 (non-root)", c.User)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/usr/local/bin/offsetlag-exporter" {
		t.Errorf("Entrypoint %q", c.Entrypoint)
	}
	if _, ok := c.ExposedPorts["9745/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts %v, want 9745/tcp", c.ExposedPorts)
	}
	if c.Labels["org.opencontainers.image.version"] != ver || c.Labels["org.opencontainers.image.revision"] != rev {
		t.Errorf("Labels %v", c.Labels)
	}
	t.Logf("config: user %s, entrypoint %v, ports %v, labels %v", c.User, c.Entrypoint, c.ExposedPorts, c.Labels)

	// The root file system: every layer in order.
	rootfs := t.TempDir()
	for _, l := range manifest.Layers {
		p := filepath.Join(layout, "blobs", strings.Replace(l.Digest, ":", "/", 1))
		untar(t, p, rootfs, strings.HasSuffix(l.MediaType, "+gzip"), nil)
	}
	for _, f := range []string{"usr/local/bin/offsetlag-exporter", "usr/local/bin/factor-worker", "usr/local/bin/offsetlag-demo",
		"usr/local/bin/offsetlag-cloudwatch", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group", "home/nonroot"} {
		if _, err := os.Stat(filepath.Join(rootfs, f)); err != nil {
			t.Errorf("image lacks /%s", f)
		}
	}
	if pw, _ := os.ReadFile(filepath.Join(rootfs, "etc/passwd")); !strings.Contains(string(pw), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot 65532:\n%s", pw)
	}
	// Run the entry point from the image: chrooted when root (nothing from
	// the host is reachable then), else from the unpacked path.
	var run *exec.Cmd
	if os.Geteuid() == 0 {
		chroot, err := exec.LookPath("chroot")
		if err != nil {
			chroot = "/usr/sbin/chroot" // coreutils; root's PATH may lack sbin
		}
		run = exec.Command(chroot, "--userspec=65532:65532", rootfs, c.Entrypoint[0], "--version")
	} else {
		run = exec.Command(filepath.Join(rootfs, c.Entrypoint[0]), "--version")
	}
	vb, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", run.Args, err, vb)
	}
	for _, want := range []string{"offsetlag-exporter, version " + ver, "revision: " + rev, "build date:       20261130-01:02:03"} {
		if !strings.Contains(string(vb), want) {
			t.Errorf("entry point --version lacks %q:\n%s", want, vb)
		}
	}
	t.Logf("%v:\n%s", run.Args, vb)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// untar extracts a (gzip) tar archive into dir: regular files, directories
// and symlinks, refusing paths that leave dir. check, when not nil, sees
// every entry first.
func untar(t *testing.T, archive, dir string, gz bool, check func(*tar.Header)) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if check != nil {
			check(h)
		}
		name := filepath.Clean(strings.TrimPrefix(h.Name, "/"))
		if name == "." {
			continue
		}
		if strings.HasPrefix(name, "..") {
			t.Fatalf("%s: entry %q leaves the archive", archive, h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode)&0o7777|0o700); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			w, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, os.FileMode(h.Mode)&0o777)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, tr); err != nil {
				t.Fatal(err)
			}
			w.Close()
		case tar.TypeSymlink:
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.Symlink(h.Linkname, p)
		}
	}
}
