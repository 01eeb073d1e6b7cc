package io.openshell.client;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.openshell.client.connection.Api;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.connection.PlainGrpcChannels;
import io.openshell.protocol.v1.HealthRequest;
import io.openshell.protocol.v1.HealthResponse;
import io.openshell.protocol.v1.ServiceStatus;
import java.net.URI;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code openshell status}: is the gateway there? Prints {@code Connected} first when it is.
 *
 * <p>One unary call, so it goes over plain grpc-java rather than {@link Api}'s Pekko client: starting an
 * actor system costs about a third of this command's wall time (docs/benchmarks.md, CLI start-up).
 */
@Command(name = "status", description = "Check the connection to the gateway.")
final class StatusCommand implements Callable<Integer> {
  private static final long TIMEOUT_SECONDS = 10;
  private static final MethodDescriptor<HealthRequest, HealthResponse> HEALTH = MethodDescriptor.<HealthRequest, HealthResponse>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName(MethodDescriptor.generateFullMethodName("openshell.v1.OpenShell", "Health"))
      .setRequestMarshaller(ProtoUtils.marshaller(HealthRequest.getDefaultInstance()))
      .setResponseMarshaller(ProtoUtils.marshaller(HealthResponse.getDefaultInstance()))
      .build();

  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  StatusCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    String endpoint = gateway.choose(environment, spec.commandLine().getErr()).endpoint();
    HealthResponse health = health(endpoint);
    var out = spec.commandLine().getOut();
    out.println(health.getStatus() == ServiceStatus.SERVICE_STATUS_HEALTHY ? "Connected" : "Connected (gateway reports " + health.getStatus() + ")");
    out.println("  gateway: " + endpoint);
    out.println("  version: " + health.getVersion());
    out.flush();
    return 0;
  }

  private HealthResponse health(String endpoint) {
    URI uri = URI.create(endpoint);
    // The same endpoints as Api accepts.
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new CliException("unsupported gateway endpoint '" + endpoint + "': use http://host:port or https://host:port");
    }
    ManagedChannel channel = PlainGrpcChannels.open(endpoint, environment);
    try {
      return ClientCalls.blockingUnaryCall(channel, HEALTH, CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS),
          HealthRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED) {
        throw new CliException("the gateway at " + endpoint + " did not answer within " + TIMEOUT_SECONDS + " s");
      }
      // The same wording as every other command's (Api builds no actor system for this).
      throw new Api(endpoint, java.util.Optional.empty()).describe(e);
    } finally {
      channel.shutdownNow();
    }
  }
}
