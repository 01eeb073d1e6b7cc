package io.openshell.supervisor.session;

import io.grpc.Status;
import io.openshell.protocol.v1.*;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A real pekko-grpc gateway on a free loopback port whose ConnectSupervisor side is driven by the
 * test: each call is queued as a {@link Call} the test reads from and writes to. RelayStream calls are
 * queued likewise as {@link RelayCall}s, held open until the test ends them (or refused at once).
 */
final class ScriptedGateway implements OpenShell {

  /** One message from the supervisor and when the gateway saw it. */
  record Received(SupervisorMessage message, long atNanos) {}

  /** One ConnectSupervisor call as the gateway sees it. */
  static final class Call {
    private final BlockingQueue<Received> inbound = new LinkedBlockingQueue<>();
    private final BoundedSourceQueue<GatewayMessage> outbound;
    private final boolean echoHeartbeats;
    CompletionStage<Done> inboundDone;

    Call(BoundedSourceQueue<GatewayMessage> outbound, boolean echoHeartbeats) {
      this.outbound = outbound;
      this.echoHeartbeats = echoHeartbeats;
    }

    private void onMessage(SupervisorMessage m) {
      inbound.add(new Received(m, System.nanoTime()));
      if (echoHeartbeats && m.hasHeartbeat()) {
        send(GatewayMessage.newBuilder().setHeartbeat(GatewayHeartbeat.getDefaultInstance()).build());
      }
    }

    Received next(Duration within) throws InterruptedException {
      Received r = inbound.poll(within.toMillis(), TimeUnit.MILLISECONDS);
      if (r == null) {
        throw new AssertionError("no message from the supervisor within " + within);
      }
      return r;
    }

    Received expectHello(Duration within) throws InterruptedException {
      Received r = next(within);
      if (!r.message().hasHello()) {
        throw new AssertionError("expected Hello first, got " + r.message());
      }
      return r;
    }

    void send(GatewayMessage m) {
      outbound.offer(m);
    }

    void accept(String sessionId, int heartbeatSecs) {
      send(
          GatewayMessage.newBuilder()
              .setSessionAccepted(
                  SessionAccepted.newBuilder().setSessionId(sessionId).setHeartbeatIntervalSecs(heartbeatSecs))
              .build());
    }

    void reject(String reason) {
      send(
          GatewayMessage.newBuilder()
              .setSessionRejected(SessionRejected.newBuilder().setReason(reason))
              .build());
    }

    void complete() {
      outbound.complete();
    }

    void fail(Throwable cause) {
      outbound.fail(cause);
    }

    /** Whether the supervisor ended its side of the call within the deadline. */
    boolean supervisorSideEnded(Duration within) {
      try {
        inboundDone.toCompletableFuture().get(within.toMillis(), TimeUnit.MILLISECONDS);
        return true;
      } catch (java.util.concurrent.ExecutionException e) {
        return true; // cancelled or reset by the supervisor: ended as well
      } catch (Exception e) {
        return false;
      }
    }
  }

  /** One RelayStream call as the gateway sees it: the frames it received, and the frames it sends back. */
  static final class RelayCall {
    final long atNanos = System.nanoTime();
    private final BlockingQueue<RelayFrame> inbound = new LinkedBlockingQueue<>();
    private final BoundedSourceQueue<RelayFrame> outbound;
    private CompletionStage<Done> inboundDone;

    RelayCall(BoundedSourceQueue<RelayFrame> outbound) {
      this.outbound = outbound;
    }

    RelayFrame next(Duration within) throws InterruptedException {
      RelayFrame frame = inbound.poll(within.toMillis(), TimeUnit.MILLISECONDS);
      if (frame == null) {
        throw new AssertionError("no RelayFrame from the supervisor within " + within);
      }
      return frame;
    }

    /** The next frame, or null when none arrives within the wait. */
    RelayFrame poll(Duration within) throws InterruptedException {
      return inbound.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    void sendData(String text) {
      outbound.offer(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFromUtf8(text)).build());
    }

    void complete() {
      outbound.complete();
    }

    /** Whether the supervisor ended (half-closed or cancelled) its side of the call within the deadline. */
    boolean supervisorSideEnded(Duration within) {
      try {
        inboundDone.toCompletableFuture().get(within.toMillis(), TimeUnit.MILLISECONDS);
        return true;
      } catch (java.util.concurrent.ExecutionException e) {
        return true;
      } catch (Exception e) {
        return false;
      }
    }
  }

