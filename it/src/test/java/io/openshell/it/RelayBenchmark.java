package io.openshell.it;

import static io.openshell.it.Samples.median;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.protocol.v1.*;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Relay figures for docs/benchmarks.md (run: {@code bench/run -Dit.test=RelayBenchmark}). The gateway
 * wiring runs in this JVM (where the tunnel and exec consume relays too); the supervisor is the real supervisor jar in its own JVM; bytes end in a counting sink on
 * a Unix socket. The baseline is a socat chain with the same two process hops, measured in the same run.
 */
class RelayBenchmark {
  private static final long WARMUP = 256L << 20;
  private static final long MEASURED = 512L << 20;
  /**
   * How long each measure warms up before its samples count. Both JVMs are fresh: a 256 MiB warm-up
   * (about a second) left C2 compiling on a third of the two cores through every sample (perf, and
   * -XX:+PrintCompilation in the supervisor: ~100 compilations a second), so the figures measured the
   * JIT's warm-up, not the relay. The first sample after the short warm-up is still reported.
   */
  private static final Duration WARM_UP_TIME = Duration.ofSeconds(Long.getLong("bench.relay.warm-up-seconds", 20));
  private static final int SAMPLES = 5;
  private static final byte[] BLOCK = new byte[1 << 20];

  private static Path dir;
  private static TestGateway gateway;
  private static CountingSink sink;
  private static Process supervisor;
  private static String sandboxId;

  @BeforeAll
  static void start() throws Exception {
    new Random(42).nextBytes(BLOCK);
    dir = Files.createTempDirectory("relay-bench");
    gateway = TestGateway.start("sqlite::memory:", dir, new AcceptingDriver(), "");
    sink = new CountingSink(dir.resolve("sink.sock"));
    sandboxId = gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName("bench").build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
    List<String> command = new ArrayList<>(List.of(Repo.java(), "-Dopenshell.supervisor.ssh.daemon=off"));
    // e.g. -Dbench.supervisor.jvm-args=-XX:StartFlightRecording=filename=/tmp/supervisor.jfr to profile it.
    String extraJvmArgs = System.getProperty("bench.supervisor.jvm-args", "").trim();
    if (!extraJvmArgs.isEmpty()) command.addAll(Arrays.asList(extraJvmArgs.split("\\s+")));
    command.addAll(List.of("-jar", Repo.jar("supervisor-actors", "openshell-supervisor").toString()));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true).redirectOutput(dir.resolve("supervisor.log").toFile());
    builder.environment().put("OPENSHELL_ENDPOINT", "http://127.0.0.1:" + gateway.running.port());
    builder.environment().put("OPENSHELL_SANDBOX_ID", sandboxId);
    builder.environment().put("OPENSHELL_SSH_SOCKET_PATH", sink.path.toString());
    Path credential = Files.createFile(dir.resolve("credential"), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    Files.writeString(credential, gateway.credential(sandboxId));
    builder.environment().put("OPENSHELL_SANDBOX_CREDENTIAL_FILE", credential.toString());
    supervisor = builder.start();
    Awaits.require(Duration.ofSeconds(60), "the supervisor's session", () -> phase() == SandboxPhase.SANDBOX_PHASE_READY);
  }

  @AfterAll
  static void stop() throws Exception {
    supervisor.destroy();
    supervisor.waitFor(20, TimeUnit.SECONDS);
    sink.close();
    gateway.close();
  }

  private static SandboxPhase phase() {
    try {
      return gateway.client.getSandbox(GetSandboxRequest.newBuilder().setName("bench").build())
          .toCompletableFuture().get(10, TimeUnit.SECONDS).getSandbox().getPhase();
    } catch (Exception e) {
      return SandboxPhase.SANDBOX_PHASE_UNKNOWN;
    }
  }

