package io.openshell.gateway.api;

import com.typesafe.config.Config;

/**
 * {@code openshell.gateway.grpc}: the largest gRPC request message the gateway reads. pekko-grpc has
 * no such limit of its own (it buffers whatever length a frame declares), so {@link GrpcMessageLimit}
 * enforces these before the bytes reach the decoder.
 *
 * @param maxMessageBytes every method's request messages (upstream's 1 MiB decode limit)
 * @param maxExecRequestBytes ExecSandbox requests, which carry stdin (up to exec.max-stdin-bytes) and
 *     the command (up to exec.max-command-bytes) in one message
 */
public record GrpcLimits(int maxMessageBytes, int maxExecRequestBytes) {
  public GrpcLimits {
    if (maxMessageBytes < 1 || maxExecRequestBytes < 1) {
      throw new IllegalArgumentException("grpc.max-message-size and grpc.max-exec-request-size must be positive");
    }
  }

  public static GrpcLimits fromConfig(Config gateway) {
    Config c = gateway.getConfig("grpc");
    return new GrpcLimits(Math.toIntExact(c.getMemorySize("max-message-size").toBytes()),
        Math.toIntExact(c.getMemorySize("max-exec-request-size").toBytes()));
  }

  /** The limit for one request path ({@code /openshell.v1.OpenShell/<Method>}). */
  int forPath(String path) {
    return path.endsWith("/ExecSandbox") ? maxExecRequestBytes : maxMessageBytes;
  }
}
