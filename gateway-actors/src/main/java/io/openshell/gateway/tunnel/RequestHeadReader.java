package io.openshell.gateway.tunnel;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractGraphStageWithMaterializedValue;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Reads one HTTP request head off a raw connection, then passes the remaining bytes through. The head
 * (up to and including the blank line) is the materialized value; it fails with a
 * {@link TunnelRefusal} when the head grows past {@code maxBytes} (431) or is not complete within
 * {@code timeout} (408), and with {@link HeadNotReceived} when the client closes first.
 *
 * <p>It pulls on its own while reading the head (nothing downstream wants bytes yet) and holds at most
 * {@code maxBytes} plus one read; afterwards it moves bytes only on downstream demand, the bytes that
 * came in with the head first, so backpressure reaches the client's socket.
 */
final class RequestHeadReader
    extends AbstractGraphStageWithMaterializedValue<FlowShape<ByteString, ByteString>, CompletionStage<ByteString>> {

  /** The client closed or broke the connection before a complete head. */
  static final class HeadNotReceived extends RuntimeException {
    HeadNotReceived(String message) {
      super(message, null, false, false);
    }
  }

  private static final ByteString END_OF_HEAD = ByteString.fromString("\r\n\r\n");

  private final int maxBytes;
  private final Duration timeout;
  private final Inlet<ByteString> in = Inlet.create("RequestHeadReader.in");
  private final Outlet<ByteString> out = Outlet.create("RequestHeadReader.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);

  RequestHeadReader(int maxBytes, Duration timeout) {
    this.maxBytes = maxBytes;
    this.timeout = timeout;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  private enum Phase { READING_HEAD, PASSING, REFUSED }

  @Override
  public Pair<GraphStageLogic, CompletionStage<ByteString>> createLogicAndMaterializedValuePair(Attributes attributes) {
    CompletableFuture<ByteString> head = new CompletableFuture<>();
    GraphStageLogic logic = new TimerGraphStageLogic(shape) {
      private Phase phase = Phase.READING_HEAD;
      private ByteString buffer = ByteString.emptyByteString();

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString chunk = grab(in);
            if (phase == Phase.PASSING) {
              push(out, chunk);
              return;
            }
            if (phase == Phase.REFUSED) return;
            int searchFrom = Math.max(0, buffer.size() - 3);
            buffer = buffer.concat(chunk);
            int end = buffer.indexOfSlice(END_OF_HEAD, searchFrom);
            if (end >= 0 && end + END_OF_HEAD.size() <= maxBytes) {
              cancelTimer("deadline");
              phase = Phase.PASSING;
              ByteString afterHead = buffer.drop(end + END_OF_HEAD.size());
              head.complete(buffer.take(end + END_OF_HEAD.size()));
              buffer = ByteString.emptyByteString();
              if (!afterHead.isEmpty()) {
                emit(out, afterHead);
              } else if (isAvailable(out)) {
                // Downstream asked while the head was still being read; that demand is still owed.
                pull(in);
              }
            } else if (buffer.size() >= maxBytes) {
              refuse(new TunnelRefusal(431, "request head is larger than " + maxBytes
                  + " bytes; send only CONNECT, x-sandbox-id and x-sandbox-token"));
            } else {
              pull(in);
            }
          }

          @Override
          public void onUpstreamFinish() {
            if (phase == Phase.PASSING) {
              // Bytes that came with the head may still be on their way out: they go first.
              complete(out);
              return;
            }
            head.completeExceptionally(new HeadNotReceived("connection closed before the request head ended"));
            completeStage();
          }

          @Override
          public void onUpstreamFailure(Throwable failure) {
            if (phase == Phase.READING_HEAD) head.completeExceptionally(new HeadNotReceived("connection failed: " + failure));
            failStage(failure);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (phase == Phase.PASSING && !hasBeenPulled(in) && !isClosed(in)) pull(in);
          }
        });
      }

      @Override
      public void preStart() {
        scheduleOnce("deadline", timeout);
        pull(in);
      }

      @Override
      public void onTimer(Object key) {
        if (phase == Phase.READING_HEAD) {
          refuse(new TunnelRefusal(408, "no complete request head within " + timeout.toSeconds()
              + " s; send the CONNECT request right after connecting"));
        }
      }

      /** Stop reading (the response goes out and the connection closes); drop what was buffered. */
      private void refuse(TunnelRefusal refusal) {
        phase = Phase.REFUSED;
        buffer = ByteString.emptyByteString();
        cancelTimer("deadline");
        head.completeExceptionally(refusal);
      }

      @Override
      public void postStop() {
        head.completeExceptionally(new HeadNotReceived("connection ended before the request head"));
      }
    };
    return Pair.create(logic, head);
  }
}
