package io.openshell.gateway.relay;

import static io.openshell.gateway.RandomBytes.randomByteString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class CoalesceReadyBytesTest {
  private static final int MAX = 64 * 1024;
  private static final ActorTestKit testKit = ActorTestKit.create("CoalesceReadyBytesTest");

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static List<ByteString> run(Source<ByteString, ?> source) throws Exception {
    return source.via(new CoalesceReadyBytes(MAX)).runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ByteString joined(List<ByteString> elements) {
    ByteString all = ByteString.emptyByteString();
    for (ByteString element : elements) all = all.concat(element);
    return all;
  }

  private static Probes probes() {
    var pair = TestSource.<ByteString>probe(testKit.system().classicSystem())
        .via(new CoalesceReadyBytes(MAX))
        .toMat(TestSink.<ByteString>probe(testKit.system().classicSystem()), Keep.both())
        // The probe's boundary asks for one element at a time (and holds at most one): its requests show the stage's.
        .addAttributes(Attributes.inputBuffer(1, 1))
        .run(testKit.system());
    return new Probes(pair.first(), pair.second());
  }

  private record Probes(TestPublisher.Probe<ByteString> upstream, TestSubscriber.Probe<ByteString> downstream) {}

  @Test
  void chunksProducedTogetherBecomeOneElement() throws Exception {
    List<ByteString> frames = new ArrayList<>();
    for (int i = 0; i < 4; i++) frames.add(randomByteString(16 * 1024, i));
    List<ByteString> out = run(Source.from(frames));
    assertEquals(1, out.size(), "four 16 KiB frames ready at once");
    assertEquals(joined(frames), out.get(0));
  }

  @Test
  void elementsNeverExceedTheMaximumAndKeepEveryByteInOrder() throws Exception {
    List<ByteString> frames = new ArrayList<>();
    for (int i = 0; i < 37; i++) frames.add(randomByteString(1 + (i * 7919) % (40 * 1024), i));
    frames.add(randomByteString(300 * 1024, 99));
    List<ByteString> out = run(Source.from(frames));
    assertTrue(out.stream().allMatch(e -> e.size() <= MAX && !e.isEmpty()), "every element 1 to 64 KiB");
    assertEquals(joined(frames), joined(out));
    assertTrue(out.size() < frames.size(), "joined: " + out.size() + " elements for " + frames.size() + " chunks");
  }

  @Test
  void anOversizedChunkIsCutAtTheMaximum() throws Exception {
    ByteString big = randomByteString(100 * 1024, 7);
    List<ByteString> out = run(Source.single(big));
    assertEquals(List.of(MAX, 100 * 1024 - MAX), out.stream().map(ByteString::size).toList());
    assertEquals(big, joined(out));
  }

  @Test
  void aLoneChunkGoesOnWithoutWaitingForMore() {
    Probes p = probes();
    p.downstream().request(1);
    ByteString keystroke = ByteString.fromString("l");
    p.upstream().sendNext(keystroke);
    // Upstream stays open and sends nothing more: the byte must not wait for company.
    assertEquals(keystroke, p.downstream().expectNext(Duration.ofSeconds(5)));
    p.upstream().sendComplete();
    p.downstream().request(1);
    p.downstream().expectComplete();
  }

  @Test
  void withoutDemandItHoldsAtMostTheMaximumThenStopsAsking() {
    Probes p = probes();
    // Four 16 KiB chunks reach the stage; the fifth waits in the probe's one-element boundary.
    for (int i = 0; i < 5; i++) {
      assertEquals(1, p.upstream().expectRequest());
      p.upstream().sendNext(randomByteString(16 * 1024, i));
    }
    // 64 KiB held and nobody downstream asking: upstream must not be asked for more.
    p.upstream().expectNoMessage(Duration.ofMillis(300));
    assertEquals(0, p.upstream().pending(), "no demand upstream while 64 KiB are held");
    p.downstream().request(1);
    assertEquals(MAX, p.downstream().expectNext().size());
    // Handed on: the stage takes the fifth and the boundary asks for the next.
    assertEquals(1, p.upstream().expectRequest());
    p.downstream().request(1);
    assertEquals(16 * 1024, p.downstream().expectNext().size());
  }

  @Test
  void bytesHeldWhenUpstreamEndsAreHandedOnBeforeCompletion() {
    Probes p = probes();
    p.upstream().sendNext(randomByteString(1000, 1));
    p.upstream().sendNext(randomByteString(2000, 2));
    p.upstream().sendComplete();
    p.downstream().request(5);
    assertEquals(3000, p.downstream().expectNext().size());
    p.downstream().expectComplete();
  }

  @Test
  void aFailureIsPassedOn() {
    Probes p = probes();
    p.downstream().request(1);
    IllegalStateException broken = new IllegalStateException("supervisor stream reset");
    p.upstream().sendError(broken);
    assertEquals(broken, p.downstream().expectError());
  }
}
