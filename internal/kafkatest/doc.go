// Package kafkatest runs a real Apache Kafka broker (single-node KRaft, broker+controller) for tests.
//
// It is a test rig only: no product code imports it. The jars come from Maven Central via
// scripts/kafka-jars.sh (cached in ~/.m2 and <repo>/.cache/kafka/<version>/libs), or from the
// directory named by OFFSETLAG_TEST_KAFKA_LIBS. Java 17 must be on PATH (or JAVA_HOME set).
//
// Typical use:
//
//	b := kafkatest.Start(t, kafkatest.Options{})          // a fresh broker, stopped at t.Cleanup
//	client, _ := sarama.NewClient([]string{b.Addr}, cfg)
//	rows := b.ConsumerGroups(t)                           // Kafka's own kafka-consumer-groups as an oracle
//
// Kafka's own tools, as oracles or as clients:
//
//	rows := b.ConsumerGroups(t)          // --describe --all-groups, parsed; "-" becomes -1
//	groups := b.Groups(t)                // --list --state (--type on 4.x)
//	cmd := b.Command(t, kafkatest.MainConsoleConsumer, "--bootstrap-server", b.Addr, "--topic", "t",
//		"--group", "g", "--consumer-property", "group.protocol=consumer") // KIP-848, 4.1
//	cmd.Start()                           // killed at t.Cleanup if still running
//
// Secured listeners beside PLAINTEXT (inter-broker traffic stays PLAINTEXT):
//
//	b := kafkatest.Start(t, kafkatest.Options{
//		SASLUsers: map[string]string{"admin": "secret"},          // b.SASLAddr: PLAIN, SCRAM-SHA-256/512
//		TLS:       &kafkatest.TLSOptions{ClientAuth: "required"}, // b.TLSAddr, certificates in b.PKI
//	})
//
// Reliability tests: b.Restart() (graceful stop, same ports and data), b.Kill() (SIGKILL) then
// b.Restart(), b.Stop().
//
// One broker per test binary (much faster than one per test):
//
//	func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }
//	func TestX(t *testing.T)    { b := kafkatest.Shared(t, kafkatest.Options{}) ... }
//
// Version: Options.Version, else env OFFSETLAG_TEST_KAFKA_VERSION, else "4.1" (4.1.x, newest pinned
// patch); "3.9" is supported too. An exact "x.y.z" is passed through to the jar script.
//
// Policy when the environment cannot run a broker (no java, no maven, the download fails):
// the test is skipped with the reason, except when CI=true, where it fails. A broker that
// fails to start although java and the jars are present always fails the test, and the tail
// of its log is printed. With -short (and CI!=true) tests using the rig are skipped.
//
// Processes are started in their own process group with Pdeathsig=SIGKILL (Linux), from an
// OS thread that stays alive as long as the process, so no JVM outlives the test binary.
package kafkatest
