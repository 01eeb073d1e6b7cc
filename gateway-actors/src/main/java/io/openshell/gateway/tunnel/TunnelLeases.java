package io.openshell.gateway.tunnel;

import io.openshell.gateway.ssh.TokenRedaction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The one owner of this node's tunnel connection counters (per token, per sandbox). A connection
 * acquires a lease before any relay opens and releases it when it ends; the check and the count
 * happen in one message, so concurrent connections can never overshoot a cap.
 */
public final class TunnelLeases {
  private TunnelLeases() {}

  public sealed interface Command {}

  public record Acquire(String leaseId, String token, String sandboxId, ActorRef<TunnelCounters.Outcome> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "Acquire[leaseId=" + leaseId + ", token=" + TokenRedaction.redact(token) + ", sandboxId=" + sandboxId + "]";
    }
  }

  public record Release(String leaseId) implements Command {}

  /** Open connections of one token and one sandbox, and all leases on this node. */
  public record GetCounts(String token, String sandboxId, ActorRef<Counts> replyTo) implements Command {
    @Override
    public String toString() {
      return "GetCounts[token=" + TokenRedaction.redact(token) + ", sandboxId=" + sandboxId + "]";
    }
  }

  public record Counts(int token, int sandbox, int leases, int trackedKeys) {}

  public static Behavior<Command> create(int maxPerToken, int maxPerSandbox) {
    return Behaviors.setup(context -> {
      TunnelCounters counters = new TunnelCounters(maxPerToken, maxPerSandbox);
      return Behaviors.receive(Command.class)
          .onMessage(Acquire.class, acquire -> {
            acquire.replyTo().tell(counters.acquire(acquire.leaseId(), acquire.token(), acquire.sandboxId()));
            return Behaviors.same();
          })
          .onMessage(Release.class, release -> {
            counters.release(release.leaseId());
            return Behaviors.same();
          })
          .onMessage(GetCounts.class, get -> {
            get.replyTo().tell(new Counts(counters.tokenCount(get.token()), counters.sandboxCount(get.sandboxId()),
                counters.leaseCount(), counters.trackedKeys()));
            return Behaviors.same();
          })
          .build();
    });
  }
}
