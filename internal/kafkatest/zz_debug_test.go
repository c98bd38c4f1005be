//go:build kafkadebug

package kafkatest_test

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/offsetlag/offsetlag/internal/kafkatest"
)

func TestDebugCLI(t *testing.T) {
	v := os.Getenv("V")
	b := kafkatest.Start(t, kafkatest.Options{Version: v})
	exercise(t, b, "t1", "g1")
	// a running console consumer, KIP-848 on 4.1
	args := []string{"--bootstrap-server", b.Addr, "--topic", "t1", "--group", "g848", "--from-beginning"}
	if strings.HasPrefix(b.Version, "4.") {
		args = append(args, "--consumer-property", "group.protocol=consumer")
	}
	cmd := b.Command(t, "org.apache.kafka.tools.consumer.ConsoleConsumer", args...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	n := 0
	for sc.Scan() {
		n++
		if n == 13 {
			break
		}
	}
	t.Logf("console consumer read %d lines in %s", n, time.Since(t0))
	time.Sleep(6 * time.Second) // auto commit 5s
	// a group with members, mid-consumption: sarama consumer on t1 that stays
	cfg := saramaConfig()
	_ = cfg
	out, errOut, err := b.RunTool(context.Background(), "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server", b.Addr, "--describe", "--all-groups")
	t.Logf("err=%v\nSTDOUT:\n%s\nSTDERR:\n%s", err, out, errOut)
	out, errOut, err = b.RunTool(context.Background(), "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server", b.Addr, "--list", "--state")
	t.Logf("err=%v\nSTDOUT:\n%s\nSTDERR:\n%s", err, out, errOut)
	rows := b.ConsumerGroups(t)
	t.Logf("%+v", rows)
	_ = sarama.V3_7_0_0
}
