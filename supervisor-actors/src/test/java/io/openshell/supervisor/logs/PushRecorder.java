package io.openshell.supervisor.logs;

import io.grpc.Status;
import io.openshell.protocol.v1.*;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A real pekko-grpc server that records PushSandboxLogs calls and refuses the first {@code refuse}
 * of them with UNAVAILABLE (after reading them, as a gateway that fails mid-call would).
 */
final class PushRecorder implements OpenShell {
  record Push(List<PushSandboxLogsRequest> requests, boolean accepted) {}

  final List<Push> pushes = new CopyOnWriteArrayList<>();
  final AtomicInteger refuse = new AtomicInteger();
  private final ActorSystem<?> system;
  private ServerBinding binding;

  PushRecorder(ActorSystem<?> system) {
    this.system = system;
  }

  int start() throws Exception {
    binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(OpenShellHandlerFactory.create(this, system))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    return binding.localAddress().getPort();
  }

  void stop() throws Exception {
    binding.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<PushSandboxLogsResponse> pushSandboxLogs(Source<PushSandboxLogsRequest, NotUsed> in) {
    return in.runWith(Sink.seq(), system).thenApply(requests -> {
      boolean accepted = refuse.getAndDecrement() <= 0;
      pushes.add(new Push(requests, accepted));
      if (!accepted) throw new GrpcServiceException(Status.UNAVAILABLE.withDescription("refused by the test"));
      return PushSandboxLogsResponse.getDefaultInstance();
    });
  }

  private static <T> CompletionStage<T> unimplemented() {
    return CompletableFuture.failedFuture(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  @Override
  public CompletionStage<HealthResponse> health(HealthRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<SandboxResponse> createSandbox(CreateSandboxRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<SandboxResponse> getSandbox(GetSandboxRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<CreateSshSessionResponse> createSshSession(CreateSshSessionRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<RevokeSshSessionResponse> revokeSshSession(RevokeSshSessionRequest in) {
    return unimplemented();
  }

  @Override
  public Source<ExecSandboxEvent, NotUsed> execSandbox(ExecSandboxRequest in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  @Override
  public CompletionStage<GetSandboxLogsResponse> getSandboxLogs(GetSandboxLogsRequest in) {
    return unimplemented();
  }

  @Override
  public Source<GatewayMessage, NotUsed> connectSupervisor(Source<SupervisorMessage, NotUsed> in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  @Override
  public Source<RelayFrame, NotUsed> relayStream(Source<RelayFrame, NotUsed> in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  @Override
  public Source<SandboxStreamEvent, NotUsed> watchSandbox(WatchSandboxRequest in) {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
  }
}
