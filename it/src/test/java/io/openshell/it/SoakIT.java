package io.openshell.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.openshell.gateway.tunnel.ConnectClient;
import io.openshell.protocol.v1.CreateSshSessionResponse;
import io.openshell.protocol.v1.ExecSandboxRequest;
import io.openshell.protocol.v1.Sandbox;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Soak: many relay open/close cycles through the CONNECT tunnel (each reaches the sandbox's SSH daemon
 * and reads its banner) and many ExecSandbox calls, against a real gateway process and a real
 * supervisor. Threads and open descriptors of both processes must come back to where they were; the
 * gateway's live heap is reported. CI runs {@code soak.cycles} = 300 of each; the benchmark profile's
 * long form is {@code -Dsoak.cycles=1000}.
 */
class SoakIT {
  /**
   * More relays than the 256 concurrent streams one supervisor connection may hold: a relay that leaves its
   * RelayStream open (as reset tunnels did) fails the CI form too, not only the long one.
   */
  private static final int CYCLES = Integer.getInteger("soak.cycles", 300);
  /** Pools may keep a thread or two more or fewer from one moment to the next; a leak grows per cycle. */
  private static final int THREAD_SLACK = 6;
  private static final int FD_SLACK = 6;

  private static GatewayProcess gateway;
  private static GatewayClient client;
  private static Sandbox sandbox;

