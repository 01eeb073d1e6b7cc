package io.openshell.gateway.sandbox;

import io.grpc.Status;

/**
 * A refusal with the gRPC status code the API must answer with. Carried in {@code StatusReply.error}
 * so the one place that maps failures to gRPC (the service adapter) keeps the code. In a cluster the
 * answer often comes from an entity on another node: {@link SandboxProblemSerializer} carries it.
 */
public final class SandboxProblem extends RuntimeException {
  private final Status.Code code;

  public SandboxProblem(Status.Code code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public Status.Code code() {
    return code;
  }
}
