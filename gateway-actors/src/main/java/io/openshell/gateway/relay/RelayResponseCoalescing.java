package io.openshell.gateway.relay;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Hands the gRPC-encoded frames of a {@code RelayStream} response to pekko-http's HTTP/2 layer in
 * chunks of up to {@code maxBytes} instead of one chunk per frame.
 *
 * <p>pekko-http pulls one chunk of a response at a time and keeps at most two HTTP/2 frames (32 KiB) of
 * it buffered, so with a 16 KiB relay frame per chunk every frame cost a pull/push round trip between
 * the response stream and the connection's stage, and the connection wrote one HTTP/2 frame per TCP
 * write: bulk bytes to the supervisor were bound by those hand-offs, not by CPU (docs/benchmarks.md).
 * Frames that are ready while the connection is still busy are joined here, so one hand-off carries
 * many frames and the connection can write them together. The gRPC messages themselves stay ≤ the
 * relay frame size; only how they are handed on changes. Nothing waits for more bytes: a chunk goes
 * out as soon as the connection asks, whatever it holds (the batch only grows while it is busy), so
 * latency is unchanged and at most {@code maxBytes} are held here per relay.
 */
public final class RelayResponseCoalescing {
  /** The RelayStream method's request path. */
  public static final String PATH = "/openshell.v1.OpenShell/RelayStream";

  private RelayResponseCoalescing() {}

  /** {@code openshell.gateway.relay.coalesce-bytes}. */
  public static int maxBytes(com.typesafe.config.Config gateway) {
    return (int) gateway.getMemorySize("relay.coalesce-bytes").toBytes();
  }

  public static boolean appliesTo(HttpRequest request) {
    return request.getUri().path().equals(PATH);
  }

  /** The response with its chunked entity's data coalesced; any other entity unchanged. */
  public static HttpResponse apply(HttpResponse response, int maxBytes) {
    ResponseEntity entity = response.entity();
    if (!(entity instanceof org.apache.pekko.http.scaladsl.model.HttpEntity.Chunked chunked)) return response;
    Source<HttpEntity.ChunkStreamPart, Object> coalesced = chunked.getChunks().via(chunks(maxBytes)).mapMaterializedValue(any -> any);
    return response.withEntity(new org.apache.pekko.http.scaladsl.model.HttpEntity.Chunked(chunked.contentType(),
        coalesced.map(part -> (org.apache.pekko.http.scaladsl.model.HttpEntity.ChunkStreamPart) part).asScala()));
  }

  /**
   * Joins consecutive data chunks while downstream is busy, up to {@code maxBytes} per chunk; the last
   * chunk (which carries the gRPC trailers) passes unchanged after the data before it.
   */
  static Flow<HttpEntity.ChunkStreamPart, HttpEntity.ChunkStreamPart, NotUsed> chunks(int maxBytes) {
    return Flow.<HttpEntity.ChunkStreamPart>create()
        .batchWeighted(maxBytes, part -> part.isLastChunk() ? 0L : part.data().size(), Batch::of, Batch::add)
        .mapConcat(Batch::parts);
  }

  /** Data joined so far, and the last chunk once it arrived (nothing follows it). */
  private record Batch(ByteString data, Optional<HttpEntity.ChunkStreamPart> last) {
    static Batch of(HttpEntity.ChunkStreamPart part) {
      return part.isLastChunk() ? new Batch(ByteString.emptyByteString(), Optional.of(part)) : new Batch(part.data(), Optional.empty());
    }

    Batch add(HttpEntity.ChunkStreamPart part) {
      return part.isLastChunk() ? new Batch(data, Optional.of(part)) : new Batch(data.concat(part.data()), last);
    }

    List<HttpEntity.ChunkStreamPart> parts() {
      List<HttpEntity.ChunkStreamPart> parts = new ArrayList<>(2);
      if (!data.isEmpty()) parts.add(HttpEntity.ChunkStreamPart.create(data));
      last.ifPresent(parts::add);
      return parts;
    }
  }
}
