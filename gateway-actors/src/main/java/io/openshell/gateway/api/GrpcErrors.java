package io.openshell.gateway.api;

import io.grpc.Status;
import io.openshell.gateway.sandbox.SandboxProblem;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.Trailers;
import org.apache.pekko.grpc.internal.MissingParameterException;
import org.apache.pekko.grpc.javadsl.GrpcExceptionHandler;
import org.apache.pekko.japi.Function;

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
    // A request that does not parse (bad bytes, invalid UTF-8 in a string field) is the caller's fault,
    // not the gateway's: pekko-grpc would answer INTERNAL.
    if (cause instanceof InvalidProtocolBufferException invalid) {
      return of(Status.Code.INVALID_ARGUMENT, "request is not a valid protobuf message (" + invalid.getMessage()
          + "); send messages generated from openshell.proto");
    }
    if (cause instanceof TimeoutException) {
      return of(Status.Code.UNAVAILABLE, "the gateway timed out waiting for the sandbox; retry");
    }
    return of(Status.Code.INTERNAL, "internal error: " + cause);
  }

  /**
   * For failures pekko-grpc sees before or around the service methods (request decoding, a failed
   * request body): the same mapping as the methods' own failures.
   */
  static Function<ActorSystem, Function<Throwable, Trailers>> handler() {
    Function<ActorSystem, Function<Throwable, Trailers>> standard = GrpcExceptionHandler.defaultMapper();
    return system -> failure -> {
      Throwable cause = failure;
      while (cause instanceof CompletionException && cause.getCause() != null) cause = cause.getCause();
      if (cause instanceof MissingParameterException) {
        return new Trailers(Status.INVALID_ARGUMENT.withDescription(
            "the call carried no request message; a unary method takes exactly one"));
      }
      if (cause instanceof GrpcServiceException || cause instanceof SandboxProblem || cause instanceof InvalidProtocolBufferException) {
        return new Trailers(((GrpcServiceException) toGrpc(cause)).getStatus());
      }
      // Everything else as pekko-grpc would answer it (an unknown method is UNIMPLEMENTED, say).
      return standard.apply(system).apply(cause);
    };
  }
}
