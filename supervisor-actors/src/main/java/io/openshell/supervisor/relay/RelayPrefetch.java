package io.openshell.supervisor.relay;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps a window of {@code RelayStream} frames in flight from the gateway instead of one.
 *
 * <p>pekko-grpc's client stage asks gRPC for one message at a time and asks for the next only after
 * the previous one went downstream, so every 16 KiB frame paid a round trip between gRPC's executor
 * and the stream's actor: bulk data into the sandbox was latency-bound at about a quarter of a socat
 * chain. This interceptor requests {@code window} messages from the transport up front and one more
 * for each message handed on; the stage still receives messages only as fast as it asks for them, so
 * backpressure is intact and at most {@code window} frames wait here.
 *
 * <p>Hand-over is lock-free: the transport thread (messages, close) and the stream's thread (requests)
 * both call {@link PrefetchingCall#drain}, and the work-in-progress counter lets exactly one of them
 * deliver at a time, in order. {@code ClientCall.request} may be called from any thread.
 */
public final class RelayPrefetch implements ClientInterceptor {
  private final String methodName;
  private final int window;

  /** @param methodName the full gRPC name of the relay method, e.g. {@code openshell.v1.OpenShell/RelayStream} */
  public RelayPrefetch(String methodName, int window) {
    if (window < 1) throw new IllegalArgumentException("relay prefetch window must be at least 1");
    this.methodName = methodName;
    this.window = window;
  }

  @Override
  public <I, O> ClientCall<I, O> interceptCall(MethodDescriptor<I, O> method, CallOptions options, Channel next) {
    ClientCall<I, O> call = next.newCall(method, options);
    return method.getFullMethodName().equals(methodName) ? new PrefetchingCall<>(call, window) : call;
  }

  static final class PrefetchingCall<I, O> extends ForwardingClientCall.SimpleForwardingClientCall<I, O> {
    private final int window;
    private final Queue<O> arrived = new ConcurrentLinkedQueue<>();
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger workInProgress = new AtomicInteger();
    private volatile Listener<O> downstream;
    private volatile Closed closed;

    private record Closed(Status status, Metadata trailers) {}

    PrefetchingCall(ClientCall<I, O> call, int window) {
      super(call);
      this.window = window;
    }

    @Override
    public void start(Listener<O> listener, Metadata headers) {
      downstream = listener;
      super.start(new Listener<>() {
        @Override
        public void onHeaders(Metadata headers) {
          listener.onHeaders(headers);
        }

        @Override
        public void onMessage(O message) {
          arrived.add(message);
          drain();
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          // Delivered after every message that arrived before it.
          closed = new Closed(status, trailers);
          drain();
        }

        @Override
        public void onReady() {
          listener.onReady();
        }
      }, headers);
      super.request(window);
    }

    @Override
    public void request(int count) {
      demand.addAndGet(count);
      drain();
    }

    private void drain() {
      if (workInProgress.getAndIncrement() != 0) return;
      do {
        O message;
        while (demand.get() > 0 && (message = arrived.poll()) != null) {
          demand.decrementAndGet();
          downstream.onMessage(message);
          super.request(1);
        }
        Closed end = closed;
        if (end != null && arrived.isEmpty()) {
          closed = null;
          downstream.onClose(end.status(), end.trailers());
        }
      } while (workInProgress.decrementAndGet() != 0);
    }
  }
}
