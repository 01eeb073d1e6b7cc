package io.openshell.client.sshsession;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.connection.PlainGrpcChannels;
import io.openshell.protocol.v1.CreateSshSessionRequest;
import io.openshell.protocol.v1.CreateSshSessionResponse;
import io.openshell.protocol.v1.GetSandboxRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import io.openshell.protocol.v1.SandboxResponse;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * GetSandbox then CreateSshSession over plain grpc-java: the ssh-proxy mints on a cache miss, and starting an
 * actor system there would cost more than the whole round trip.
 */
public final class GrpcSshSessionMinter implements SshSessions.Minter {
  private static final String SERVICE = "openshell.v1.OpenShell";
  private static final long CALL_TIMEOUT_SECONDS = 30;

  private static final MethodDescriptor<GetSandboxRequest, SandboxResponse> GET_SANDBOX =
      unary("GetSandbox", GetSandboxRequest.getDefaultInstance(), SandboxResponse.getDefaultInstance());
  private static final MethodDescriptor<CreateSshSessionRequest, CreateSshSessionResponse> CREATE_SSH_SESSION =
      unary("CreateSshSession", CreateSshSessionRequest.getDefaultInstance(), CreateSshSessionResponse.getDefaultInstance());

  private final Environment environment;

  public GrpcSshSessionMinter(Environment environment) {
    this.environment = environment;
  }

  @Override
  public SshSession mint(String endpoint, String sandboxName) {
    URI uri = parse(endpoint);
    ManagedChannel channel = PlainGrpcChannels.open(endpoint, environment);
    try {
      Sandbox sandbox = ClientCalls.blockingUnaryCall(channel, GET_SANDBOX, options(),
          GetSandboxRequest.newBuilder().setName(sandboxName).build()).getSandbox();
      if (sandbox.getPhase() != SandboxPhase.SANDBOX_PHASE_READY) throw notReady(sandboxName, sandbox.getPhase());
      CreateSshSessionResponse response = ClientCalls.blockingUnaryCall(channel, CREATE_SSH_SESSION, options(),
          CreateSshSessionRequest.newBuilder().setSandboxId(sandbox.getId()).build());
      return fromResponse(response, uri.getHost());
    } catch (StatusRuntimeException e) {
      throw describe(e.getStatus(), endpoint, sandboxName);
    } finally {
      channel.shutdownNow();
    }
  }

  /** Validates the response (UPSTREAM.md §B 43) and makes its address reachable from here. */
  static SshSession fromResponse(CreateSshSessionResponse response, String endpointHost) {
    return SshSession.validated("the gateway's CreateSshSession response", response.getSandboxId(), response.getToken(),
        reachableHost(response.getGatewayHost(), endpointHost), Integer.toUnsignedLong(response.getGatewayPort()),
        response.getGatewayScheme(), response.getConnectPath(), response.getExpiresAtMs());
  }

  /**
   * A gateway behind a port mapping or on another machine often advertises the address it bound
   * ({@code 127.0.0.1}, {@code 0.0.0.0}); the host this CLI reached it at is the one that works from here.
   * The advertised port is kept: the tunnel may listen on a port of its own.
   */
  static String reachableHost(String advertised, String endpointHost) {
    if (endpointHost == null || endpointHost.isEmpty()) return advertised;
    if (unspecified(advertised) || (loopback(advertised) && !loopback(endpointHost))) return endpointHost;
    return advertised;
  }

  private static boolean unspecified(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  private static boolean loopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
  }

  private static CliException notReady(String sandboxName, SandboxPhase phase) {
    return new SshSessions.NotReady("sandbox '" + sandboxName + "' is not ready (phase: "
        + phase.name().replace("SANDBOX_PHASE_", "") + "); wait for it to reach Ready state");
  }

  private static CliException describe(Status status, String endpoint, String sandboxName) {
    return switch (status.getCode()) {
      case NOT_FOUND -> new CliException("sandbox '" + sandboxName + "' not found");
      case FAILED_PRECONDITION -> new SshSessions.NotReady("sandbox '" + sandboxName + "' is not ready; wait for it to reach Ready state");
      case UNAVAILABLE -> new CliException("cannot reach the gateway at " + endpoint
          + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")"));
      case DEADLINE_EXCEEDED -> new CliException("the gateway at " + endpoint + " did not answer within " + CALL_TIMEOUT_SECONDS + " s");
      default -> new CliException(status.getDescription() == null ? status.getCode().toString() : status.getDescription());
    };
  }

  private static URI parse(String endpoint) {
    try {
      URI uri = URI.create(endpoint);
      if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) return uri;
    } catch (IllegalArgumentException malformed) {
      // reported below
    }
    throw new CliException("unsupported gateway endpoint '" + endpoint + "': use http://host:port or https://host:port");
  }

  private static CallOptions options() {
    return CallOptions.DEFAULT.withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static <Q extends com.google.protobuf.Message, R extends com.google.protobuf.Message> MethodDescriptor<Q, R> unary(
      String method, Q request, R response) {
    return MethodDescriptor.<Q, R>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, method))
        .setRequestMarshaller(ProtoUtils.marshaller(request))
        .setResponseMarshaller(ProtoUtils.marshaller(response))
        .build();
  }
}
