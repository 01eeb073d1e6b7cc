package io.openshell.it;

import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.protocol.v1.CreateSandboxRequest;
import io.openshell.protocol.v1.ListSandboxesRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import io.openshell.protocol.v1.SandboxSpec;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * Idle supervisor sessions on one gateway (issue #10): the real gateway wiring in this JVM (run it with
 * {@code -DargLine=-Xmx1g}), {@code bench.sessions} sandboxes, and as many real supervisor sessions in a
 * separate JVM ({@link SimulatedSupervisors}), each on its own HTTP/2 connection with heartbeats. Reports
 * this JVM's live heap and thread count with no sessions and with all of them READY, and checks that they
 * all stay READY across four heartbeat periods.
 */
class IdleSessionsBenchmark {
  private static final int SESSIONS = Integer.getInteger("bench.sessions", 10_000);
  private static final int RAMP_PER_SECOND = Integer.getInteger("bench.sessions-per-second", 250);

  private static double liveHeapMiB() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
  }

  private static int threads() {
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  private static long ready(TestGateway gateway) throws Exception {
    long ready = 0;
    for (int offset = 0; ; offset += 1000) {
      List<Sandbox> page = gateway.client.listSandboxes(ListSandboxesRequest.newBuilder().setLimit(1000).setOffset(offset).build())
          .toCompletableFuture().get(60, TimeUnit.SECONDS).getSandboxesList();
      ready += page.stream().filter(s -> s.getPhase() == SandboxPhase.SANDBOX_PHASE_READY).count();
      if (page.size() < 1000) return ready;
    }
  }

  @Test
  void idleSupervisorSessionsOnOneGateway() throws Exception {
    Path dir = Files.createTempDirectory("idle-sessions-bench");
    long maxHeapMiB = Runtime.getRuntime().maxMemory() / (1024 * 1024);
    try (TestGateway gateway = TestGateway.start("sqlite:" + dir.resolve("gateway.db"), dir, new AcceptingDriver(), "")) {
      List<String> ids = Source.range(1, SESSIONS)
          .mapAsync(32, i -> gateway.client.createSandbox(CreateSandboxRequest.newBuilder()
              .setSpec(SandboxSpec.getDefaultInstance()).setName("idle-" + i).build()))
          .map(response -> response.getSandbox().getId())
          .runWith(Sink.seq(), gateway.system).toCompletableFuture().get(30, TimeUnit.MINUTES);
      Path idFile = dir.resolve("sandbox-ids.txt");
      Files.write(idFile, ids.stream().map(id -> id + " " + gateway.credential(id)).toList());
      double heapWithoutSessions = liveHeapMiB();
      int threadsWithoutSessions = threads();

      List<String> command = new ArrayList<>(List.of(Repo.java(), "-Xmx4g", "-cp", System.getProperty("java.class.path"),
          SimulatedSupervisors.class.getName(), "http://127.0.0.1:" + gateway.running.port(), idFile.toString(),
          Integer.toString(RAMP_PER_SECOND)));
      Process simulator = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("simulator.log").toFile()).start();
      try {
        long rampStarted = System.nanoTime();
        Awaits.require(Duration.ofMinutes(15), SESSIONS + " sandboxes READY", () -> {
          try {
            return ready(gateway) == SESSIONS;
          } catch (Exception e) {
            return false;
          }
        });
        double rampSeconds = (System.nanoTime() - rampStarted) / 1e9;
        double heapAllReady = liveHeapMiB();
        int threadsAllReady = threads();
        // Four heartbeat periods (15 s each): nobody is declared dead, nobody reconnects.
        long holdStarted = System.nanoTime();
        long lowest = SESSIONS;
        while (System.nanoTime() - holdStarted < Duration.ofSeconds(60).toNanos()) {
          lowest = Math.min(lowest, ready(gateway));
          java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofSeconds(5).toNanos());
        }
        double heapAfterHold = liveHeapMiB();
        String row = String.format(Locale.ROOT,
            "| %d idle supervisor sessions (max heap %d MiB) | READY after %.0f s ramp; lowest READY count over 60 s: %d | "
                + "live heap %.0f MiB without sessions, %.0f MiB all READY, %.0f MiB after 60 s (%.1f KiB per session) | "
                + "threads %d without sessions, %d all READY |",
            SESSIONS, maxHeapMiB, rampSeconds, lowest, heapWithoutSessions, heapAllReady, heapAfterHold,
            (heapAfterHold - heapWithoutSessions) * 1024 / SESSIONS, threadsWithoutSessions, threadsAllReady);
        System.out.println(row);
        boolean met = SESSIONS >= 10_000 && maxHeapMiB <= 1024 && lowest == SESSIONS && threadsAllReady < threadsWithoutSessions + 100;
        BenchmarkRow.record("30-idle-sessions", String.format(Locale.ROOT,
                "idle supervisor sessions on one gateway (max heap %d MiB; real supervisor GatewaySessions in a second JVM, 15 s heartbeats, held 60 s)", maxHeapMiB),
            "≥ 10,000 in a 1 GiB heap on 2 cores, no thread per session",
            String.format(Locale.ROOT, "%,d READY after a %.0f s ramp, lowest over 60 s %,d; live heap %.0f MiB (%.1f KiB per session); %d threads",
                SESSIONS, rampSeconds, lowest, heapAfterHold, (heapAfterHold - heapWithoutSessions) * 1024 / SESSIONS, threadsAllReady),
            String.format(Locale.ROOT, "the same %,d sandboxes with no session: %.0f MiB, %d threads", SESSIONS, heapWithoutSessions, threadsWithoutSessions),
            BenchmarkRow.Verdict.of(met));
        if (lowest < SESSIONS) throw new AssertionError("sessions dropped while idle: " + row);
      } finally {
        simulator.destroy();
        if (!simulator.waitFor(30, TimeUnit.SECONDS)) simulator.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