  private static RelayConnection open() throws Exception {
    return gateway.running.relays().open(sandboxId, Duration.ofSeconds(30)).connection().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Seconds to push {@code bytes} through a relay into the sink and get its acknowledgement back. */
  private static double throughRelay(long bytes) throws Exception {
    RelayConnection relay = open();
    var ack = relay.fromSupervisor().getSource().runWith(Sink.head(), gateway.system);
    long started = System.nanoTime();
    ByteString header = ByteString.fromArrayUnsafe(ByteBuffer.allocate(8).putLong(bytes).array());
    ByteString block = ByteString.fromArrayUnsafe(BLOCK);
    var writer = Source.single(header).concat(Source.repeat(block).take(bytes / BLOCK.length)).concat(Source.never())
        .viaMat(org.apache.pekko.stream.KillSwitches.single(), org.apache.pekko.stream.javadsl.Keep.right())
        // As the SSH tunnel and exec write: cut into the stream ref's 64 KiB elements.
        .to(relay.sink()).run(gateway.system);
    ack.toCompletableFuture().get(600, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;
    writer.shutdown();
    return seconds;
  }

  /** The same through socat: TCP → socat → TCP → socat → Unix socket → sink. */
  private static double throughSocat(long bytes, int port) throws Exception {
    long started = System.nanoTime();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write(ByteBuffer.allocate(8).putLong(bytes).array());
      for (long sent = 0; sent < bytes; sent += BLOCK.length) out.write(BLOCK);
      out.flush();
      InputStream in = socket.getInputStream();
      assertEquals(1, in.read(), "sink acknowledgement");
    }
    return (System.nanoTime() - started) / 1e9;
  }

  private static int freePort() throws Exception {
    try (var server = new java.net.ServerSocket(0)) {
      return server.getLocalPort();
    }
  }

  private static Process socat(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("socat"));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** Seconds from asking the sink for {@code bytes} through a relay until the client has read them all. */
  private static double fromSupervisorThroughRelay(long bytes) throws Exception {
    RelayConnection relay = open();
    long started = System.nanoTime();
    var received = relay.fromSupervisor().getSource()
        .scan(0L, (count, chunk) -> count + chunk.size())
        .takeWhile(count -> count < bytes, true)
        .runWith(Sink.last(), gateway.system);
    ByteString header = ByteString.fromArrayUnsafe(ByteBuffer.allocate(8).putLong(-bytes).array());
    var writer = Source.single(header).concat(Source.never())
        .viaMat(org.apache.pekko.stream.KillSwitches.single(), org.apache.pekko.stream.javadsl.Keep.right())
        .to(relay.toSupervisor().getSink()).run(gateway.system);
    assertEquals(bytes, received.toCompletableFuture().get(600, TimeUnit.SECONDS), "bytes from the sink");
    double seconds = (System.nanoTime() - started) / 1e9;
    writer.shutdown();
    return seconds;
  }

  /** The same through socat: sink → Unix socket → socat → TCP → socat → TCP → client. */
  private static double fromSinkThroughSocat(long bytes, int port) throws Exception {
    long started = System.nanoTime();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.getOutputStream().write(ByteBuffer.allocate(8).putLong(-bytes).array());
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[256 * 1024];
      long count = 0;
      for (int n; count < bytes && (n = in.read(buffer)) >= 0; ) count += n;
      assertEquals(bytes, count, "bytes from the sink");
    }
    return (System.nanoTime() - started) / 1e9;
  }

  /** Runs {@code body} with a socat chain TCP → socat → TCP → socat → the sink's Unix socket; gives the front port. */
  private static void withSocatChain(SocatBody body) throws Exception {
    int front = freePort();
    int middle = freePort();
    Process first = socat("TCP-LISTEN:" + front + ",bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:" + middle);
    Process second = socat("TCP-LISTEN:" + middle + ",bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:" + sink.path);
    try {
      Awaits.require(Duration.ofSeconds(10), "socat listening", () -> {
        try (Socket probe = new Socket("127.0.0.1", front)) {
          return true;
        } catch (Exception e) {
          return false;
        }
      });
      body.run(front);
    } finally {
      first.destroy();
      second.destroy();
    }
  }

  private interface SocatBody {
    void run(int port) throws Exception;
  }

  private interface Sample {
    double seconds(long bytes) throws Exception;
  }

