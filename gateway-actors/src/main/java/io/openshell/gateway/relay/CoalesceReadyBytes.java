package io.openshell.gateway.relay;

import org.apache.pekko.Done;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Joins the byte chunks that upstream produces in one go into one element of up to about
 * {@code maxBytes}, without waiting for more.
 *
 * <p>A chunk of the supervisor's HTTP/2 DATA (up to 64 KiB) decodes into several 16 KiB relay frames at
 * once, and each would otherwise be its own stream-ref element: one actor message to the client's side
 * per 16 KiB, and one write per 16 KiB where the client is a tunnel. {@code batchWeighted} does not join
 * them, because the stream ref asks for the next element as soon as it has one. This stage keeps asking
 * upstream while what it holds is under {@code maxBytes}, and hands on what it holds when this stream's
 * actor has run out of work for now (a callback to itself, which the actor runs after the work already
 * queued) or when it reaches {@code maxBytes}; a downstream that asks while bytes are held gets them at
 * once. So a lone chunk (a keystroke) goes on after one more turn of the same actor, and nothing is
 * held longer than that. Elements handed on are at most {@code maxBytes}; at most {@code maxBytes} plus
 * one chunk are held.
 */
final class CoalesceReadyBytes extends GraphStage<FlowShape<ByteString, ByteString>> {
  private final int maxBytes;
  private final Inlet<ByteString> in = Inlet.create("CoalesceReadyBytes.in");
  private final Outlet<ByteString> out = Outlet.create("CoalesceReadyBytes.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);

  CoalesceReadyBytes(int maxBytes) {
    if (maxBytes < 1) throw new IllegalArgumentException("maxBytes must be at least 1");
    this.maxBytes = maxBytes;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private ByteString held = ByteString.emptyByteString();
      private boolean handOnScheduled;
      private AsyncCallback<Done> endOfTurn;

      @Override
      public void preStart() {
        endOfTurn = createAsyncCallback(done -> {
          handOnScheduled = false;
          if (isAvailable(out)) handOn();
        });
        pull(in);
      }

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            held = held.concat(grab(in));
            if (held.size() < maxBytes) pull(in);
            else if (isAvailable(out)) handOn();
            if (!held.isEmpty() && isAvailable(out) && !handOnScheduled) {
              handOnScheduled = true;
              endOfTurn.invoke(Done.getInstance());
            }
          }

          @Override
          public void onUpstreamFinish() {
            if (held.isEmpty()) completeStage();
            // else: handed on, then completed, by the callback already scheduled or when downstream asks next
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (!held.isEmpty()) handOn();
          }
        });
      }

      /**
       * Pushes up to {@code maxBytes} of what is held (downstream has asked); then completes if upstream
       * has and nothing is left, else asks upstream again while under {@code maxBytes}.
       */
      private void handOn() {
        if (held.isEmpty()) return;
        if (held.size() <= maxBytes) {
          push(out, held);
          held = ByteString.emptyByteString();
        } else {
          push(out, held.take(maxBytes));
          held = held.drop(maxBytes);
        }
        if (isClosed(in)) {
          if (held.isEmpty()) completeStage();
        } else if (held.size() < maxBytes && !hasBeenPulled(in)) {
          pull(in);
        }
      }
    };
  }
}
