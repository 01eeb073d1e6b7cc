package io.openshell.it;

import static io.openshell.it.Samples.median;
import static io.openshell.it.Samples.max;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.v1.ExecSandboxRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.ThrottleMode;
import org.apache.pekko.stream.javadsl.Sink;
import io.openshell.protocol.v1.OpenShellClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ExecSandbox figures for docs/benchmarks.md (run: {@code mvn -B -Pbench -pl it -am verify
 * -Dit.test=ExecBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
 * -Dfailsafe.failIfNoSpecifiedTests=false}). A real gateway process with the process driver and a
 * live sandbox; the client is a gRPC client in this JVM.
 */
class ExecBenchmark {
  private static GatewayProcess gateway;
  private static GatewayClient client;
  private static Sandbox sandbox;

  @BeforeAll
  static void start() throws Exception {
    Path state = Files.createTempDirectory("openshell-exec-bench");
    gateway = GatewayProcess.start(state, "sqlite:" + state.resolve("gateway.db"));
    client = new GatewayClient(gateway.port);
    sandbox = client.create("exec-bench");
    Awaits.require(GatewayProcess.startupPatience(), "sandbox READY",
        () -> client.get("exec-bench").getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) client.close();
    if (gateway != null) gateway.close();
  }

  @Test
  void execTrueRoundTrip() {
    ExecSandboxRequest request = ExecSandboxRequest.newBuilder().setSandboxId(sandbox.getId()).addCommand("true").build();
    for (int i = 0; i < 30; i++) assertEquals(0, client.exec(request, Duration.ofSeconds(30)).exitCode());
    int runs = 300;
    long[] micros = new long[runs];
    for (int i = 0; i < runs; i++) {
      long started = System.nanoTime();
      GatewayClient.ExecOutcome outcome = client.exec(request, Duration.ofSeconds(30));
      micros[i] = (System.nanoTime() - started) / 1000;
      assertEquals(0, outcome.exitCode(), outcome.toString());
    }
    java.util.Arrays.sort(micros);
    double p50 = micros[runs / 2] / 1000.0;
    BenchmarkRow.record("20-exec-true", "`ExecSandbox true` round trip (300 sequential after 30 warm-up, real gateway process and supervisor)",
        "p50 ≤ 50 ms", String.format(Locale.ROOT, "p50 %.1f ms, p99 %.1f ms, max %.1f ms", p50, micros[runs * 99 / 100] / 1000.0, micros[runs - 1] / 1000.0),
        "", BenchmarkRow.Verdict.of(p50 <= 50));
  }

  /**
   * A client that reads at 24 MiB/s: the gateway's live heap (after a full GC), sampled every second
   * while it streams, must not grow with the output size (backpressure reaches the remote command).
   * Two sizes, 4x apart, compared by the median of their samples: with bytes piling up in the gateway
   * the larger run's samples (taken while up to 4x more output had passed) sit higher. Not by the peak:
   * the larger run takes about four times as many samples, so its maximum of the same noisy in-flight
   * buffers is higher by chance alone (three 2026-12-01 runs: peaks 64 MiB → 256 MiB differing by
   * -6 to +52 MiB, with the same code).
   */
  @Test
  void slowReaderDoesNotGrowGatewayHeap() throws Exception {
    long baseline = LiveHeap.bytesAfterFullGc(gateway.process.pid());
    long[] small = slowRead(64L << 20);
    long[] large = slowRead(256L << 20);
    long smallMedian = median(small);
    long largeMedian = median(large);
    BenchmarkRow.record("21-exec-slow-reader", "gateway live heap while a client reads `head -c N /dev/zero` at 24 MiB/s (sampled each second after a full GC)",
        "does not grow with N", String.format(Locale.ROOT, "median %.1f MiB (peak %.1f, %d samples) for N = 64 MiB, median %.1f MiB (peak %.1f, %d samples) for N = 256 MiB",
            smallMedian / 1048576.0, max(small) / 1048576.0, small.length, largeMedian / 1048576.0, max(large) / 1048576.0, large.length),
        String.format(Locale.ROOT, "%.1f MiB before", baseline / 1048576.0), BenchmarkRow.Verdict.of(largeMedian - smallMedian < (24L << 20)));
    assertTrue(largeMedian - smallMedian < (24L << 20),
        "gateway heap grew with the output: median " + (smallMedian >> 20) + " MiB for 64 MiB, " + (largeMedian >> 20) + " MiB for 256 MiB");
  }

  /** The live-heap samples taken while {@code total} bytes streamed. */
  private long[] slowRead(long total) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "slow-reader",
        com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local").withFallback(com.typesafe.config.ConfigFactory.load()));
    OpenShellClient slow = OpenShellClient.create(
        GrpcClientSettings.connectToServiceAt("127.0.0.1", gateway.port, system).withTls(false), system);
    try {
      AtomicLong received = new AtomicLong();
      var done = slow.execSandbox(ExecSandboxRequest.newBuilder().setSandboxId(sandbox.getId())
              .addCommand("head").addCommand("-c").addCommand(Long.toString(total)).addCommand("/dev/zero").build())
          .throttle(24 << 20, Duration.ofSeconds(1), 1 << 20, event -> Math.max(1, event.getStdout().getData().size()), ThrottleMode.shaping())
          .runWith(Sink.foreach(event -> received.addAndGet(event.getStdout().getData().size())), system)
          .toCompletableFuture();
      List<Long> samples = new ArrayList<>();
      while (!done.isDone()) {
        samples.add(LiveHeap.bytesAfterFullGc(gateway.process.pid()));
        try {
          done.get(1, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException stillStreaming) {
          // sample again
        }
      }
      done.get();
      assertEquals(total, received.get());
      return samples.stream().mapToLong(Long::longValue).toArray();
    } finally {
      slow.close();
      system.terminate();
    }
  }
}