  /**
   * What one relay sample cost, per GiB relayed: CPU seconds of this JVM, of its actor system's threads
   * (the gateway and the benchmark's client streams: no GC, JIT or sink threads), of the supervisor, and
   * the bytes this JVM allocated per byte relayed. On this shared machine throughput swings with the
   * other builds' load; CPU time swings less, allocation not at all, so these show whether a change made
   * a hop cheaper even when the throughput cannot.
   */
  private record Cost(double ownCpu, double actorSystemCpu, double supervisorCpu, double allocatedPerByte) {
    private static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /** Counters now: process CPU, actor system threads' CPU, supervisor CPU (ns), bytes allocated by live threads. */
    static long[] counters() {
      long actorSystem = 0;
      long allocated = 0;
      for (java.lang.management.ThreadInfo thread : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
        if (thread == null) continue;
        allocated += Math.max(0, THREADS.getThreadAllocatedBytes(thread.getThreadId()));
        if (thread.getThreadName().startsWith(gateway.system.name() + "-")) {
          actorSystem += Math.max(0, THREADS.getThreadCpuTime(thread.getThreadId()));
        }
      }
      return new long[] {OS.getProcessCpuTime(), actorSystem, supervisor.info().totalCpuDuration().orElseThrow().toNanos(), allocated};
    }

    static Cost between(long[] before, long[] after, long bytes) {
      double gib = bytes / (double) (1L << 30);
      return new Cost((after[0] - before[0]) / 1e9 / gib, (after[1] - before[1]) / 1e9 / gib,
          (after[2] - before[2]) / 1e9 / gib, (after[3] - before[3]) / (double) bytes);
    }

    static String medians(Cost[] costs) {
      return String.format(Locale.ROOT, "per GiB: this JVM %.2f CPU-s (its actor system's threads %.2f), supervisor %.2f CPU-s;"
          + " this JVM allocated %.2f bytes per byte",
          median(java.util.Arrays.stream(costs).mapToDouble(Cost::ownCpu).toArray()),
          median(java.util.Arrays.stream(costs).mapToDouble(Cost::actorSystemCpu).toArray()),
          median(java.util.Arrays.stream(costs).mapToDouble(Cost::supervisorCpu).toArray()),
          median(java.util.Arrays.stream(costs).mapToDouble(Cost::allocatedPerByte).toArray()));
    }
  }

  /**
   * A 256 MiB warm-up of each and one sample of each (the JIT still busy: reported as "early"), then
   * more warm-up until {@link #WARM_UP_TIME} has passed, then {@link #SAMPLES} alternating samples of
   * each; the medians' ratio as a row.
   */
  private static void compare(String key, String measure, Sample relay, Sample socat) throws Exception {
    long warmUpStarted = System.nanoTime();
    relay.seconds(WARMUP);
    socat.seconds(WARMUP);
    double earlyRelayMiBs = 512 / relay.seconds(MEASURED);
    double earlySocatMiBs = 512 / socat.seconds(MEASURED);
    while (System.nanoTime() - warmUpStarted < WARM_UP_TIME.toNanos()) relay.seconds(WARMUP);
    socat.seconds(WARMUP);
    double[] relaySeconds = new double[SAMPLES];
    double[] socatSeconds = new double[SAMPLES];
    Cost[] costs = new Cost[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
      long[] before = Cost.counters();
      long started = System.currentTimeMillis();
      relaySeconds[i] = relay.seconds(MEASURED);
      // Epoch milliseconds, so a Flight Recorder profile of this JVM can be cut to the relay samples.
      System.out.println("RELAY-SAMPLE " + key + " " + started + " " + System.currentTimeMillis());
      costs[i] = Cost.between(before, Cost.counters(), MEASURED);
      socatSeconds[i] = socat.seconds(MEASURED);
    }
    double relayMiBs = 512 / median(relaySeconds);
    double socatMiBs = 512 / median(socatSeconds);
    double ratio = relayMiBs / socatMiBs;
    String figure = String.format(Locale.ROOT, "%.0f MiB/s (%.2f× socat); %s; early (the first 512 MiB after 256 MiB): %.0f MiB/s (%.2f× socat)",
        relayMiBs, ratio, Cost.medians(costs), earlyRelayMiBs, earlyRelayMiBs / earlySocatMiBs);
    BenchmarkRow.record(key, measure, "≥ 0.8× socat", figure,
        String.format(Locale.ROOT, "socat chain of the same hops %.0f MiB/s", socatMiBs), BenchmarkRow.Verdict.of(ratio >= 0.8));
  }

