package io.openshell.gateway.session;

import io.grpc.Status;
import io.openshell.gateway.CborSerializable;
import io.openshell.gateway.relay.Relay;
import io.openshell.gateway.relay.RelayDirectory;
import io.openshell.gateway.relay.RelaySettings;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.protocol.v1.GatewayHeartbeat;
import io.openshell.protocol.v1.GatewayMessage;
import io.openshell.protocol.v1.RelayClose;
import io.openshell.protocol.v1.RelayOpen;
import io.openshell.protocol.v1.SessionAccepted;
import io.openshell.protocol.v1.SupervisorMessage;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * One {@code ConnectSupervisor} stream: validates the Hello, registers with its Sandbox, owns the
 * bounded outbound queue, the heartbeats and dead-peer detection. The Sandbox decides supersede; this
 * actor only obeys ({@link Superseded}, {@link Close}) and reports its own end.
 */
public final class SupervisorSession {
  private SupervisorSession() {}

  public interface Command {}

  /** A newer session for the same sandbox registered: complete this stream and stop. */
  public record Superseded(String bySessionId) implements Command, CborSerializable {}

  /** The sandbox no longer wants this session (e.g. it is being deleted). */
  public record Close(String reason) implements Command, CborSerializable {}

  /** The Sandbox asks this session's supervisor to open a relay channel. */
  public record OpenRelay(String channelId, String sandboxId, ActorRef<Sandbox.Command> sandbox)
      implements Command, CborSerializable {}

  /** Acknowledges one inbound message to the stream (backpressure). */
  public enum Ack { INSTANCE }

  public record StreamInit(ActorRef<Ack> ackTo) implements Command {}

  public record Inbound(SupervisorMessage message, ActorRef<Ack> ackTo) implements Command {}

  public enum StreamCompleted implements Command { INSTANCE }

  public record StreamFailed(Throwable cause) implements Command {}

  private record Registered(Sandbox.Accepted accepted, ActorRef<Ack> ackTo) implements Command {}

  private record RegistrationFailed(Throwable cause) implements Command {}

  private enum HeartbeatTick implements Command { INSTANCE }

  private enum DeadPeerCheck implements Command { INSTANCE }

  private record SendRelayClose(String channelId, String reason) implements Command {}

  private record RelayStopped(String channelId) implements Command {}

  /** The Sandbox entity this session registered with stopped: its shard moved or its node is gone. */
  private record EntityStopped(ActorRef<Sandbox.Command> entity) implements Command {}

  private enum RegisterAgain implements Command { INSTANCE }

  private record RegisteredAgain(Sandbox.Accepted accepted) implements Command {}

  private record RegisterAgainFailed(Throwable cause) implements Command {}

  private static final Duration REGISTER_AGAIN_DELAY = Duration.ofSeconds(1);

  public static Behavior<Command> create(SessionSettings settings, BoundedSourceQueue<GatewayMessage> outbound,
      ActorRef<RelayDirectory.Command> relayDirectory, RelaySettings relaySettings) {
    return create(settings, outbound, relayDirectory, relaySettings, null);
  }

