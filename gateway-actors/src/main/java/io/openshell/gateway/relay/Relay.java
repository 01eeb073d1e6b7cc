package io.openshell.gateway.relay;

import io.grpc.Status;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxProblem;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.SinkRef;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.util.ByteString;

/**
 * One relay channel, a child of the supervisor session that was asked to open it. Created pending with
 * its own claim timer (no sweep); claimed once by the RelayStream that arrives on the same connection;
 * then it only holds the stream's kill switch so a RelayClose can end it. Every outcome is reported
 * to the Sandbox, which alone answers the waiting client.
 */
public final class Relay {
  private Relay() {}

  public interface Command {}

  /** The supervisor's RelayStream arrived for this channel. */
  public record Claim(SourceRef<ByteString> fromSupervisor, SinkRef<ByteString> toSupervisor,
      UniqueKillSwitch inbound, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** The supervisor answered RelayOpenResult{success=false}. */
  public record SupervisorFailed(String error) implements Command {}

  /** RelayClose from the supervisor, or the gateway closing the relay. */
  public record Close(String reason) implements Command {}

  /** The RelayStream call ended (both directions done, or failed). */
  public enum StreamEnded implements Command { INSTANCE }

  private enum ClaimTimeout implements Command { INSTANCE }

  private record ClaimDecided(boolean accepted, Claim claim) implements Command {}

  /** Sent to the owning session to put a RelayClose on the supervisor's stream. */
  public interface SessionPort {
    void sendRelayClose(String channelId, String reason);
  }

  public static Behavior<Command> create(String channelId, ActorRef<Sandbox.Command> sandbox, SessionPort session,
      Duration claimTimeout, String sandboxId, String sessionId) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(ClaimTimeout.INSTANCE, claimTimeout);
      context.getLog().info("relay pending sandbox_id={} session_id={} channel_id={}", sandboxId, sessionId, channelId);
      return new Pending(context, channelId, sandbox, session, sandboxId, sessionId).behavior();
    }));
  }

  private record Pending(ActorContext<Command> context, String channelId, ActorRef<Sandbox.Command> sandbox,
      SessionPort session, String sandboxId, String sessionId) {

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(Claim.class, claim -> {
            RelayConnection connection = new RelayConnection(channelId, claim.fromSupervisor(), claim.toSupervisor());
            context.ask(Boolean.class, sandbox, Duration.ofSeconds(10),
                accepted -> new Sandbox.RelayClaimed(channelId, connection, accepted),
                (accepted, failure) -> new ClaimDecided(failure == null && accepted, claim));
            return deciding();
          })
          .onMessage(ClaimTimeout.class, timeout -> fail(Status.Code.DEADLINE_EXCEEDED, "relay channel timed out", true))
          .onMessage(SupervisorFailed.class, failed -> fail(Status.Code.UNAVAILABLE, "supervisor relay failed: " + failed.error(), false))
          .onMessage(Close.class, close -> fail(Status.Code.UNAVAILABLE, "supervisor closed the relay: " + close.reason(), false))
          .onMessage(StreamEnded.class, ended -> Behaviors.same())
          .build();
    }

    private Behavior<Command> deciding() {
      return Behaviors.receive(Command.class)
          .onMessage(ClaimDecided.class, decided -> {
            Claim claim = decided.claim();
            if (!decided.accepted()) {
              // The client gave up (or the sandbox failed it) before the supervisor's stream arrived.
              claim.replyTo().tell(StatusReply.error(new SandboxProblem(Status.Code.INTERNAL, "relay requester dropped")));
              claim.inbound().abort(new IllegalStateException("relay requester dropped"));
              context.getLog().info("relay dropped sandbox_id={} session_id={} channel_id={}: requester gone",
                  sandboxId, sessionId, channelId);
              return Behaviors.stopped();
            }
            claim.replyTo().tell(StatusReply.ack());
            context.getLog().info("relay bridged sandbox_id={} session_id={} channel_id={}", sandboxId, sessionId, channelId);
            return bridged(claim.inbound());
          })
          .onMessage(Claim.class, second -> rejectSecondClaim(second))
          .onMessage(ClaimTimeout.class, timeout -> Behaviors.same())
          .onMessage(StreamEnded.class, ended -> Behaviors.same())
          .onMessage(SupervisorFailed.class, failed -> Behaviors.same())
          .onMessage(Close.class, close -> Behaviors.same())
          .build();
    }

    private Behavior<Command> bridged(UniqueKillSwitch inbound) {
      return Behaviors.receive(Command.class)
          .onMessage(Close.class, close -> {
            context.getLog().info("relay closed sandbox_id={} session_id={} channel_id={}: {}", sandboxId, sessionId,
                channelId, close.reason());
            inbound.shutdown();
            return Behaviors.stopped();
          })
          .onMessage(StreamEnded.class, ended -> {
            context.getLog().info("relay ended sandbox_id={} session_id={} channel_id={}", sandboxId, sessionId, channelId);
            return Behaviors.stopped();
          })
          .onMessage(Claim.class, this::rejectSecondClaim)
          .onMessage(ClaimTimeout.class, timeout -> Behaviors.same())
          .onMessage(SupervisorFailed.class, failed -> Behaviors.same())
          .build();
    }

    private Behavior<Command> rejectSecondClaim(Claim claim) {
      // A claim is single-use: a second RelayStream for a channel is as good as an unknown one.
      claim.replyTo().tell(StatusReply.error(new SandboxProblem(Status.Code.NOT_FOUND, "unknown or expired relay channel")));
      claim.inbound().abort(new IllegalStateException("relay already claimed"));
      return Behaviors.same();
    }

    private Behavior<Command> fail(Status.Code code, String message, boolean tellSupervisor) {
      context.getLog().info("relay failed sandbox_id={} session_id={} channel_id={}: {}", sandboxId, sessionId, channelId, message);
      sandbox.tell(new Sandbox.RelayFailed(channelId, code, message));
      if (tellSupervisor) session.sendRelayClose(channelId, message);
      return Behaviors.stopped();
    }
  }
}