  @Test
  void bulkThroughputAgainstASocatChainOfTheSameHops() throws Exception {
    withSocatChain(front -> compare("10-relay-bulk",
        "relay bulk, client → supervisor → Unix socket (512 MiB, median of " + SAMPLES + " after " + WARM_UP_TIME.toSeconds() + " s of warm-up)",
        RelayBenchmark::throughRelay, bytes -> throughSocat(bytes, front)));
  }

  @Test
  void bulkThroughputFromTheSupervisorAgainstASocatChainOfTheSameHops() throws Exception {
    withSocatChain(front -> compare("10-relay-bulk-reverse",
        "relay bulk, Unix socket → supervisor → client (the SSH daemon's output; 512 MiB, median of " + SAMPLES + " after " + WARM_UP_TIME.toSeconds() + " s of warm-up)",
        RelayBenchmark::fromSupervisorThroughRelay, bytes -> fromSinkThroughSocat(bytes, front)));
  }

  @Test
  void relayOpenLatencyWithALiveSession() throws Exception {
    long warmUpStarted = System.nanoTime();
    for (int i = 0; i < 100; i++) close(open());
    double[] early = opens(1000);
    while (System.nanoTime() - warmUpStarted < WARM_UP_TIME.toNanos()) close(open());
    double[] millis = opens(1000);
    String figure = String.format(Locale.ROOT, "p50 %.2f ms, p99 %.2f ms; early (the first 1,000 after 100): p50 %.2f ms, p99 %.2f ms",
        millis[499], millis[989], early[499], early[989]);
    BenchmarkRow.record("11-relay-open", "relay open with a live session (1,000 sequential after " + WARM_UP_TIME.toSeconds()
            + " s of warm-up, each claimed by the real supervisor)",
        "p50 ≤ 5 ms, p99 ≤ 20 ms", figure, "", BenchmarkRow.Verdict.of(millis[499] <= 5 && millis[989] <= 20));
  }

  /** {@code count} sequential opens (each closed at once), their latencies in milliseconds, sorted. */
  private static double[] opens(int count) throws Exception {
    double[] millis = new double[count];
    for (int i = 0; i < count; i++) {
      long started = System.nanoTime();
      RelayConnection relay = open();
      millis[i] = (System.nanoTime() - started) / 1e6;
      close(relay);
    }
    Arrays.sort(millis);
    return millis;
  }

  @Test
  void fromSessionRegistrationToRelayOpenWhenTheOpenWasWaiting() throws Exception {
    double[] millis = new double[50];
    for (int i = 0; i < millis.length; i++) {
      String id = gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName("waiting-" + i).build())
          .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
      var pending = gateway.running.relays().open(id, Duration.ofSeconds(30));
      var control = Source.<SupervisorMessage>queue(8, org.apache.pekko.stream.OverflowStrategy.backpressure()).preMaterialize(gateway.system);
      var messages = gateway.client.connectSupervisor()
          .addHeader(io.openshell.gateway.sandbox.SupervisorCredential.METADATA_KEY, gateway.credential(id)).invoke(control.second())
          .filter(m -> m.hasSessionAccepted() || m.hasRelayOpen())
          .map(m -> new Object[] {m, System.nanoTime()})
          .take(2)
          .runWith(Sink.seq(), gateway.system);
      control.first().offer(SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(id)).build());
      List<Object[]> seen = messages.toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertTrue(((GatewayMessage) seen.get(0)[0]).hasSessionAccepted());
      assertTrue(((GatewayMessage) seen.get(1)[0]).hasRelayOpen());
      millis[i] = ((long) seen.get(1)[1] - (long) seen.get(0)[1]) / 1e6;
      pending.abandon().run();
      control.first().complete();
    }
    Arrays.sort(millis);
    String figure = String.format(Locale.ROOT, "p50 %.2f ms, max %.2f ms", millis[24], millis[49]);
    BenchmarkRow.record("12-relay-waiting-open", "session registration → RelayOpen for an open that was waiting (50 runs, SessionAccepted to RelayOpen at the supervisor)",
        "≤ 10 ms", figure, "", BenchmarkRow.Verdict.of(millis[24] <= 10));
  }

  private static void close(RelayConnection relay) {
    relay.fromSupervisor().getSource().runWith(Sink.cancelled(), gateway.system);
    Source.<ByteString>empty().runWith(relay.toSupervisor().getSink(), gateway.system);
  }
}