  @BeforeAll
  static void startGatewayAndSandbox() throws Exception {
    Path state = Files.createTempDirectory("openshell-soak");
    gateway = GatewayProcess.start(state, "sqlite:" + state.resolve("gateway.db"));
    client = new GatewayClient(gateway.port);
    client.create("soak");
    Awaits.require(GatewayProcess.startupPatience(), "sandbox READY",
        () -> client.get("soak").getPhase() == io.openshell.protocol.v1.SandboxPhase.SANDBOX_PHASE_READY);
    sandbox = client.get("soak");
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) client.close();
    if (gateway != null) gateway.close();
  }

  /** Threads and open descriptors of one process, from /proc. */
  record Usage(int threads, int fds) {
    static Usage of(long pid) {
      return new Usage(count(Path.of("/proc", Long.toString(pid), "task")), count(Path.of("/proc", Long.toString(pid), "fd")));
    }

    private static int count(Path dir) {
      try (var entries = Files.list(dir)) {
        return (int) entries.count();
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + dir + ": " + e.getMessage(), e);
      }
    }

    boolean within(Usage baseline) {
      return threads <= baseline.threads + THREAD_SLACK && fds <= baseline.fds + FD_SLACK;
    }

    @Override
    public String toString() {
      return threads + " threads, " + fds + " fds";
    }
  }

  /** Opens a relay through the tunnel, reads the daemon's SSH banner, and hangs up. */
  private static void tunnelCycle(CreateSshSessionResponse session) throws IOException {
    try (ConnectClient connect = new ConnectClient(new InetSocketAddress("127.0.0.1", session.getGatewayPort()))) {
      connect.send(ConnectClient.connectHead(sandbox.getId(), session.getToken()));
      assertEquals(200, connect.status(), () -> connect.responseHead());
      String banner = new String(connect.read(8), StandardCharsets.US_ASCII);
      assertEquals("SSH-2.0-", banner);
    }
  }

  private static void execCycle() {
    GatewayClient.ExecOutcome outcome = client.exec(ExecSandboxRequest.newBuilder().setSandboxId(sandbox.getId())
        .addAllCommand(List.of("true")).build(), Duration.ofSeconds(60));
    assertNull(outcome.failure(), () -> String.valueOf(outcome.failure()));
    assertEquals(0, outcome.exitCode());
  }

  private static double gatewayLiveHeapMiB() throws Exception {
    return LiveHeap.bytesAfterFullGc(gateway.process.pid()) / (1024.0 * 1024.0);
  }

  /** A cycle that failed outright is a soak result too: the summary table says which one and why. */
  private static void recordBrokenCycle(String kind, int cycle, Throwable failure, Usage gatewayBefore, long supervisor) {
    String message = String.valueOf(failure.getMessage()).lines().filter(line -> !line.isBlank()).findFirst().orElse("");
    BenchmarkRow.record("50-soak", String.format(Locale.ROOT, "soak: %,d relay open/close cycles through the CONNECT tunnel, then %,d `ExecSandbox true`",
            CYCLES, CYCLES),
        "every cycle succeeds; threads and fds flat", String.format(Locale.ROOT, "%s cycle %d (after 30 warm-up) failed: %s; gateway %s, supervisor %s",
            kind, cycle + 1, message, Usage.of(gateway.process.pid()), Usage.of(supervisor)),
        "before: gateway " + gatewayBefore, BenchmarkRow.Verdict.MISSED);
  }

  @Test
  void relayAndExecCyclesLeaveThreadsAndDescriptorsWhereTheyWere() throws Exception {
    CreateSshSessionResponse session = client.sshSession(sandbox.getId());
    // Warm up: pools, caches and JIT settle before the baseline is taken.
    for (int i = 0; i < 30; i++) {
      tunnelCycle(session);
      execCycle();
    }
    long supervisor = Processes.supervisorJvm(sandbox.getId());
    Usage gatewayBefore = Usage.of(gateway.process.pid());
    Usage supervisorBefore = Usage.of(supervisor);
    double heapBefore = gatewayLiveHeapMiB();

    Instant started = Instant.now();
    int cycle = 0;
    try {
      for (; cycle < CYCLES; cycle++) tunnelCycle(session);
    } catch (AssertionError | IOException e) {
      recordBrokenCycle("relay open/close", cycle, e, gatewayBefore, supervisor);
      throw e;
    }
    Duration relays = Duration.between(started, Instant.now());
    started = Instant.now();
    try {
      for (cycle = 0; cycle < CYCLES; cycle++) execCycle();
    } catch (AssertionError e) {
      recordBrokenCycle("exec", cycle, e, gatewayBefore, supervisor);
      throw e;
    }
    Duration execs = Duration.between(started, Instant.now());

    // Closing is asynchronous (the last relay's actors, idle pool threads retiring after 60 s).
    boolean flat = Awaits.poll(Duration.ofSeconds(90),
        () -> Usage.of(gateway.process.pid()).within(gatewayBefore) && Usage.of(supervisor).within(supervisorBefore));
    Usage gatewayAfter = Usage.of(gateway.process.pid());
    Usage supervisorAfter = Usage.of(supervisor);
    double heapAfter = gatewayLiveHeapMiB();
    String report = String.format(Locale.ROOT,
        "soak: %d tunnel relay cycles in %d ms, %d execs in %d ms; gateway %s -> %s, live heap %.1f -> %.1f MiB; supervisor %s -> %s",
        CYCLES, relays.toMillis(), CYCLES, execs.toMillis(), gatewayBefore, gatewayAfter, heapBefore, heapAfter,
        supervisorBefore, supervisorAfter);
    System.out.println(report);
    BenchmarkRow.record("50-soak", String.format(Locale.ROOT,
            "soak: %,d relay open/close cycles through the CONNECT tunnel (%.1f s), then %,d `ExecSandbox true` (%.1f s), after 30 warm-up each",
            CYCLES, relays.toMillis() / 1000.0, CYCLES, execs.toMillis() / 1000.0),
        "gateway and supervisor threads and fds flat (within " + THREAD_SLACK + ")",
        String.format(Locale.ROOT, "gateway %s, live heap %.1f MiB; supervisor %s", gatewayAfter, heapAfter, supervisorAfter),
        String.format(Locale.ROOT, "before: gateway %s, live heap %.1f MiB; supervisor %s", gatewayBefore, heapBefore, supervisorBefore),
        BenchmarkRow.Verdict.of(flat));
    assertTrue(flat, "threads or descriptors grew: " + report);
  }
}
