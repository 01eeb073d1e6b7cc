package io.openshell.gateway.api;

import io.openshell.gateway.sandbox.SupervisorCredential;
import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.Test;

/** GetSandboxLogs, PushSandboxLogs and WatchSandbox's logs/events against the real gateway wiring (default settings). */
class SandboxLogsApiIT {

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Status failure(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return Status.fromThrowable(e.getCause());
  }

  private static SandboxLogLine line(String level, long seq) {
    return SandboxLogLine.newBuilder().setTimestampMs(1_000 + seq).setLevel(level).setTarget("test")
        .setMessage("line " + seq).putFields("boot_id", "boot-1").putFields("seq", Long.toString(seq)).build();
  }

  private static void push(TestGateway gateway, String id, List<SandboxLogLine> lines) throws Exception {
    await(gateway.client.pushSandboxLogs().addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(id)).invoke(Source.single(PushSandboxLogsRequest.newBuilder().setSandboxId(id).addAllLogs(lines).build())));
  }

  private static Sandbox create(TestGateway gateway, String name) throws Exception {
    return await(gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName(name).build())).getSandbox();
  }

  private static List<String> messages(GetSandboxLogsResponse response) {
    return response.getLogsList().stream().map(SandboxLogLine::getMessage).toList();
  }

  @Test
  void getSandboxLogsChecksItsRequestAndFiltersBySourceLevelTimeAndCount() throws Exception {
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("logs-api"), new AcceptingDriver(), "")) {
      String id = create(gateway, "logged").getId();
      push(gateway, id, List.of(line("DEBUG", 1), line("INFO", 2), line("WARN", 3)));
      // The gateway's own line about this sandbox (source gateway) once a supervisor says Hello.
      SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(id));
      link.send(SupervisorLink.hello(id));
      gateway.awaitReady("logged");

      Status noId = failure(gateway.client.getSandboxLogs(GetSandboxLogsRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, noId.getCode());
      assertEquals("sandbox_id is required", noId.getDescription());
      Status unknown = failure(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId("nope").build()));
      assertEquals(Status.Code.NOT_FOUND, unknown.getCode());
      Status badSource = failure(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId(id).addSources("pod").build()));
      assertEquals("unknown log source 'pod': use gateway, sandbox or all", badSource.getDescription());
      Status badLevel = failure(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId(id).setMinLevel("loud").build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, badLevel.getCode());

      GetSandboxLogsResponse sandboxOnly = await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(id).addSources("sandbox").build()));
      assertEquals(List.of("line 1", "line 2", "line 3"), messages(sandboxOnly));
      assertTrue(sandboxOnly.getLogsList().stream().allMatch(l -> l.getSandboxId().equals(id) && l.getSource().equals("sandbox")));
      GetSandboxLogsResponse gatewayOnly = await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(id).addSources("gateway").build()));
      assertTrue(gatewayOnly.getLogsList().stream().anyMatch(l -> l.getMessage().startsWith("supervisor session connected sandbox_id=" + id)),
          gatewayOnly.toString());
      assertEquals(List.of("line 3"), messages(await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(id).addSources("sandbox").setMinLevel("warn").build()))));
      assertEquals(List.of("line 2", "line 3"), messages(await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(id).addSources("sandbox").setSinceMs(1_002).build()))));
      assertEquals(List.of("line 2", "line 3"), messages(await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(id).addSources("sandbox").setLines(2).build()))));
    }
  }

  @Test
  void theBufferKeepsTheDefault2000LinesAtItsEdgeAndAResentBatchOnce() throws Exception {
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("logs-api-bound"), new AcceptingDriver(), "")) {
      String id = create(gateway, "bounded").getId();
      push(gateway, id, IntStream.rangeClosed(1, 1000).mapToObj(i -> line("INFO", i)).toList());
      push(gateway, id, IntStream.rangeClosed(1001, 2000).mapToObj(i -> line("INFO", i)).toList());
      GetSandboxLogsResponse full = await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId(id).build()));
      assertEquals(2000, full.getBufferTotal());
      assertEquals("line 1", full.getLogs(0).getMessage());

      push(gateway, id, List.of(line("INFO", 2001)));
      GetSandboxLogsResponse past = await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId(id).build()));
      assertEquals(2000, past.getBufferTotal(), "one past the bound evicts the oldest");
      assertEquals("line 2", past.getLogs(0).getMessage());
      assertEquals("line 2001", past.getLogs(1999).getMessage());

      push(gateway, id, IntStream.rangeClosed(1990, 2001).mapToObj(i -> line("INFO", i)).toList());
      GetSandboxLogsResponse resent = await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder().setSandboxId(id).build()));
      assertEquals(messages(past), messages(resent), "a batch sent again after a reconnect is stored once");
    }
  }

  @Test
  void watchFollowsLogsAndEventsFromTheirTailsAndEndsWhenTheSandboxIsDeleted() throws Exception {
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("logs-api-watch"), new AcceptingDriver(), "")) {
      String id = create(gateway, "followed").getId();
      push(gateway, id, IntStream.rangeClosed(1, 5).mapToObj(i -> line("INFO", i)).toList());
      Status badLevel = Status.fromThrowable(gateway.client.watchSandbox(WatchSandboxRequest.newBuilder().setId(id)
          .setFollowLogs(true).setLogMinLevel("loud").build()).runWith(TestSink.create(gateway.system), gateway.system)
          .request(1).expectError());
      assertEquals(Status.Code.INVALID_ARGUMENT, badLevel.getCode());

      TestSubscriber.Probe<SandboxStreamEvent> watch = gateway.client.watchSandbox(WatchSandboxRequest.newBuilder().setId(id)
              .setFollowLogs(true).setLogTailLines(2).addLogSources("sandbox").build())
          .runWith(TestSink.create(gateway.system), gateway.system);
      watch.request(100);
      List<SandboxStreamEvent> first = new ArrayList<>();
      for (int i = 0; i < 3; i++) first.add(watch.expectNext(Duration.ofSeconds(20)));
      assertEquals(1, first.stream().filter(SandboxStreamEvent::hasSandbox).count(), "the snapshot comes first, once");
      assertEquals(List.of("line 4", "line 5"), first.stream().filter(SandboxStreamEvent::hasLog).map(e -> e.getLog().getMessage()).toList());

      push(gateway, id, List.of(line("INFO", 6)));
      assertEquals("line 6", watch.expectNext(Duration.ofSeconds(20)).getLog().getMessage());

      await(gateway.client.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("followed").build()));
      watch.expectComplete();
    }
  }

  @Test
  void stopOnTerminalEndsALogWatchWhenTheSandboxIsReady() throws Exception {
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("logs-api-stop"), new AcceptingDriver(), "")) {
      String id = create(gateway, "stopping").getId();
      TestSubscriber.Probe<SandboxStreamEvent> watch = gateway.client.watchSandbox(WatchSandboxRequest.newBuilder().setId(id)
              .setFollowStatus(true).setFollowLogs(true).setFollowEvents(true).setStopOnTerminal(true).build())
          .runWith(TestSink.create(gateway.system), gateway.system);
      watch.request(100);
      assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, watch.expectNext(Duration.ofSeconds(20)).getSandbox().getPhase());
      SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(id));
      link.send(SupervisorLink.hello(id));
      SandboxStreamEvent next;
      do {
        next = watch.expectNext(Duration.ofSeconds(20));
      } while (!next.hasSandbox());
      assertEquals(SandboxPhase.SANDBOX_PHASE_READY, next.getSandbox().getPhase());
      watch.expectComplete();
    }
  }

  @Test
  void pushSandboxLogsNeedsThatSandboxsCredentialAndRefusedLinesAreNotKept() throws Exception {
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("logs-api-credential"), new AcceptingDriver(), "")) {
      String a = create(gateway, "logs-a").getId();
      String b = create(gateway, "logs-b").getId();
      PushSandboxLogsRequest intoA = PushSandboxLogsRequest.newBuilder().setSandboxId(a).addLogs(line("INFO", 1)).build();

      Status anonymous = failure(gateway.client.pushSandboxLogs(Source.single(intoA)));
      assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getCode());
      assertTrue(anonymous.getDescription().contains("x-sandbox-credential"), anonymous.getDescription());
      Status asB = failure(gateway.client.pushSandboxLogs().addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(b))
          .invoke(Source.single(intoA)));
      assertEquals(Status.Code.PERMISSION_DENIED, asB.getCode());
      // B's own stream may not slip a request for A in after one of its own.
      Status smuggled = failure(gateway.client.pushSandboxLogs().addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(b))
          .invoke(Source.from(List.of(PushSandboxLogsRequest.newBuilder().setSandboxId(b).addLogs(line("INFO", 2)).build(), intoA))));
      assertEquals(Status.Code.PERMISSION_DENIED, smuggled.getCode());
      Status unknown = failure(gateway.client.pushSandboxLogs().addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(b))
          .invoke(Source.single(PushSandboxLogsRequest.newBuilder().setSandboxId("no-such-sandbox").addLogs(line("INFO", 3)).build())));
      assertEquals(Status.Code.NOT_FOUND, unknown.getCode());
      assertEquals(List.of(), messages(await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(a).addSources("sandbox").build()))));

      push(gateway, a, List.of(line("INFO", 4)));
      assertEquals(List.of("line 4"), messages(await(gateway.client.getSandboxLogs(GetSandboxLogsRequest.newBuilder()
          .setSandboxId(a).addSources("sandbox").build()))));
    }
  }
}
