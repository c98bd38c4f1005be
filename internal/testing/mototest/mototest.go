package mototest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// EnvEndpoint names an already running moto server to use instead of starting one.
const EnvEndpoint = "OFFSETLAG_TEST_MOTO_ENDPOINT"

// Region and static credentials that moto accepts.
const (
	Region    = "us-east-1"
	AccessKey = "testing"
	SecretKey = "testing"
)

type envError struct{ err error }

func (e envError) Error() string { return e.err.Error() }

func bail(t testing.TB, err error) {
	t.Helper()
	var ee envError
	if errors.As(err, &ee) && !testenv.InCI() {
		t.Skipf("mototest: moto server not available (set CI=true to make this fatal): %v", err)
	}
	t.Fatalf("mototest: %v", err)
}

// Start returns the endpoint ("http://127.0.0.1:PORT") of a moto server: OFFSETLAG_TEST_MOTO_ENDPOINT
// if set, else a fresh server started for this test and stopped at t.Cleanup.
func Start(t testing.TB) string {
	t.Helper()
	if ep := strings.TrimRight(os.Getenv(EnvEndpoint), "/"); ep != "" {
		if err := waitAnswers(ep, 5*time.Second, nil); err != nil {
			bail(t, envError{fmt.Errorf("%s=%s does not answer: %v", EnvEndpoint, ep, err)})
		}
		return ep
	}
	dir := t.TempDir()
	s, err := start(dir)
	if err != nil {
		bail(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mototest: tail of %s:\n%s", s.logPath, testenv.TailFile(s.logPath, 40))
		}
		s.stop()
	})
	return s.endpoint
}

// Reset drops all state of the moto server (POST /moto-api/reset).
func Reset(endpoint string) error {
	resp, err := http.Post(strings.TrimRight(endpoint, "/")+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: HTTP %s", resp.Status)
	}
	return nil
}

// AWSConfig is an aws.Config for moto: static credentials, region us-east-1, BaseEndpoint = endpoint.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// JSONProtocol sets a CloudWatch client to the AWS JSON 1.0 protocol (moto does not speak the SDK's
// default Smithy RPC v2 CBOR): cloudwatch.NewFromConfig(cfg, mototest.JSONProtocol).
func JSONProtocol(o *cloudwatch.Options) {
	o.Protocol = awsjson.New10(cwschemas.GraniteServiceVersion20100801)
}

// CloudWatch returns a CloudWatch client for moto on the AWS JSON 1.0 protocol.
func CloudWatch(endpoint string, optFns ...func(*cloudwatch.Options)) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(AWSConfig(endpoint), append([]func(*cloudwatch.Options){JSONProtocol}, optFns...)...)
}

type server struct {
	endpoint string
	logPath  string
	cmd      *exec.Cmd
	done     chan struct{}
}

func start(dir string) (*server, error) {
	motoServer, err := ensureVenv()
	if err != nil {
		return nil, err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		endpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		logPath:  filepath.Join(dir, "moto.log"),
		done:     make(chan struct{}),
	}
	out, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	s.cmd = exec.Command(motoServer, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	s.cmd.Stdout, s.cmd.Stderr, s.cmd.Dir = out, out, dir
	s.cmd.Env = serverEnv(os.Environ())
	testenv.SetProcAttrs(s.cmd)
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // Pdeathsig is tied to this thread: keep it alive as long as the child
		if err := s.cmd.Start(); err != nil {
			close(s.done)
			started <- err
			return
		}
		started <- nil
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, envError{fmt.Errorf("start %s: %w", motoServer, err)}
	}
	if err := waitAnswers(s.endpoint, 60*time.Second, s.done); err != nil {
		s.stop()
		return nil, fmt.Errorf("moto_server on %s: %v; log:\n%s", s.endpoint, err, testenv.TailFile(s.logPath, 30))
	}
	return s, nil
}

// serverEnv is the moto server's environment: the caller's without any
// AWS_* variable (a profile, region or endpoint of the developer's must not
// change moto's answers: AWS_PROFILE of a missing profile makes every
// request fail), with moto's test region and credentials.
func serverEnv(environ []string) []string {
	out := make([]string, 0, len(environ)+3)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return append(out, "AWS_DEFAULT_REGION="+Region, "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey)
}

func (s *server) stop() {
	_ = testenv.SignalGroup(s.cmd, syscall.SIGTERM)
	select {
	case <-s.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = testenv.SignalGroup(s.cmd, syscall.SIGKILL)
	<-s.done
}

func waitAnswers(endpoint string, timeout time.Duration, died <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-died:
			return errors.New("moto_server exited")
		default:
		}
		resp, err := client.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %s: %v", timeout, last)
}

// ensureVenv runs scripts/moto.sh venv and returns the moto_server path.
func ensureVenv() (string, error) {
	script, err := testenv.Script("moto.sh")
	if err != nil {
		return "", envError{err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, "venv")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", envError{fmt.Errorf("%s venv: %v: %s", script, err, strings.TrimSpace(errOut.String()))}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	path := strings.TrimSpace(lines[len(lines)-1])
	if _, err := os.Stat(path); err != nil {
		return "", envError{fmt.Errorf("%s venv printed %q: %v", script, path, err)}
	}
	return path, nil
}

// HermeticAWSEnv makes the test independent of the caller's AWS
// environment: every AWS_* variable is removed for the test's duration,
// then static moto credentials and region are set, shared config files
// point nowhere and IMDS is off. It cannot be used with t.Parallel.
func HermeticAWSEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restored at cleanup
			_ = os.Unsetenv(k)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": AccessKey, "AWS_SECRET_ACCESS_KEY": SecretKey, "AWS_REGION": Region,
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}