  /**
   * {@code credentialDigest}: SHA-256 of the credential the supervisor sent with the call (null: none).
   * The Sandbox entity checks it at Hello; the session's relays carry it into the relay directory.
   */
  public static Behavior<Command> create(SessionSettings settings, BoundedSourceQueue<GatewayMessage> outbound,
      ActorRef<RelayDirectory.Command> relayDirectory, RelaySettings relaySettings, byte[] credentialDigest) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new SupervisorSession.Connection(context, timers, settings, outbound, relayDirectory, relaySettings, credentialDigest)
            .awaitingHello()));
  }

  /** Per-stream behavior; fields are touched only from this actor's thread. */
  private static final class Connection {
    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final SessionSettings settings;
    private final BoundedSourceQueue<GatewayMessage> outbound;
    private final ActorRef<RelayDirectory.Command> relayDirectory;
    private final RelaySettings relaySettings;
    private final byte[] credentialDigest;
    private final Map<String, ActorRef<Relay.Command>> relays = new HashMap<>();
    private final String sessionId = UUID.randomUUID().toString();
    private String sandboxId = "";
    private ActorRef<Sandbox.Command> entity;
    private long lastInboundNanos = System.nanoTime();

    Connection(ActorContext<Command> context, TimerScheduler<Command> timers, SessionSettings settings,
        BoundedSourceQueue<GatewayMessage> outbound, ActorRef<RelayDirectory.Command> relayDirectory,
        RelaySettings relaySettings, byte[] credentialDigest) {
      this.context = context;
      this.credentialDigest = credentialDigest;
      this.timers = timers;
      this.settings = settings;
      this.outbound = outbound;
      this.relayDirectory = relayDirectory;
      this.relaySettings = relaySettings;
    }

    Behavior<Command> awaitingHello() {
      return Behaviors.receive(Command.class)
          .onMessage(StreamInit.class, init -> {
            init.ackTo().tell(Ack.INSTANCE);
            return Behaviors.same();
          })
          .onMessage(Inbound.class, this::onFirstMessage)
          .onMessage(StreamCompleted.class, done -> reject(Status.INVALID_ARGUMENT, "stream closed before hello"))
          .onMessage(StreamFailed.class, failed -> {
            failOutbound(failed.cause());
            return Behaviors.stopped();
          })
          .onMessage(Close.class, close -> reject(Status.UNAVAILABLE, close.reason()))
          .build();
    }

    private Behavior<Command> onFirstMessage(Inbound inbound) {
      SupervisorMessage message = inbound.message();
      if (!message.hasHello()) return reject(Status.INVALID_ARGUMENT, "expected SupervisorHello");
      sandboxId = message.getHello().getSandboxId();
      if (sandboxId.isEmpty()) return reject(Status.INVALID_ARGUMENT, "sandbox_id is required");
      lastInboundNanos = System.nanoTime();
      var sandbox = ClusterSharding.get(context.getSystem()).entityRefFor(Sandbox.ENTITY_KEY, sandboxId);
      context.askWithStatus(Sandbox.Accepted.class, sandbox, Duration.ofSeconds(30),
          replyTo -> new Sandbox.SupervisorConnected(sessionId, context.getSelf(), credentialDigest, replyTo),
          (accepted, failure) -> failure == null
              ? new Registered(accepted, inbound.ackTo())
              : new RegistrationFailed(failure));
      // Relays replayed by the Sandbox at registration may overtake its reply: room for all of them.
      return Behaviors.withStash(relaySettings.maxPendingPerSandbox() + 16, stash -> registering(stash));
    }

    private Behavior<Command> registering(org.apache.pekko.actor.typed.javadsl.StashBuffer<Command> stash) {
      return Behaviors.receive(Command.class)
          .onMessage(Registered.class, registered -> {
            if (!offer(GatewayMessage.newBuilder().setSessionAccepted(SessionAccepted.newBuilder()
                .setSessionId(sessionId)
                .setHeartbeatIntervalSecs((int) settings.heartbeatInterval().toSeconds())).build())) {
              return end("outbound queue refused SessionAccepted");
            }
            context.getLog().info("supervisor session accepted sandbox_id={} session_id={}", sandboxId, sessionId);
            // First gateway heartbeat at t+interval, as upstream.
            timers.startTimerAtFixedRate(HeartbeatTick.INSTANCE, settings.heartbeatInterval());
            timers.startTimerWithFixedDelay(DeadPeerCheck.INSTANCE, settings.heartbeatInterval());
            registered.ackTo().tell(Ack.INSTANCE);
            watchEntity(registered.accepted().entity());
            return stash.unstashAll(live());
          })
          .onMessage(RegistrationFailed.class, failed -> {
            if (failed.cause() instanceof SandboxProblem problem) {
              return reject(Status.fromCode(problem.code()), problem.getMessage());
            }
            context.getLog().warn("supervisor session registration failed sandbox_id={} session_id={}: {}",
                sandboxId, sessionId, failed.cause().toString());
            return reject(Status.UNAVAILABLE, "gateway could not register the session, retry: " + failed.cause().getMessage());
          })
          .onAnyMessage(message -> {
            stash.stash(message);
            return Behaviors.same();
          })
          .build();
    }

    private Behavior<Command> live() {
      return Behaviors.receive(Command.class)
          .onMessage(Inbound.class, inbound -> {
            lastInboundNanos = System.nanoTime();
            SupervisorMessage message = inbound.message();
            switch (message.getPayloadCase()) {
              case HEARTBEAT -> { }
              case RELAY_OPEN_RESULT -> {
                var result = message.getRelayOpenResult();
                if (!result.getSuccess()) {
                  ActorRef<Relay.Command> relay = relays.get(result.getChannelId());
                  if (relay != null) relay.tell(new Relay.SupervisorFailed(result.getError()));
                }
              }
              case RELAY_CLOSE -> {
                ActorRef<Relay.Command> relay = relays.get(message.getRelayClose().getChannelId());
                if (relay != null) relay.tell(new Relay.Close(message.getRelayClose().getReason()));
              }
              default -> context.getLog().warn("unexpected {} from supervisor sandbox_id={} session_id={}; ignored",
                  message.getPayloadCase(), sandboxId, sessionId);
            }
            inbound.ackTo().tell(Ack.INSTANCE);
            return Behaviors.same();
          })
          .onMessage(OpenRelay.class, open -> {
            if (relays.containsKey(open.channelId())) return Behaviors.same();
            String channelId = open.channelId();
            Relay.SessionPort port = (id, reason) -> context.getSelf().tell(new SendRelayClose(id, reason));
            ActorRef<Relay.Command> relay = context.spawn(
                Relay.create(channelId, open.sandbox(), port, relaySettings.claimTimeout(), sandboxId, sessionId),
                "relay-" + channelId);
            relays.put(channelId, relay);
            context.watchWith(relay, new RelayStopped(channelId));
            // Registered before RelayOpen leaves: the supervisor's RelayStream looks the channel up in the
            // same directory, so its lookup is queued behind this and always finds the relay.
            relayDirectory.tell(new RelayDirectory.Register(channelId, relay, credentialDigest));
            return offer(GatewayMessage.newBuilder().setRelayOpen(RelayOpen.newBuilder().setChannelId(channelId)).build())
                ? Behaviors.same()
                : end("outbound queue full (supervisor not reading)");
          })
          .onMessage(SendRelayClose.class, close -> offer(GatewayMessage.newBuilder()
                  .setRelayClose(RelayClose.newBuilder().setChannelId(close.channelId()).setReason(close.reason())).build())
              ? Behaviors.same()
              : end("outbound queue full (supervisor not reading)"))
          .onMessage(RelayStopped.class, stopped -> {
            relays.remove(stopped.channelId());
            return Behaviors.same();
          })
          .onMessage(HeartbeatTick.class, tick -> offer(GatewayMessage.newBuilder()
                  .setHeartbeat(GatewayHeartbeat.getDefaultInstance()).build())
              ? Behaviors.same()
              : end("outbound queue full (supervisor not reading)"))
          .onMessage(DeadPeerCheck.class, check -> {
            long silentNanos = System.nanoTime() - lastInboundNanos;
            if (silentNanos > settings.deadAfter().toNanos()) {
              return end("no message from the supervisor for " + Duration.ofNanos(silentNanos).toSeconds() + " s");
            }
            return Behaviors.same();
          })
          .onMessage(Superseded.class, superseded -> {
            context.getLog().info("supervisor session superseded sandbox_id={} session_id={} by session_id={}",
                sandboxId, sessionId, superseded.bySessionId());
            completeOutbound();
            return Behaviors.stopped();
          })
          .onMessage(Close.class, close -> {
            context.getLog().info("supervisor session closed by gateway sandbox_id={} session_id={}: {}",
                sandboxId, sessionId, close.reason());
            completeOutbound();
            tellDisconnected();
            return Behaviors.stopped();
          })
          .onMessage(EntityStopped.class, stopped -> {
            if (!stopped.entity().equals(entity)) return Behaviors.same();
            context.getLog().info("sandbox entity moved sandbox_id={} session_id={}; registering the session again",
                sandboxId, sessionId);
            entity = null;
            return registerAgain();
          })
          .onMessage(RegisterAgain.class, again -> registerAgain())
          .onMessage(RegisteredAgain.class, again -> {
            watchEntity(again.accepted().entity());
            context.getLog().info("supervisor session registered again sandbox_id={} session_id={}", sandboxId, sessionId);
            return Behaviors.same();
          })
          .onMessage(RegisterAgainFailed.class, failed -> {
            if (failed.cause() instanceof SandboxProblem problem && problem.code() == Status.Code.NOT_FOUND) {
              return end("sandbox no longer exists");
            }
            if (failed.cause() instanceof SandboxProblem problem && (problem.code() == Status.Code.PERMISSION_DENIED
                || problem.code() == Status.Code.UNAUTHENTICATED)) {
              return end("the sandbox no longer accepts this session's credential (" + problem.code() + ")");
            }
            // The shard may still be on its way to a surviving node: try again shortly.
            timers.startSingleTimer(RegisterAgain.INSTANCE, REGISTER_AGAIN_DELAY);
            return Behaviors.same();
          })
          .onMessage(StreamCompleted.class, done -> end("supervisor closed the stream"))
          .onMessage(StreamFailed.class, failed -> end("stream failed: " + failed.cause().getMessage()))
          .build();
    }

    private void watchEntity(ActorRef<Sandbox.Command> registeredWith) {
      if (registeredWith == null) return;
      entity = registeredWith;
      context.watchWith(registeredWith, new EntityStopped(registeredWith));
    }

    private Behavior<Command> registerAgain() {
      var sandbox = ClusterSharding.get(context.getSystem()).entityRefFor(Sandbox.ENTITY_KEY, sandboxId);
      // Short: a message sent while the shard is being reallocated can be lost; the retry resends it.
      context.askWithStatus(Sandbox.Accepted.class, sandbox, Duration.ofSeconds(10),
          replyTo -> new Sandbox.SupervisorConnected(sessionId, context.getSelf(), credentialDigest, replyTo),
          (accepted, failure) -> failure == null ? new RegisteredAgain(accepted) : new RegisterAgainFailed(failure));
      return Behaviors.same();
    }

    /** Completes the response stream; it may already have ended with the call. */
    private void completeOutbound() {
      try {
        outbound.complete();
      } catch (IllegalStateException alreadyEnded) {
        // the supervisor's call ended first and took the queue with it
      }
    }

    /**
     * Fails the response stream. The supervisor may have stopped reading first (the queue is then
     * already done, and failing it throws): found by the gateway simulation, where a refused Hello
     * after the supervisor's cancel crashed this actor.
     */
    private void failOutbound(Throwable cause) {
      try {
        outbound.fail(cause);
      } catch (IllegalStateException alreadyEnded) {
        // the supervisor's call ended first and took the queue with it
      }
    }

    private boolean offer(GatewayMessage message) {
      return outbound.offer(message) == QueueOfferResult.enqueued();
    }

    private Behavior<Command> end(String why) {
      context.getLog().info("supervisor session ended sandbox_id={} session_id={}: {}", sandboxId, sessionId, why);
      tellDisconnected();
      completeOutbound();
      return Behaviors.stopped();
    }

    private void tellDisconnected() {
      ClusterSharding.get(context.getSystem()).entityRefFor(Sandbox.ENTITY_KEY, sandboxId)
          .tell(new Sandbox.SupervisorDisconnected(sessionId));
    }

    private Behavior<Command> reject(Status status, String message) {
      context.getLog().info("supervisor session rejected sandbox_id={} session_id={}: {} {}", sandboxId, sessionId,
          status.getCode(), message);
      failOutbound(new GrpcServiceException(status.withDescription(message)));
      return Behaviors.stopped();
    }
  }
}
