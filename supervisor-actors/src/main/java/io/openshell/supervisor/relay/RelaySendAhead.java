package io.openshell.supervisor.relay;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;

/**
 * Lets a {@code RelayStream} call keep up to {@code bytes} of frames queued for the gateway before it
 * reports itself not ready, instead of grpc-java's 32 KiB.
 *
 * <p>pekko-grpc sends the next frame only while the call is ready, and a not-ready call becomes ready
 * again only by a callback from netty's event loop through gRPC's executor into the stream's actor.
 * With 32 KiB that round trip came after every second 16 KiB frame, and bulk bytes out of the sandbox
 * (the SSH daemon's output) ran at about 0.7× a socat chain of the same hops; with 256 KiB, above it
 * (docs/benchmarks.md). The bytes queued per relay are bounded by {@code bytes} plus one frame; what
 * reaches the wire is still bounded by the HTTP/2 windows.
 */
public final class RelaySendAhead implements ClientInterceptor {
  private final String methodName;
  private final int bytes;

  /** @param methodName the full gRPC name of the relay method, e.g. {@code openshell.v1.OpenShell/RelayStream} */
  public RelaySendAhead(String methodName, int bytes) {
    if (bytes < 1) throw new IllegalArgumentException("relay send-ahead must be at least 1 byte");
    this.methodName = methodName;
    this.bytes = bytes;
  }

  @Override
  public <I, O> ClientCall<I, O> interceptCall(MethodDescriptor<I, O> method, CallOptions options, Channel next) {
    return next.newCall(method, method.getFullMethodName().equals(methodName) ? options.withOnReadyThreshold(bytes) : options);
  }
}
