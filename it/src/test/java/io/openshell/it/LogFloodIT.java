package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.protocol.v1.CreateSandboxRequest;
import io.openshell.protocol.v1.GetSandboxLogsRequest;
import io.openshell.protocol.v1.GetSandboxLogsResponse;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.PushSandboxLogsRequest;
import io.openshell.protocol.v1.SandboxLogLine;
import io.openshell.protocol.v1.SandboxSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 4 of issue 9, measured: a sandbox that pushes 1 GiB of log lines (as its supervisor would,
 * with PushSandboxLogs) into a real gateway process does not grow the gateway's heap past the
 * per-sandbox bound. Heap is read with jcmd after a full GC, before and after. The size is
 * {@code -Dlogs.flood.mib} (default 1024).
 */
class LogFloodIT {
  private static final int LINE_BYTES = 4096;
  private static final int LINES_PER_REQUEST = 100;
  private static final long BOUND_BYTES = 4L * 1024 * 1024;

  @Test
  void aGibibyteOfLogsStaysWithinThePerSandboxBound() throws Exception {
    long mib = Long.getLong("logs.flood.mib", 1024);
    Path state = Files.createTempDirectory("openshell-log-flood");
    // The test pushes as if it were the sandbox's supervisor, from outside the sandbox: it cannot hold
    // the credential the driver gave the real supervisor, so this gateway does not require one.
    try (GatewayProcess gateway = GatewayProcess.start(state, "sqlite::memory:",
        List.of("-Dopenshell.gateway.sandbox.require-supervisor-credential=off"), List.of())) {
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "log-flood",
          com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local").withFallback(com.typesafe.config.ConfigFactory.load()));
      OpenShellClient client = OpenShellClient.create(
          GrpcClientSettings.connectToServiceAt("127.0.0.1", gateway.port, system).withTls(false), system);
      try {
        String id = client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
            .setName("flood").build()).toCompletableFuture().get(60, TimeUnit.SECONDS).getSandbox().getId();

        Status unknown = failure(client.pushSandboxLogs(Source.single(PushSandboxLogsRequest.newBuilder()
            .setSandboxId("no-such-sandbox").addLogs(SandboxLogLine.newBuilder().setMessage("x")).build())));
        assertEquals(Status.Code.NOT_FOUND, unknown.getCode(), unknown.toString());
        Status empty = failure(client.pushSandboxLogs(Source.single(PushSandboxLogsRequest.getDefaultInstance())));
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.getCode());
        assertEquals("sandbox_id is required", empty.getDescription());

        long before = LiveHeap.bytesAfterFullGc(gateway.process.pid()) / 1024;
        String payload = "x".repeat(LINE_BYTES - 64);
        long requests = mib * 1024 * 1024 / ((long) LINE_BYTES * LINES_PER_REQUEST);
        long started = System.nanoTime();
        client.pushSandboxLogs(Source.range(1, (int) requests).map(r -> {
          PushSandboxLogsRequest.Builder request = PushSandboxLogsRequest.newBuilder().setSandboxId(id);
          for (int i = 0; i < LINES_PER_REQUEST; i++) {
            long seq = (long) (r - 1) * LINES_PER_REQUEST + i + 1;
            request.addLogs(SandboxLogLine.newBuilder().setSandboxId(id).setTimestampMs(System.currentTimeMillis())
                .setLevel("INFO").setTarget("flood").setSource("sandbox").setMessage(seq + " " + payload)
                .putFields("boot_id", "flood-boot").putFields("seq", Long.toString(seq)));
          }
          return request.build();
        })).toCompletableFuture().get(20, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - started) / 1e9;
        long after = LiveHeap.bytesAfterFullGc(gateway.process.pid()) / 1024;

        GetSandboxLogsResponse kept = client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId(id).build())
            .toCompletableFuture().get(60, TimeUnit.SECONDS);
        long keptBytes = kept.getLogsList().stream().mapToLong(SandboxLogLine::getSerializedSize).sum();
        // The sandbox's real supervisor pushes its own lines (another boot) alongside the flood's.
        long lastSeq = kept.getLogsList().stream().filter(l -> l.getFieldsOrDefault("boot_id", "").equals("flood-boot"))
            .mapToLong(l -> Long.parseLong(l.getFieldsOrThrow("seq"))).max().orElse(0);
        String figures = String.format("pushed %d MiB (%d lines) in %.1f s (%.0f MiB/s); gateway heap after full GC %d KiB before,"
                + " %d KiB after (delta %d KiB); buffer keeps %d lines, %d KiB encoded, last seq %d",
            mib, requests * LINES_PER_REQUEST, seconds, mib / seconds, before, after, after - before,
            kept.getBufferTotal(), keptBytes / 1024, lastSeq);
        System.out.println("LOG FLOOD: " + figures);
        Files.writeString(Path.of(System.getProperty("java.io.tmpdir"), "openshell-log-flood.txt"), figures + "\n");
        assertEquals(requests * LINES_PER_REQUEST, lastSeq, "the newest line is kept");
        assertTrue(keptBytes <= BOUND_BYTES, figures);
        assertTrue(kept.getBufferTotal() < 2000, "the byte bound, not the line bound, limited 4 KiB lines: " + figures);
        // The bound plus what a JVM's heap wanders by between two full GCs (class loading, JIT'd code's data,
        // pekko-http connection state): far below the 1 GiB pushed.
        assertTrue(after - before < (BOUND_BYTES + 48L * 1024 * 1024) / 1024, figures);
      } finally {
        client.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        system.terminate();
      }
    }
  }

  private static Status failure(java.util.concurrent.CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return Status.fromThrowable(e.getCause());
  }
}
