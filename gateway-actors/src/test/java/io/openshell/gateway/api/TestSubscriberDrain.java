package io.openshell.gateway.api;

import java.time.Duration;
import org.apache.pekko.stream.testkit.TestSubscriber;

/** Reads a stream's remaining elements (heartbeats) until it completes or the deadline passes. */
final class TestSubscriberDrain {
  private TestSubscriberDrain() {}

  static void untilComplete(TestSubscriber.Probe<?> probe, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      probe.request(1);
      Object next = probe.expectEvent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (next instanceof TestSubscriber.OnComplete$) return;
      if (next instanceof TestSubscriber.OnError error) throw new AssertionError("stream failed", error.cause());
    }
    throw new AssertionError("stream did not complete within " + within);
  }
}
