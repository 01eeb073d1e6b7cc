package io.openshell.client.sandbox;

import com.typesafe.config.ConfigFactory;
import io.grpc.Status;
import io.openshell.protocol.v1.*;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The gateway's gRPC API as the CLI sees it, served by pekko-grpc on a free port: sandboxes are READY as
 * soon as created, and CreateSshSession points at whatever tunnel the test runs. Records what was asked.
 */
final class FakeGateway implements OpenShell, AutoCloseable {
  private final ActorTestKit testKit = ActorTestKit.create("fake-gateway", ConfigFactory.parseString(
      "pekko.http.server.enable-http2 = on\npekko.http.server.preview.enable-http2 = on").withFallback(ConfigFactory.load()));
  private final ServerBinding binding;
  private final int tunnelPort;
  private final SandboxPhase phase;
  final List<String> sshSessionsFor = new CopyOnWriteArrayList<>();
  final List<String> deleted = new CopyOnWriteArrayList<>();
  volatile String token = "minted-token";

  FakeGateway(int tunnelPort, SandboxPhase phase) throws Exception {
    this.tunnelPort = tunnelPort;
    this.phase = phase;
    binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0)
        .bind(OpenShellHandlerFactory.create(this, testKit.system()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  String endpoint() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  private Sandbox sandbox(String name, SandboxPhase phase) {
    return Sandbox.newBuilder().setId("id-" + name).setName(name).setPhase(phase).build();
  }

  @Override
  public CompletionStage<SandboxResponse> createSandbox(CreateSandboxRequest in) {
    return CompletableFuture.completedFuture(SandboxResponse.newBuilder()
        .setSandbox(sandbox(in.getName(), SandboxPhase.SANDBOX_PHASE_PROVISIONING)).build());
  }

  @Override
  public Source<SandboxStreamEvent, NotUsed> watchSandbox(WatchSandboxRequest in) {
    String name = in.getId().substring("id-".length());
    return Source.single(SandboxStreamEvent.newBuilder().setSandbox(sandbox(name, phase)).build());
  }

  @Override
  public CompletionStage<SandboxResponse> getSandbox(GetSandboxRequest in) {
    if (deleted.contains(in.getName())) return failed(Status.NOT_FOUND.withDescription("sandbox not found"));
    return CompletableFuture.completedFuture(SandboxResponse.newBuilder().setSandbox(sandbox(in.getName(), phase)).build());
  }

  @Override
  public CompletionStage<CreateSshSessionResponse> createSshSession(CreateSshSessionRequest in) {
    sshSessionsFor.add(in.getSandboxId());
    return CompletableFuture.completedFuture(CreateSshSessionResponse.newBuilder()
        .setSandboxId(in.getSandboxId()).setToken(token).setGatewayHost("127.0.0.1").setGatewayPort(tunnelPort)
        .setGatewayScheme("http").setConnectPath("/connect/ssh").setExpiresAtMs(0).build());
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    deleted.add(in.getName());
    return CompletableFuture.completedFuture(DeleteSandboxResponse.newBuilder().setDeleted(true).build());
  }

  @Override
  public CompletionStage<HealthResponse> health(HealthRequest in) {
    return CompletableFuture.completedFuture(HealthResponse.newBuilder().setStatus(ServiceStatus.SERVICE_STATUS_HEALTHY).build());
  }

  @Override
  public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in) {
    return failed(Status.UNIMPLEMENTED);
  }

  @Override
  public CompletionStage<RevokeSshSessionResponse> revokeSshSession(RevokeSshSessionRequest in) {
    return failed(Status.UNIMPLEMENTED);
  }

  @Override
  public Source<ExecSandboxEvent, NotUsed> execSandbox(ExecSandboxRequest in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  @Override
  public CompletionStage<GetSandboxLogsResponse> getSandboxLogs(GetSandboxLogsRequest in) {
    return failed(Status.UNIMPLEMENTED);
  }

  @Override
  public CompletionStage<PushSandboxLogsResponse> pushSandboxLogs(Source<PushSandboxLogsRequest, NotUsed> in) {
    return failed(Status.UNIMPLEMENTED);
  }

  @Override
  public Source<GatewayMessage, NotUsed> connectSupervisor(Source<SupervisorMessage, NotUsed> in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  @Override
  public Source<RelayFrame, NotUsed> relayStream(Source<RelayFrame, NotUsed> in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  private static <T> CompletionStage<T> failed(Status status) {
    return CompletableFuture.failedFuture(new GrpcServiceException(status));
  }

  @Override
  public void close() {
    binding.unbind();
    testKit.shutdownTestKit();
  }
}
