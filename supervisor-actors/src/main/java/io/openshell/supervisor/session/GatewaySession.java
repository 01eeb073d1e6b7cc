package io.openshell.supervisor.session;

import io.grpc.Codec;
import io.grpc.DecompressorRegistry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.openshell.protocol.v1.GatewayMessage;
import io.openshell.protocol.v1.OpenShell;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.RelayOpenResult;
import io.openshell.protocol.v1.SupervisorHeartbeat;
import io.openshell.protocol.v1.SupervisorHello;
import io.openshell.protocol.v1.SupervisorMessage;
import io.openshell.supervisor.GatewayEndpoint;
import io.openshell.supervisor.SupervisorSettings;
import io.openshell.supervisor.ocsf.NetworkActivities;
import io.openshell.supervisor.ocsf.OcsfLog;
import io.openshell.supervisor.relay.RelayBridge;
import io.openshell.supervisor.relay.RelayFrameMarshaller;
import io.openshell.supervisor.relay.RelayPrefetch;
import io.openshell.supervisor.relay.RelaySendAhead;
import io.openshell.supervisor.relay.SpareRelayStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.slf4j.Logger;

/**
 * The supervisor's control session with the gateway: dials ConnectSupervisor, sends Hello, waits
 * for SessionAccepted, heartbeats, detects a silent gateway and reconnects with backoff.
 *
 * <p>One gRPC client at a time (one actor per process); every attempt is a new call on it, tagged
 * with a generation number so messages from an abandoned stream are ignored. When an attempt could
 * not reach the gateway at all, the client is closed and replaced before the next attempt: grpc-java's
 * channel keeps its own reconnect backoff (growing to 120 s) that would otherwise override ours
 * (measured: 13.7 s to reconnect after a 30 s outage with a 1 s cap). The channel offers no public
 * way to reset that backoff.
 */
public final class GatewaySession {

  public sealed interface Command {}

  /** The gateway asked for a relay channel (from {@code RelayOpen}): a RelayBridge child serves it. */
  private record RelayOpenRequested(long generation, String channelId) implements Command {}

  /** A RelayBridge child reports (open failure to forward, or its end). */
  private record BridgeReport(RelayBridge.Report report) implements Command {}

  private enum Dial implements Command { INSTANCE }

  private enum HeartbeatTick implements Command { INSTANCE }

  private record HandshakeTimedOut(long generation) implements Command {}

  private record GatewaySilent(long generation) implements Command {}

  private record StreamStarted(long generation, ActorRef<Ack> ackTo) implements Command {}

  private record Received(long generation, ActorRef<Ack> ackTo, GatewayMessage message)
      implements Command {}

  private record StreamCompleted(long generation) implements Command {}

  private record StreamFailed(long generation, Throwable cause) implements Command {}

  /** The spare RelayStream call with this id is over (gateway ended or reset it, or a relay that took it ended). */
  private record SpareEnded(long spareId, Throwable failure) implements Command {}

  /** Time to replace a lost spare (after the backoff), if the session of that generation is still live. */
  private record OpenSpare(long generation) implements Command {}

  /** Backpressure acknowledgement towards the inbound stream. */
  enum Ack { INSTANCE }

  private static final int RELAY_FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

  private static final Object DIAL_TIMER = "dial";
  private static final Object HANDSHAKE_TIMER = "handshake";
  private static final Object HEARTBEAT_TIMER = "heartbeat";
  private static final Object SILENCE_TIMER = "silence";
  private static final Object SPARE_TIMER = "spare";

  /** One dialled ConnectSupervisor call. */
  private record Connection(
      long generation, BoundedSourceQueue<SupervisorMessage> outbound, UniqueKillSwitch killSwitch) {

    /** Ends both directions: EOF to the gateway, cancel the response stream. */
    void close() {
      killSwitch.shutdown();
      try {
        outbound.complete();
      } catch (IllegalStateException alreadyEnded) {
        // The call already ended (or failed) on its own and took the queue with it.
      }
    }
  }