  private final ActorSystem<?> system;
  private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
  private final BlockingQueue<RelayCall> relayCalls = new LinkedBlockingQueue<>();
  private volatile boolean echoHeartbeats;
  private volatile boolean refuseRelayStreams;
  private ServerBinding binding;

  ScriptedGateway(ActorSystem<?> system) {
    this.system = system;
  }

  /** Binds on 127.0.0.1:0; returns the port. */
  int start() throws Exception {
    return start(0);
  }

  /** Binds on 127.0.0.1:{@code port}; returns the bound port. */
  int start(int port) throws Exception {
    binding =
        Http.get(system)
            .newServerAt("127.0.0.1", port)
            .bind(OpenShellHandlerFactory.create(this, system))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return binding.localAddress().getPort();
  }

  void stop() throws Exception {
    if (binding != null) {
      binding.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Answer every supervisor heartbeat with a gateway heartbeat (a live gateway). */
  ScriptedGateway echoingHeartbeats() {
    echoHeartbeats = true;
    return this;
  }

  /** From now on, answer every RelayStream call UNAVAILABLE at once (a gateway restarting its relays); false: hold them open. */
  void refusingRelayStreams(boolean refuse) {
    refuseRelayStreams = refuse;
  }

  RelayCall nextRelayCall(Duration within) throws InterruptedException {
    RelayCall c = relayCalls.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    if (c == null) {
      throw new AssertionError("supervisor did not call RelayStream within " + within);
    }
    return c;
  }

  /** The next RelayStream call, or null when none arrives within the wait. */
  RelayCall pollRelayCall(Duration within) throws InterruptedException {
    return relayCalls.poll(within.toMillis(), TimeUnit.MILLISECONDS);
  }

  Call nextCall(Duration within) throws InterruptedException {
    Call c = calls.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    if (c == null) {
      throw new AssertionError("supervisor did not call ConnectSupervisor within " + within);
    }
    return c;
  }

  Call pollCall(Duration within) throws InterruptedException {
    return calls.poll(within.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public Source<GatewayMessage, NotUsed> connectSupervisor(Source<SupervisorMessage, NotUsed> in) {
    Pair<BoundedSourceQueue<GatewayMessage>, Source<GatewayMessage, NotUsed>> out =
        Source.<GatewayMessage>queue(64).preMaterialize(system);
    Call call = new Call(out.first(), echoHeartbeats);
    call.inboundDone = in.runWith(Sink.foreach(call::onMessage), system);
    calls.add(call);
    return out.second();
  }

  private static <T> CompletionStage<T> unimplemented() {
    return CompletableFuture.failedFuture(new GrpcServiceException(Status.UNIMPLEMENTED));
  }

  private static <T> Source<T, NotUsed> unimplementedStream() {
    return Source.failed(new GrpcServiceException(Status.UNIMPLEMENTED));
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
    return unimplementedStream();
  }

  @Override
  public CompletionStage<GetSandboxLogsResponse> getSandboxLogs(GetSandboxLogsRequest in) {
    return unimplemented();
  }

  @Override
  public CompletionStage<PushSandboxLogsResponse> pushSandboxLogs(Source<PushSandboxLogsRequest, NotUsed> in) {
    return unimplemented();
  }

  @Override
  public Source<RelayFrame, NotUsed> relayStream(Source<RelayFrame, NotUsed> in) {
    Pair<BoundedSourceQueue<RelayFrame>, Source<RelayFrame, NotUsed>> out =
        Source.<RelayFrame>queue(64).preMaterialize(system);
    RelayCall call = new RelayCall(out.first());
    if (refuseRelayStreams) {
      call.inboundDone = CompletableFuture.completedFuture(Done.getInstance());
      relayCalls.add(call);
      return Source.failed(new GrpcServiceException(Status.UNAVAILABLE.withDescription("relays restarting")));
    }
    call.inboundDone = in.runWith(Sink.foreach(call.inbound::add), system);
    relayCalls.add(call);
    return out.second();
  }

  @Override
  public Source<SandboxStreamEvent, NotUsed> watchSandbox(WatchSandboxRequest in) {
    return unimplementedStream();
  }
}
