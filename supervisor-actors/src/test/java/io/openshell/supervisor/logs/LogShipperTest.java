package io.openshell.supervisor.logs;

import static org.junit.jupiter.api.Assertions.*;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.SandboxLogLine;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LogShipperTest {
  private static final ActorTestKit testKit = ActorTestKit.create(com.typesafe.config.ConfigFactory
      .parseString("pekko.http.server.enable-http2 = on").withFallback(com.typesafe.config.ConfigFactory.load()));
  private static final Duration WAIT = Duration.ofSeconds(20);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static List<SandboxLogLine> delivered(PushRecorder gateway, String target) {
    return gateway.pushes.stream().filter(PushRecorder.Push::accepted)
        .flatMap(p -> p.requests().stream()).flatMap(r -> r.getLogsList().stream())
        .filter(l -> l.getTarget().equals(target)).toList();
  }

  @Test
  void linesWaitForASessionAndARefusedBatchIsSentAgainWithTheSameNumbers() throws Exception {
    PushRecorder gateway = new PushRecorder(testKit.system());
    int port = gateway.start();
    OpenShellClient client = OpenShellClient.create(
        GrpcClientSettings.connectToServiceAt("127.0.0.1", port, testKit.system()).withTls(false), testKit.system());
    LogShippingSettings settings = new LogShippingSettings(true, 64, 256 * 1024, Duration.ofMillis(50), 1024,
        Duration.ofMillis(100), Duration.ofMillis(400));
    ActorRef<LogShipper.Command> shipper = testKit.spawn(LogShipper.create(settings, "sb-1", "boot-1"));
    try {
      Logger log = LoggerFactory.getLogger("shipper-test");
      String target = "shipper-test";
      org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<Object> probe = testKit.createTestProbe();
      // The shipper attaches its capture when it starts (spawning is asynchronous).
      probe.awaitAssert(WAIT, () -> {
        assertNotNull(((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(Logger.ROOT_LOGGER_NAME)
            .getAppender("push-sandbox-logs-boot-1"));
        return null;
      });
      for (int i = 1; i <= 3; i++) log.info("before the session {}", i);
      probe.expectNoMessage(Duration.ofMillis(500));
      assertTrue(gateway.pushes.isEmpty(), "nothing is pushed without a session");

      gateway.refuse.set(1);
      shipper.tell(new LogShipper.SessionLive(client));
      probe.awaitAssert(WAIT, () -> {
        assertEquals(3, delivered(gateway, target).size(), () -> gateway.pushes.stream()
            .map(p -> p.accepted() + ":" + p.requests().stream().mapToInt(r -> r.getLogsCount()).sum()
                + ":" + p.requests().stream().flatMap(r -> r.getLogsList().stream()).map(SandboxLogLine::getTarget).distinct().toList())
            .toList().toString());
        return null;
      });
      List<SandboxLogLine> lines = delivered(gateway, target);
      assertEquals(List.of("before the session 1", "before the session 2", "before the session 3"),
          lines.stream().map(SandboxLogLine::getMessage).toList());
      assertTrue(lines.stream().allMatch(l -> l.getSandboxId().equals("sb-1") && l.getFieldsOrThrow("boot_id").equals("boot-1")));
      PushRecorder.Push refused = gateway.pushes.get(0);
      assertFalse(refused.accepted());
      List<String> refusedSeqs = refused.requests().get(0).getLogsList().stream().map(l -> l.getFieldsOrThrow("seq")).toList();
      List<String> acceptedSeqs = gateway.pushes.get(1).requests().get(0).getLogsList().stream().map(l -> l.getFieldsOrThrow("seq")).toList();
      assertEquals(refusedSeqs, acceptedSeqs, "the refused batch went again, the same lines with the same numbers");

      shipper.tell(LogShipper.SessionLost.INSTANCE);
      // A push of other lines that left before the shipper learned of the loss may still land: count
      // from when it has settled (the shipper cannot call back a request already sent).
      probe.expectNoMessage(Duration.ofMillis(500));
      int before = gateway.pushes.size();
      log.info("while disconnected");
      probe.expectNoMessage(Duration.ofMillis(500));
      assertEquals(before, gateway.pushes.size(), "nothing is pushed between sessions");
      assertTrue(delivered(gateway, target).stream().noneMatch(l -> l.getMessage().equals("while disconnected")),
          "the line logged between sessions waits for the next session");
      shipper.tell(new LogShipper.SessionLive(client));
      probe.awaitAssert(WAIT, () -> {
        assertEquals("while disconnected", delivered(gateway, target).get(3).getMessage());
        return null;
      });
    } finally {
      testKit.stop(shipper);
      client.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
      gateway.stop();
    }
  }

  @Test
  void aFullQueueDropsNewLinesAndLeavesAGapInTheNumbers() throws Exception {
    var queued = Source.<SandboxLogLine>queue(3).preMaterialize(testKit.system());
    LogCapture capture = new LogCapture(queued.first(), "sb", "boot", 1000);
    LoggerContext loggers = new LoggerContext();
    capture.setContext(loggers);
    capture.start();
    for (int i = 1; i <= 5; i++) {
      capture.doAppend(new LoggingEvent("x", loggers.getLogger("t"), Level.INFO, "line " + i, null, null));
    }
    List<SandboxLogLine> kept = queued.second().take(3).runWith(Sink.seq(), testKit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("1", "2", "3"), kept.stream().map(l -> l.getFieldsOrThrow("seq")).toList(),
        "queue-size 3: lines 4 and 5 were dropped, and their numbers are gone with them");
  }
}
