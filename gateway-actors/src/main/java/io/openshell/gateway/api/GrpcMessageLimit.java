package io.openshell.gateway.api;

import io.grpc.Status;
import org.apache.pekko.NotUsed;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Watches a gRPC request body's length-prefixed messages (1 flag byte, 4 length bytes, the message)
 * and passes the bytes through unchanged. It fails the body with RESOURCE_EXHAUSTED as soon as a
 * message header declares more than the limit, before any of that message is buffered, and with
 * UNIMPLEMENTED for a compressed message: the gateway offers no request compression, and a small
 * gzip frame can inflate past any limit after this check.
 */
final class GrpcMessageLimit extends GraphStage<FlowShape<ByteString, ByteString>> {
  private static final int HEADER_BYTES = 5;

  private final int maxBytes;
  private final Inlet<ByteString> in = Inlet.create("GrpcMessageLimit.in");
  private final Outlet<ByteString> out = Outlet.create("GrpcMessageLimit.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);

  GrpcMessageLimit(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The request with its body checked against the limit for its method (gRPC requests only). */
  static HttpRequest apply(HttpRequest request, GrpcLimits limits) {
    if (!request.entity().getContentType().mediaType().toString().startsWith("application/grpc")) return request;
    int limit = limits.forPath(request.getUri().path());
    return request.withEntity(HttpEntities.create(request.entity().getContentType(),
        request.entity().getDataBytes().via(flow(limit))));
  }

  static Flow<ByteString, ByteString, NotUsed> flow(int maxBytes) {
    return Flow.fromGraph(new GrpcMessageLimit(maxBytes));
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      /** Header bytes of the current message seen so far (0..5); 5 means its body is being passed. */
      private int headerSeen;
      private final byte[] header = new byte[HEADER_BYTES];
      /** Body bytes of the current message still to come. */
      private long bodyLeft;
      private boolean refusing;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString chunk = grab(in);
            if (refusing) {
              pull(in);
              return;
            }
            GrpcServiceException refused = scan(chunk);
            if (refused != null) {
              // The refusal goes to pekko-grpc, which answers with it. The rest of the body is read and
              // dropped: cancelling it would make pekko-http reset the stream (RST_STREAM CANCEL)
              // before the answer reaches the client.
              refusing = true;
              fail(out, refused);
              pull(in);
            } else {
              push(out, chunk);
            }
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      private GrpcServiceException scan(ByteString chunk) {
        int at = 0;
        int size = chunk.size();
        while (at < size) {
          if (headerSeen == HEADER_BYTES && bodyLeft > 0) {
            int skipped = (int) Math.min(bodyLeft, size - at);
            bodyLeft -= skipped;
            at += skipped;
            continue;
          }
          if (headerSeen == HEADER_BYTES) headerSeen = 0;
          header[headerSeen++] = chunk.apply(at++);
          if (headerSeen < HEADER_BYTES) continue;
          long length = ((header[1] & 0xffL) << 24) | ((header[2] & 0xffL) << 16) | ((header[3] & 0xffL) << 8) | (header[4] & 0xffL);
          if ((header[0] & 1) != 0) {
            return new GrpcServiceException(Status.UNIMPLEMENTED.withDescription(
                "compressed request messages are not accepted; send them uncompressed (no grpc-encoding)"));
          }
          if (length > maxBytes) {
            return new GrpcServiceException(Status.RESOURCE_EXHAUSTED.withDescription("request message is " + length
                + " bytes; the gateway accepts at most " + maxBytes + " (send smaller messages: split data into"
                + " several, or copy files with sandbox upload)"));
          }
          bodyLeft = length;
        }
        return null;
      }
    };
  }
}
