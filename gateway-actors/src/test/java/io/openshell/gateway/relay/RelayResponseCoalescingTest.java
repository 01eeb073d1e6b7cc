package io.openshell.gateway.relay;

import static io.openshell.gateway.RandomBytes.randomByteString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class RelayResponseCoalescingTest {
  private static final ActorTestKit testKit = ActorTestKit.create("RelayResponseCoalescingTest");

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void framesReadyWhileTheConnectionIsBusyGoOutAsFewerChunksInOrderWithTheTrailersLast() {
    var probes = TestSource.<HttpEntity.ChunkStreamPart>probe(testKit.system().classicSystem())
        .via(RelayResponseCoalescing.chunks(64 * 1024))
        .toMat(TestSink.<HttpEntity.ChunkStreamPart>probe(testKit.system().classicSystem()), Keep.both())
        .run(testKit.system());
    TestPublisher.Probe<HttpEntity.ChunkStreamPart> frames = probes.first();
    TestSubscriber.Probe<HttpEntity.ChunkStreamPart> connection = probes.second();
    ByteString sent = ByteString.emptyByteString();
    // Ten 16 KiB frames and the trailers, while the connection asks for nothing.
    for (int i = 0; i < 10; i++) {
      ByteString frame = randomByteString(16 * 1024 + 9, i);
      sent = sent.concat(frame);
      frames.sendNext(HttpEntity.ChunkStreamPart.create(frame));
    }
    HttpEntity.ChunkStreamPart trailers = HttpEntity.ChunkStreamPart.createLast("", List.of(RawHeader.create("grpc-status", "0")));
    frames.sendNext(trailers);
    frames.sendComplete();

    List<HttpEntity.ChunkStreamPart> out = new ArrayList<>();
    connection.request(100);
    do {
      out.add(connection.expectNext());
    } while (!out.get(out.size() - 1).isLastChunk());
    connection.expectComplete();
    ByteString received = ByteString.emptyByteString();
    for (HttpEntity.ChunkStreamPart part : out.subList(0, out.size() - 1)) {
      assertTrue(!part.isLastChunk() && part.data().size() <= 64 * 1024 + 16 * 1024 + 9, "data chunk of " + part.data().size());
      received = received.concat(part.data());
    }
    assertEquals(sent, received);
    assertTrue(out.size() - 1 < 10, "frames were joined: " + (out.size() - 1) + " data chunks");
    assertSame(trailers, out.get(out.size() - 1));
  }

  @Test
  void aConnectionThatAsksForEveryFrameGetsEachAtOnce() {
    var probes = TestSource.<HttpEntity.ChunkStreamPart>probe(testKit.system().classicSystem())
        .via(RelayResponseCoalescing.chunks(64 * 1024))
        .toMat(TestSink.<HttpEntity.ChunkStreamPart>probe(testKit.system().classicSystem()), Keep.both())
        .run(testKit.system());
    ByteString frame = randomByteString(100, 1);
    probes.second().request(1);
    probes.first().sendNext(HttpEntity.ChunkStreamPart.create(frame));
    assertEquals(frame, probes.second().expectNext().data());
  }
}
