package io.openshell.gateway.api;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class GrpcMessageLimitTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final int LIMIT = 1024 * 1024;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static ByteString message(int flag, int length) {
    ByteBuffer header = ByteBuffer.allocate(5).put((byte) flag).putInt(length);
    return ByteString.fromArray(header.array()).concat(ByteString.fromArray(new byte[length]));
  }

  private static ByteString through(List<ByteString> chunks) throws Exception {
    return Source.from(chunks).via(GrpcMessageLimit.flow(LIMIT))
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), testKit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Status refusal(List<ByteString> chunks) {
    ExecutionException failed = assertThrows(ExecutionException.class, () -> through(chunks));
    return ((GrpcServiceException) failed.getCause()).getStatus();
  }

  @Test
  void aMessageOfExactlyTheLimitPassesUnchanged() throws Exception {
    ByteString exactly = message(0, LIMIT);
    assertEquals(exactly, through(List.of(exactly)));
  }

  @Test
  void aMessageOneByteOverTheLimitIsRefusedResourceExhaustedSayingTheLimit() {
    Status status = refusal(List.of(message(0, LIMIT + 1)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode());
    assertTrue(status.getDescription().contains("1048577 bytes; the gateway accepts at most 1048576"), status.getDescription());
  }

  @Test
  void anOversizedHeaderIsRefusedBeforeItsBodyArrives() {
    ByteString headerOnly = message(0, LIMIT + 1).take(5);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refusal(List.of(headerOnly)).getCode());
  }

  @Test
  void headersSplitAcrossChunksAndManyMessagesPerChunkAreFollowed() throws Exception {
    ByteString stream = message(0, 3).concat(message(0, 0)).concat(message(0, 70_000)).concat(message(0, LIMIT + 1));
    // Chunks that cut headers and bodies at every awkward place.
    List<ByteString> chunks = new java.util.ArrayList<>();
    int[] cuts = {1, 3, 2, 6, 4, 65_536, 7};
    int at = 0;
    for (int i = 0; at < stream.size(); i++) {
      int size = Math.min(cuts[i % cuts.length], stream.size() - at);
      chunks.add(stream.slice(at, at + size));
      at += size;
    }
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refusal(chunks).getCode());
    ByteString allowed = message(0, 3).concat(message(0, 0)).concat(message(0, 70_000));
    assertEquals(allowed, through(List.of(allowed.slice(0, 2), allowed.slice(2, 9), allowed.drop(9))));
  }

  @Test
  void aCompressedMessageIsRefusedUnimplementedWhateverItsSize() {
    Status status = refusal(List.of(message(1, 10)));
    assertEquals(Status.Code.UNIMPLEMENTED, status.getCode());
    assertTrue(status.getDescription().contains("send them uncompressed"), status.getDescription());
  }
}
