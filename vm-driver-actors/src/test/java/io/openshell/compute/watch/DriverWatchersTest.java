package io.openshell.compute.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.openshell.protocol.compute.v1.WatchSandboxesDeletedEvent;
import io.openshell.protocol.compute.v1.WatchSandboxesEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The watchers are called from one thread here, as from their registry actor. */
class DriverWatchersTest {
  // A watcher's stream that is not run yet must not be cancelled by the subscription timeout while a
  // test fills its queue, however slow the machine.
  private static final ActorTestKit testKit = ActorTestKit.create("DriverWatchersTest", ConfigFactory.parseString(
      "pekko.stream.materializer.subscription-timeout.timeout = 120s").withFallback(ConfigFactory.load()));
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static WatchSandboxesEvent event(String id) {
    return WatchSandboxesEvent.newBuilder().setDeleted(WatchSandboxesDeletedEvent.newBuilder().setSandboxId(id)).build();
  }

  private static TestSubscriber.Probe<WatchSandboxesEvent> run(Source<WatchSandboxesEvent, ?> watch) {
    return watch.runWith(TestSink.probe(testKit.system().classicSystem()), testKit.system());
  }

  @Test
  void aWatcherGetsTheSnapshotThenEveryLaterEventInOrderEvenThosePublishedBeforeItsStreamRuns() {
    DriverWatchers watchers = new DriverWatchers(testKit.system(), DriverWatchers.BUFFER, id -> {});
    Source<WatchSandboxesEvent, ?> watch = watchers.subscribe(List.of(event("s1"), event("s2")));
    // Published while nobody has run the stream yet: the gap a BroadcastHub consumer had.
    watchers.publish(event("e1"));
    TestSubscriber.Probe<WatchSandboxesEvent> probe = run(watch);
    watchers.publish(event("e2"));
    probe.request(10);
    for (String id : List.of("s1", "s2", "e1", "e2")) assertEquals(id, probe.expectNext(PATIENCE).getDeleted().getSandboxId());
    probe.cancel();
  }

  @Test
  void aWatcherThatTakesNothingIsFailedAloneWithWhatToDoOnceItsQueueIsFull() {
    DriverWatchers watchers = new DriverWatchers(testKit.system(), 3, id -> {});
    // Not run: it takes nothing. Its queue holds its snapshot of two plus three events; the stream's
    // async boundary may also take a few (at most pekko's input buffer, 16) out of it meanwhile.
    Source<WatchSandboxesEvent, ?> slow = watchers.subscribe(List.of(event("s1"), event("s2")));
    TestSubscriber.Probe<WatchSandboxesEvent> keeping = run(watchers.subscribe(List.of()));
    keeping.request(1000);
    for (int i = 1; i <= 100; i++) {
      watchers.publish(event("e" + i));
      // The other watcher keeps up: it has each event before the next is published.
      assertEquals("e" + i, keeping.expectNext(PATIENCE).getDeleted().getSandboxId());
      if (i == 3) assertEquals(2, watchers.size(), "three events beyond the snapshot always fit a buffer of three");
    }
    assertEquals(1, watchers.size(), "a hundred do not: the slow watcher is dropped");
    Throwable failure = run(slow).expectSubscriptionAndError();
    assertEquals("this WatchSandboxes stream fell behind the driver (its queue of 3 events beyond the snapshot is full);"
        + " watch again to start from a fresh snapshot", failure.getMessage());
    keeping.cancel();
  }

  @Test
  void aWatcherWhoseStreamEndsIsReportedAndForgotten() throws Exception {
    LinkedBlockingQueue<Long> ended = new LinkedBlockingQueue<>();
    DriverWatchers watchers = new DriverWatchers(testKit.system(), DriverWatchers.BUFFER, ended::add);
    TestSubscriber.Probe<WatchSandboxesEvent> probe = run(watchers.subscribe(List.of()));
    run(watchers.subscribe(List.of())).cancel();
    Long gone = ended.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    assertEquals(1L, gone, "the cancelled (second) watcher");
    watchers.ended(gone);
    assertEquals(1, watchers.size());
    watchers.publish(event("e1"));
    probe.request(1);
    assertEquals("e1", probe.expectNext(PATIENCE).getDeleted().getSandboxId());
    probe.cancel();
  }

  @Test
  void theBufferMustHoldAnEvent() {
    assertThrows(IllegalArgumentException.class, () -> new DriverWatchers(testKit.system(), 0, id -> {}));
  }
}
