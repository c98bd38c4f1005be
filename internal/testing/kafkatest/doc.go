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
// b.Restart(), b.Stop(), b.Pause() (SIGSTOP: a hung broker) and b.Resume() (SIGCONT).
//
// A 3-node cluster (every node broker and controller, a static quorum; replication factor 3 for
// every topic and __consumer_offsets, min.insync.replicas 2; -Xmx256m per node):
//
//	c := kafkatest.StartCluster(t, kafkatest.ClusterOptions{})  // stopped at t.Cleanup
//	c.BrokerList()                  // "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"
//	c.StopBroker(i); c.StartBroker(i) // controlled shutdown (SIGTERM), then start on the same ports
//	c.WaitISR(ctx)                  // every node registered, every partition's ISR full
//	c.Freeze(i); c.Thaw(i)          // SIGSTOP / SIGCONT
//	c.Coordinator(group); c.Leaders(topic) // which node (index) coordinates or leads
//	c.Live().ConsumerGroups(t)      // Kafka's CLI through a live node
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
