package io.openshell.gateway.logs;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.sandbox.Phase;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.protocol.compute.v1.DriverPlatformEvent;
import io.openshell.protocol.v1.SandboxLogLine;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SandboxLogsTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final LogSettings SETTINGS = new LogSettings(3, 1 << 20, 1000, 2, Duration.ofMillis(500), 512);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static SandboxLogLine line(String sandboxId, String message) {
    return SandboxLogLine.newBuilder().setSandboxId(sandboxId).setTimestampMs(1).setLevel("INFO").setSource("sandbox")
        .setMessage(message).build();
  }

  private record Started(ActorRef<SandboxLogs.Command> logs, ActorRef<Topic.Command<SandboxView>> views) {}

  private static Started start(String topic) {
    ActorRef<Topic.Command<SandboxView>> views = testKit.spawn(Topic.create(SandboxView.class, topic));
    return new Started(testKit.spawn(SandboxLogs.create(SETTINGS, views)), views);
  }

  private static void push(ActorRef<SandboxLogs.Command> logs, String sandboxId, String... messages) {
    TestProbe<Done> done = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Push(sandboxId, java.util.Arrays.stream(messages).map(m -> line(sandboxId, m)).toList(), done.getRef()));
    done.expectMessage(Done.getInstance());
  }

  @Test
  void aParkedFollowerIsAnsweredByTheNextLineOfItsSandboxOnly() {
    ActorRef<SandboxLogs.Command> logs = start("views-1").logs();
    push(logs, "a", "a1");
    TestProbe<SandboxLogs.Batch> follower = testKit.createTestProbe();
    logs.tell(new SandboxLogs.StartFollow("a", 10, LogFilter.ALL, 10, follower.getRef()));
    SandboxLogs.Batch first = follower.receiveMessage();
    assertEquals(List.of("a1"), first.lines().stream().map(SandboxLogLine::getMessage).toList());

    logs.tell(new SandboxLogs.Follow("f1", "a", first.logCursor(), first.eventCursor(), LogFilter.ALL, follower.getRef()));
    follower.expectNoMessage(Duration.ofMillis(200));
    push(logs, "b", "b1");
    follower.expectNoMessage(Duration.ofMillis(200));
    push(logs, "a", "a2");
    SandboxLogs.Batch next = follower.receiveMessage(Duration.ofSeconds(5));
    assertEquals(List.of("a2"), next.lines().stream().map(SandboxLogLine::getMessage).toList());
    assertFalse(next.ended());
  }

  @Test
  void aFollowerWithNothingNewIsAnsweredEmptyAfterFollowWait() {
    ActorRef<SandboxLogs.Command> logs = start("views-2").logs();
    push(logs, "a", "a1");
    TestProbe<SandboxLogs.Batch> follower = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Follow("f2", "a", 1, 0, LogFilter.ALL, follower.getRef()));
    SandboxLogs.Batch empty = follower.receiveMessage(Duration.ofSeconds(5));
    assertTrue(empty.lines().isEmpty());
    assertEquals(1, empty.logCursor());
  }

  @Test
  void aFollowerThatFellBehindLearnsHowManyLinesItMissed() {
    ActorRef<SandboxLogs.Command> logs = start("views-3").logs();
    push(logs, "a", "1", "2", "3", "4", "5");
    TestProbe<SandboxLogs.Batch> follower = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Follow("f3", "a", 0, 0, LogFilter.ALL, follower.getRef()));
    SandboxLogs.Batch batch = follower.receiveMessage();
    assertEquals(2, batch.missedLines(), "the bound of 3 evicted two lines before it read them");
    assertEquals(List.of("3", "4", "5"), batch.lines().stream().map(SandboxLogLine::getMessage).toList());
  }

  @Test
  void platformEventsReachFollowersAndTheTail() {
    ActorRef<SandboxLogs.Command> logs = start("views-4").logs();
    TestProbe<SandboxLogs.Batch> follower = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Follow("f4", "a", 0, 0, LogFilter.ALL, follower.getRef()));
    logs.tell(new SandboxLogs.RecordEvent("a", SandboxLogs.fromDriver(DriverPlatformEvent.newBuilder().setTimestampMs(5)
        .setSource("process").setType("Warning").setReason("ProcessExited").setMessage("exited").putMetadata("k", "v").build())));
    SandboxLogs.Batch batch = follower.receiveMessage(Duration.ofSeconds(5));
    assertEquals(1, batch.events().size());
    assertEquals("ProcessExited", batch.events().get(0).getReason());
    assertEquals("v", batch.events().get(0).getMetadataOrThrow("k"));
  }

  @Test
  void removingTheSandboxEndsItsFollowersAndFreesItsBuffer() {
    Started started = start("views-5");
    ActorRef<SandboxLogs.Command> logs = started.logs();
    push(logs, "a", "a1");
    TestProbe<SandboxLogs.Batch> follower = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Follow("f5", "a", 1, 0, LogFilter.ALL, follower.getRef()));
    started.views().tell(Topic.publish(new SandboxView("a", "a", new byte[0], 0, Phase.DELETING, List.of(), "", 9, true)));
    assertTrue(follower.receiveMessage(Duration.ofSeconds(5)).ended());
    TestProbe<SandboxLogs.Usage.Reply> usage = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Usage("a", usage.getRef()));
    assertEquals(0, usage.receiveMessage().lines());
    push(logs, "a", "late");
    logs.tell(new SandboxLogs.Usage("a", usage.getRef()));
    assertEquals(0, usage.receiveMessage().lines(), "a late push does not bring the buffer back");
  }

  @Test
  void gatewayLinesCreateNoBufferForIdsThatAreNoSandboxButWaitForASandboxThatAppears() {
    Started started = start("views-6");
    ActorRef<SandboxLogs.Command> logs = started.logs();
    for (int i = 0; i < 1000; i++) {
      logs.tell(new SandboxLogs.GatewayLine(line("made-up-" + i, "supervisor session registration failed sandbox_id=made-up-" + i)));
    }
    logs.tell(new SandboxLogs.GatewayLine(line("real", "supervisor session connected sandbox_id=real")));
    TestProbe<SandboxLogs.Usage.Reply> usage = testKit.createTestProbe();
    logs.tell(new SandboxLogs.Usage("real", usage.getRef()));
    SandboxLogs.Usage.Reply before = usage.receiveMessage();
    assertEquals(0, before.buffers(), "client-chosen ids create no buffers");

    started.views().tell(Topic.publish(new SandboxView("real", "real", new byte[0], 0, Phase.READY, List.of(), "", 3, false)));
    usage.awaitAssert(Duration.ofSeconds(5), () -> {
      logs.tell(new SandboxLogs.Usage("real", usage.getRef()));
      SandboxLogs.Usage.Reply after = usage.receiveMessage();
      assertEquals(1, after.buffers());
      assertEquals(1, after.lines(), "the line logged just before the sandbox's view arrived is kept");
      return null;
    });
  }
}
