package io.openshell.it;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC client that sends whatever bytes it is given as request messages (grpc-java frames them),
 * to any method of {@code openshell.v1.OpenShell}: malformed protobuf, invalid UTF-8, unknown fields,
 * oversized messages, odd metadata. Every call has a deadline, so a gateway that hangs shows up as
 * DEADLINE_EXCEEDED instead of a stuck test.
 */
final class RawGrpc implements AutoCloseable {
  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
  static final Duration DEADLINE = Duration.ofSeconds(45);

  private final ManagedChannel channel;

  RawGrpc(int port) {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024).build();
  }

  /** How a call ended: its status and the response messages that came before. */
  record Outcome(Status status, List<byte[]> messages) {
    Status.Code code() {
      return status.getCode();
    }

    String description() {
      return String.valueOf(status.getDescription());
    }

    @Override
    public String toString() {
      return status.getCode() + " \"" + status.getDescription() + "\" after " + messages.size() + " response message(s)";
    }
  }

  private static MethodDescriptor<byte[], byte[]> method(String name) {
    // One type for every method: grpc-java puts nothing type-specific on the wire, and this lets a
    // test send zero or two messages to a unary method.
    return MethodDescriptor.newBuilder(BYTES, BYTES).setFullMethodName("openshell.v1.OpenShell/" + name)
        .setType(MethodDescriptor.MethodType.BIDI_STREAMING).build();
  }

  Outcome call(String method, byte[]... requests) {
    return call(method, new Metadata(), CallOptions.DEFAULT, List.of(requests));
  }

  Outcome call(String method, Metadata headers, CallOptions options, List<byte[]> requests) {
    Open open = open(method, headers, options);
    requests.forEach(open::send);
    open.halfClose();
    return open.outcome();
  }

  Open open(String method) {
    return open(method, new Metadata(), CallOptions.DEFAULT);
  }

  Open open(String method, Metadata headers, CallOptions options) {
    ClientCall<byte[], byte[]> call = channel.newCall(method(method),
        options.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
    Open open = new Open(call);
    call.start(open.listener(), headers);
    call.request(Integer.MAX_VALUE);
    return open;
  }

  /** A call in progress: what it received so far, and how it ended once it has. */
  static final class Open {
    private final ClientCall<byte[], byte[]> call;
    final LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    private final List<byte[]> all = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<Status> closed = new CompletableFuture<>();

    private Open(ClientCall<byte[], byte[]> call) {
      this.call = call;
    }

    private ClientCall.Listener<byte[]> listener() {
      return new ClientCall.Listener<>() {
        @Override
        public void onMessage(byte[] message) {
          all.add(message);
          received.add(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      };
    }

    void send(byte[] message) {
      call.sendMessage(message);
    }

    void halfClose() {
      call.halfClose();
    }

    void cancel() {
      call.cancel("test done", null);
    }

    /** The next response message, or null if none came within the patience. */
    byte[] next(Duration patience) throws InterruptedException {
      return received.poll(patience.toMillis(), TimeUnit.MILLISECONDS);
    }

    Outcome outcome() {
      try {
        Status status = closed.get(DEADLINE.toSeconds() + 15, TimeUnit.SECONDS);
        return new Outcome(status, List.copyOf(all));
      } catch (Exception e) {
        throw new AssertionError("the call did not end: " + e, e);
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(10, TimeUnit.SECONDS);
  }
}
