package io.openshell.gateway.api;

import io.openshell.gateway.relay.RelayFrameSerializer;
import io.openshell.gateway.relay.RelayResponseCoalescing;
import io.openshell.protocol.v1.OpenShellPowerApiHandlerFactory;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.function.Function;

/**
 * How gRPC requests reach {@link OpenShellService}: uncompressed responses, request messages bounded
 * by {@link GrpcLimits}, relay frames encoded and parsed without copying their bytes
 * ({@link RelayFrameSerializer}) and handed to HTTP/2 in coalesced chunks ({@link RelayResponseCoalescing}), and failures pekko-grpc meets outside the service methods (undecodable
 * requests) mapped by the same rules as the methods' own.
 */
public final class GrpcHandler {
  private GrpcHandler() {}

  public static Function<HttpRequest, CompletionStage<HttpResponse>> create(OpenShellService service, GrpcLimits limits,
      int relayCoalesceBytes, ActorSystem<?> system) {
    RelayFrameSerializer.install();
    Function<HttpRequest, CompletionStage<HttpResponse>> grpc =
        OpenShellPowerApiHandlerFactory.create(service, GrpcErrors.handler(), system);
    // Relay and exec bytes must not be gzipped (7x slower, STACK.md): never offer compression.
    return request -> {
      CompletionStage<HttpResponse> response = grpc.apply(GrpcMessageLimit.apply(request.removeHeader("grpc-accept-encoding"), limits));
      return RelayResponseCoalescing.appliesTo(request)
          ? response.thenApply(r -> RelayResponseCoalescing.apply(r, relayCoalesceBytes))
          : response;
    };
  }
}