  /** Told when a session becomes live (with the client it runs on) and when it ends. */
  public interface SessionListener {
    SessionListener NONE = new SessionListener() {
      @Override
      public void live(OpenShellClient client) {}

      @Override
      public void lost() {}
    };

    void live(OpenShellClient client);

    void lost();
  }

  public static Behavior<Command> create(SupervisorSettings settings) {
    return create(settings, SessionListener.NONE);
  }

  public static Behavior<Command> create(SupervisorSettings settings, SessionListener listener) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  OpenShellClient client =
                      OpenShellClient.create(grpcClientSettings(settings.endpoint(), settings, context.getSystem()), context.getSystem());
                  return new GatewaySession(settings, context, timers, client, listener).dialNow(settings.session().initialBackoff(), 0);
                }));
  }

  /** Netty client settings: TLS for https (trusting the given CA), keepalive, connect timeout, identity-only responses. */
  static GrpcClientSettings grpcClientSettings(GatewayEndpoint endpoint, SupervisorSettings settings, ActorSystem<?> system) {
    SessionSettings s = settings.session();
    SslContext tls = endpoint.tls() ? sslContext(settings.tls()) : null;
    String relayMethod = MethodDescriptor.generateFullMethodName(OpenShell.name, "RelayStream");
    return GrpcClientSettings.connectToServiceAt(endpoint.host(), endpoint.port(), system)
        .withTls(endpoint.tls())
        // The session does its own reconnect backoff; the channel must never give up for good.
        .withConnectionAttempts(-1)
        .withChannelBuilderOverrides(
            (NettyChannelBuilder b) ->
                b.keepAliveTime(s.keepaliveTime().toMillis(), TimeUnit.MILLISECONDS)
                    .keepAliveTimeout(s.keepaliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .keepAliveWithoutCalls(true)
                    // Relays share this connection: HTTP/2 windows big enough not to throttle them
                    // (upstream measured 35% below a raw CONNECT baseline with 64 KiB windows).
                    .flowControlWindow(RELAY_FLOW_CONTROL_WINDOW)
                    .intercept(new RelayPrefetch(relayMethod, settings.relayPrefetchFrames()))
                    .intercept(new RelaySendAhead(relayMethod, settings.relaySendAheadBytes()))
                    // Relay frames encoded and parsed with one copy of their bytes each way (the
                    // generated marshaller's copies made bulk relays CPU-bound here).
                    .intercept(RelayFrameMarshaller.interceptor(relayMethod))
                    // Every call on this client (ConnectSupervisor, RelayStream, PushSandboxLogs) proves
                    // which sandbox it speaks for.
                    .intercept(credentialHeader(settings.credential()))
                    .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) s.connectTimeout().toMillis())
                    // Only identity is offered, so the gateway never gzips (relay bytes cost ~7x gzipped).
                    .decompressorRegistry(
                        DecompressorRegistry.emptyInstance().with(Codec.Identity.NONE, false))
                    .sslContext(tls));
  }

  /** netty reads the PEM files itself (PKCS#8 keys); the gateway's host name is verified against its certificate. */
  private static SslContext sslContext(SupervisorSettings.Tls tls) {
    try {
      SslContextBuilder builder = GrpcSslContexts.forClient()
          .trustManager(tls.ca().orElseThrow(() -> new IllegalStateException("https endpoints need OPENSHELL_TLS_CA")).toFile());
      if (tls.cert().isPresent() && tls.key().isPresent()) builder.keyManager(tls.cert().get().toFile(), tls.key().get().toFile());
      return builder.build();
    } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot use the TLS files " + tls + ": " + e.getMessage(), e);
    }
  }

  /** The gRPC metadata key of the sandbox credential (the gateway's SupervisorCredential.METADATA_KEY). */
  public static final String CREDENTIAL_METADATA_KEY = "x-sandbox-credential";

  public static io.grpc.ClientInterceptor credentialHeader(String credential) {
    io.grpc.Metadata headers = new io.grpc.Metadata();
    if (!credential.isEmpty()) {
      headers.put(io.grpc.Metadata.Key.of(CREDENTIAL_METADATA_KEY, io.grpc.Metadata.ASCII_STRING_MARSHALLER), credential);
    }
    return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  private final SupervisorSettings settings;
  private final SessionSettings session;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  /** Replaced (old one closed) only after an attempt that never reached the gateway. */
  private OpenShellClient client;
  private final Materializer materializer;
  private final Materializer relayMaterializer;
  private final Logger log;
  private final String sandboxId;
  private NetworkActivities.Endpoint gatewayEndpoint;
  /** Which of {@code settings.endpoints()} the client dials; moves on after each lost or failed attempt. */
  private int endpointIndex;
  /** Live relay bridges by channel id; touched only by this actor. */
  private final Map<String, ActorRef<RelayBridge.Command>> bridges = new HashMap<>();
  private final ActorRef<RelayBridge.Report> bridgeReports;
  private final SessionListener listener;
  /**
   * The one RelayStream call kept open ahead of the next RelayOpen while a session is live (one stream
   * of the connection's max-concurrent-streams), or null: none wanted, handed to a bridge and not yet
   * replaced, or waiting out a backoff. Touched only by this actor.
   */
  private SpareRelayStream spare;
  private long lastSpareId;
  /** Spares that ended unused one after the other: the first is replaced at once, later ones after a backoff. */
  private int sparesLostInARow;

  private GatewaySession(
      SupervisorSettings settings,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      OpenShellClient client,
      SessionListener listener) {
    this.settings = settings;
    this.listener = listener;
    this.session = settings.session();
    this.context = context;
    this.timers = timers;
    this.client = client;
    // Streams materialized here stop with the actor.
    this.materializer = Materializer.createMaterializer(context);
    // Spares, like the calls bridges start, outlive this actor's materializer once a relay runs on them;
    // an unused spare is cancelled by this actor when its session ends.
    this.relayMaterializer = Materializer.matFromSystem(context.getSystem());
    this.log = context.getLog();
    this.sandboxId = settings.sandboxId();
    this.gatewayEndpoint = new NetworkActivities.Endpoint(settings.endpoint().host(), settings.endpoint().port());
    this.bridgeReports = context.messageAdapter(RelayBridge.Report.class, BridgeReport::new);
  }

  // --- waiting to dial -------------------------------------------------------------------------

  private Behavior<Command> waiting(ReconnectBackoff backoff, long lastGeneration) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Dial.INSTANCE, () -> dialNow(backoff, lastGeneration))
        .onMessage(RelayOpenRequested.class, this::dropRelayOpen)
        .onAnyMessage(m -> Behaviors.same()) // leftovers of an abandoned stream
        .onSignal(PostStop.class, s -> stopped(null))
        .onSignal(PreRestart.class, s -> stopped(null))
        .build();
  }

  private Behavior<Command> dialNow(ReconnectBackoff backoff, long lastGeneration) {
    long generation = lastGeneration + 1;
    Pair<BoundedSourceQueue<SupervisorMessage>, Source<SupervisorMessage, NotUsed>> out =
        Source.<SupervisorMessage>queue(session.outboundQueueSize()).preMaterialize(materializer);
    UniqueKillSwitch killSwitch =
        client
            .connectSupervisor(out.second())
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(
                ActorSink.<GatewayMessage, Command, Ack>actorRefWithBackpressure(
                    context.getSelf(),
                    (ackTo, message) -> new Received(generation, ackTo, message),
                    ackTo -> new StreamStarted(generation, ackTo),
                    Ack.INSTANCE,
                    new StreamCompleted(generation),
                    cause -> new StreamFailed(generation, cause)),
                Keep.left())
            .run(materializer);
    Connection connection = new Connection(generation, out.first(), killSwitch);
    log.info("dialling gateway {} (sandbox_id={}, attempt {})", current(), sandboxId, backoff.attempt());
    connection.outbound().offer(
        SupervisorMessage.newBuilder()
            .setHello(
                SupervisorHello.newBuilder()
                    .setSandboxId(sandboxId)
                    .setInstanceId(settings.instanceId()))
            .build());
    timers.startSingleTimer(HANDSHAKE_TIMER, new HandshakeTimedOut(generation), session.connectTimeout());
    return handshaking(connection, backoff);
  }

  // --- dialled, waiting for SessionAccepted ----------------------------------------------------

  private Behavior<Command> handshaking(Connection connection, ReconnectBackoff backoff) {
    long gen = connection.generation();
    return Behaviors.receive(Command.class)
        .onMessage(StreamStarted.class, m -> m.generation() == gen, m -> ack(m.ackTo()))
        .onMessage(
            Received.class,
            m -> m.generation() == gen,
            m -> {
              GatewayMessage message = m.message();
              switch (message.getPayloadCase()) {
                case SESSION_ACCEPTED:
                  m.ackTo().tell(Ack.INSTANCE);
                  return accepted(
                      connection,
                      backoff,
                      message.getSessionAccepted().getSessionId(),
                      message.getSessionAccepted().getHeartbeatIntervalSecs());
                case SESSION_REJECTED:
                  String reason = "session rejected: " + message.getSessionRejected().getReason();
                  log.error("{} (sandbox_id={})", reason, sandboxId);
                  return failed(connection, backoff, reason);
                default:
                  return failed(
                      connection,
                      backoff,
                      "expected SessionAccepted, gateway sent " + message.getPayloadCase());
              }
            })
        .onMessage(
            StreamCompleted.class,
            m -> m.generation() == gen,
            m -> failed(connection, backoff, "stream closed before SessionAccepted"))
        .onMessage(
            StreamFailed.class,
            m -> m.generation() == gen,
            m -> {
              if (unreachable(m.cause())) {
                renewClient();
              }
              return failed(connection, backoff, describe(m.cause()));
            })
        .onMessage(
            HandshakeTimedOut.class,
            m -> m.generation() == gen,
            m -> {
              renewClient();
              return failed(connection, backoff, "no SessionAccepted within " + millis(session.connectTimeout()));
            })
        .onMessage(RelayOpenRequested.class, this::dropRelayOpen)
        .onAnyMessage(m -> Behaviors.same())
        .onSignal(PostStop.class, s -> stopped(connection))
        .onSignal(PreRestart.class, s -> stopped(connection))
        .build();
  }

  private Behavior<Command> accepted(
      Connection connection, ReconnectBackoff backoff, String sessionId, int heartbeatSecs) {
    timers.cancel(HANDSHAKE_TIMER);
    Duration period = session.heartbeatPeriod(heartbeatSecs);
    Duration deadAfter = period.multipliedBy(session.deadGatewayFactor());
    OcsfLog.emit(NetworkActivities.sessionEstablished(gatewayEndpoint, sessionId, heartbeatSecs));
    log.info("supervisor session live sandbox_id={} session_id={}", sandboxId, sessionId);
    listener.live(client);
    timers.startTimerWithFixedDelay(HEARTBEAT_TIMER, HeartbeatTick.INSTANCE, period);
    timers.startSingleTimer(SILENCE_TIMER, new GatewaySilent(connection.generation()), deadAfter);
    sparesLostInARow = 0;
    openSpare();
    // A live session proves the path works: the next failure starts again at the initial delay.
    return live(connection, backoff.reset(), sessionId, deadAfter);
  }

  // --- session accepted --------------------------------------------------------------------------

  private Behavior<Command> live(
      Connection connection, ReconnectBackoff backoff, String sessionId, Duration deadAfter) {
    long gen = connection.generation();
    return Behaviors.receive(Command.class)
        .onMessageEquals(
            HeartbeatTick.INSTANCE,
            () -> send(connection, backoff, sessionId, heartbeat(), "heartbeat"))
        .onMessage(
            Received.class,
            m -> m.generation() == gen,
            m -> {
              m.ackTo().tell(Ack.INSTANCE);
              timers.startSingleTimer(SILENCE_TIMER, new GatewaySilent(gen), deadAfter);
              GatewayMessage message = m.message();
              switch (message.getPayloadCase()) {
                case HEARTBEAT:
                  break;
                case RELAY_OPEN:
                  context.getSelf().tell(new RelayOpenRequested(gen, message.getRelayOpen().getChannelId()));
                  break;
                case RELAY_CLOSE:
                  ActorRef<RelayBridge.Command> bridge = bridges.get(message.getRelayClose().getChannelId());
                  if (bridge != null) bridge.tell(new RelayBridge.Close(message.getRelayClose().getReason()));
                  break;
                default:
                  log.warn(
                      "ignoring unexpected {} from gateway (session_id={})", message.getPayloadCase(), sessionId);
              }
              return Behaviors.same();
            })
        .onMessage(
            RelayOpenRequested.class,
            m -> m.generation() == gen,
            m -> {
              if (bridges.containsKey(m.channelId())) return Behaviors.same();
              // The spare goes to this bridge alone (the spawn hands it over); without one the bridge starts
              // its own call. Either way on this client: the same HTTP/2 connection as the session.
              Optional<SpareRelayStream> handedOver = Optional.ofNullable(spare);
              spare = null;
              bridges.put(m.channelId(), context.spawn(
                  RelayBridge.create(client, handedOver, m.channelId(), settings.sshSocketPath(), settings.relayFrameBytes(),
                      settings.relaySocketWriteBatch(), bridgeReports),
                  "relay-" + m.channelId()));
              if (handedOver.isPresent()) {
                sparesLostInARow = 0;
                openSpare();
              }
              return Behaviors.same();
            })
        .onMessage(SpareEnded.class, m -> spare != null && spare.id() == m.spareId(), m -> replaceLostSpare(gen, m.failure()))
        .onMessage(OpenSpare.class, m -> m.generation() == gen && spare == null, m -> {
          openSpare();
          return Behaviors.same();
        })
        .onMessage(
            BridgeReport.class,
            m -> {
              if (m.report() instanceof RelayBridge.Ended ended) {
                bridges.remove(ended.channelId());
                return Behaviors.same();
              }
              RelayBridge.OpenFailed failed = (RelayBridge.OpenFailed) m.report();
              SupervisorMessage result =
                  SupervisorMessage.newBuilder()
                      .setRelayOpenResult(
                          RelayOpenResult.newBuilder()
                              .setChannelId(failed.channelId())
                              .setSuccess(false)
                              .setError(failed.error()))
                      .build();
              return send(connection, backoff, sessionId, result, "relay open result");
            })
        .onMessage(
            GatewaySilent.class,
            m -> m.generation() == gen,
            m ->
                failed(
                    connection,
                    backoff,
                    "gateway silent for " + millis(deadAfter) + " (" + session.deadGatewayFactor()
                        + " heartbeat intervals), session_id=" + sessionId))
        .onMessage(
            StreamCompleted.class,
            m -> m.generation() == gen,
            m -> {
              OcsfLog.emit(NetworkActivities.sessionEnded(gatewayEndpoint, sandboxId));
              return reconnectLater(connection, backoff);
            })
        .onMessage(
            StreamFailed.class,
            m -> m.generation() == gen,
            m -> failed(connection, backoff, describe(m.cause())))
        .onMessage(RelayOpenRequested.class, this::dropRelayOpen)
        .onAnyMessage(m -> Behaviors.same())
        .onSignal(PostStop.class, s -> stopped(connection))
        .onSignal(PreRestart.class, s -> stopped(connection))
        .build();
  }

  // --- helpers -----------------------------------------------------------------------------------

  private Behavior<Command> send(
      Connection connection, ReconnectBackoff backoff, String sessionId, SupervisorMessage message, String what) {
    QueueOfferResult result = connection.outbound().offer(message);
    if (result == QueueOfferResult.enqueued()) {
      return Behaviors.same();
    }
    // Dropped: 64 messages unread means the gateway (or the connection) is stuck.
    return failed(connection, backoff, "could not send " + what + " to gateway (" + result + "), session_id=" + sessionId);
  }

  private Behavior<Command> failed(Connection connection, ReconnectBackoff backoff, String error) {
    OcsfLog.emitWarning(NetworkActivities.sessionFailed(gatewayEndpoint, backoff.attempt(), error + " (sandbox_id=" + sandboxId + ")"));
    return reconnectLater(connection, backoff);
  }

  private Behavior<Command> reconnectLater(Connection connection, ReconnectBackoff backoff) {
    listener.lost();
    cancelSpare();
    connection.close();
    timers.cancel(HANDSHAKE_TIMER);
    timers.cancel(HEARTBEAT_TIMER);
    timers.cancel(SILENCE_TIMER);
    if (settings.endpoints().size() > 1) {
      // Several gateway nodes: the next attempt goes to the next one (the lost one may be dead).
      endpointIndex = (endpointIndex + 1) % settings.endpoints().size();
      renewClient();
    }
    Duration delay = backoff.nextDelay(ThreadLocalRandom.current().nextDouble());
    log.info("reconnecting to {} in {} (sandbox_id={})", current(), millis(delay), sandboxId);
    timers.startSingleTimer(DIAL_TIMER, Dial.INSTANCE, delay);
    return waiting(backoff.failed(), connection.generation());
  }

  /** UNAVAILABLE before any reply: the channel never got to the gateway. */
  private static boolean unreachable(Throwable cause) {
    return cause instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.UNAVAILABLE;
  }

  private void renewClient() {
    client.close();
    client = OpenShellClient.create(grpcClientSettings(current(), settings, context.getSystem()), context.getSystem());
    gatewayEndpoint = new NetworkActivities.Endpoint(current().host(), current().port());
  }

  private GatewayEndpoint current() {
    return settings.endpoints().get(endpointIndex);
  }

  /** Starts the spare RelayStream call for the next relay (when the setting wants one) and watches its end. */
  private void openSpare() {
    if (!settings.relaySpareStream()) return;
    SpareRelayStream started = SpareRelayStream.start(++lastSpareId, client, relayMaterializer);
    spare = started;
    context.pipeToSelf(started.ended(), (done, failure) -> new SpareEnded(started.id(), failure));
  }

  /**
   * The spare's call ended before any relay took it (the gateway restarted or reset it). One such loss
   * is replaced at once; when they keep coming, each waits the session's reconnect backoff, so a gateway
   * that refuses every spare sees one call per backoff step, never a loop.
   */
  private Behavior<Command> replaceLostSpare(long generation, Throwable failure) {
    spare.cancel();
    spare = null;
    sparesLostInARow++;
    if (sparesLostInARow == 1) {
      log.info("spare relay stream ended unused ({}), replacing it (sandbox_id={})", describeEnd(failure), sandboxId);
      openSpare();
      return Behaviors.same();
    }
    Duration delay = new ReconnectBackoff(session.reconnectInitial(), session.reconnectMax(), session.reconnectJitter(), sparesLostInARow - 2)
        .nextDelay(ThreadLocalRandom.current().nextDouble());
    log.warn("spare relay stream ended unused ({}), {} in a row; the next in {} (sandbox_id={})",
        describeEnd(failure), sparesLostInARow, millis(delay), sandboxId);
    timers.startSingleTimer(SPARE_TIMER, new OpenSpare(generation), delay);
    return Behaviors.same();
  }

  private void cancelSpare() {
    timers.cancel(SPARE_TIMER);
    if (spare != null) spare.cancel();
    spare = null;
  }

  private static String describeEnd(Throwable failure) {
    return failure == null ? "completed" : describe(failure);
  }

  private Behavior<Command> dropRelayOpen(RelayOpenRequested m) {
    log.info("dropping relay open (channel_id={}): its session is gone", m.channelId());
    return Behaviors.same();
  }

  private Behavior<Command> ack(ActorRef<Ack> ackTo) {
    ackTo.tell(Ack.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> stopped(Connection connection) {
    listener.lost();
    cancelSpare();
    if (connection != null) {
      connection.close();
    }
    client.close();
    log.info("supervisor session stopped (sandbox_id={})", sandboxId);
    return Behaviors.same();
  }

  private static SupervisorMessage heartbeat() {
    return SupervisorMessage.newBuilder().setHeartbeat(SupervisorHeartbeat.getDefaultInstance()).build();
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }

  private static String millis(Duration d) {
    return d.toMillis() + " ms";
  }
}
