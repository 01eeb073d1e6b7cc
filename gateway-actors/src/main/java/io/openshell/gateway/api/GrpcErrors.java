package io.openshell.gateway.api;

import io.grpc.Status;
import io.openshell.gateway.sandbox.SandboxProblem;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.grpc.GrpcServiceException;

/** The one place that turns failures into gRPC statuses. */
final class GrpcErrors {
  private GrpcErrors() {}

  static GrpcServiceException of(Status.Code code, String message) {
    return new GrpcServiceException(Status.fromCode(code).withDescription(message));
  }

  static Throwable toGrpc(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) cause = cause.getCause();
    if (cause instanceof GrpcServiceException) return cause;
    if (cause instanceof SandboxProblem problem) return of(problem.code(), problem.getMessage());
    if (cause instanceof TimeoutException) {
      return of(Status.Code.UNAVAILABLE, "the gateway timed out waiting for the sandbox; retry");
    }
    return of(Status.Code.INTERNAL, "internal error: " + cause);
  }
}
