package io.openshell.gateway.relay;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node-wide cap on relays in flight (opened but not yet claimed or failed). One actor, so the
 * check and the count are one step.
 */
public final class RelayBudget {
  private RelayBudget() {}

  public sealed interface Command {}

  public record Acquire(ActorRef<Boolean> replyTo) implements Command {}

  public enum Release implements Command { INSTANCE }

  public record InFlight(ActorRef<Integer> replyTo) implements Command {}

  public static Behavior<Command> create(int capacity) {
    return budget(capacity, 0);
  }

  private static Behavior<Command> budget(int capacity, int inFlight) {
    return Behaviors.receive(Command.class)
        .onMessage(Acquire.class, acquire -> {
          boolean granted = inFlight < capacity;
          acquire.replyTo().tell(granted);
          return granted ? budget(capacity, inFlight + 1) : Behaviors.same();
        })
        .onMessage(Release.class, release -> budget(capacity, Math.max(0, inFlight - 1)))
        .onMessage(InFlight.class, query -> {
          query.replyTo().tell(inFlight);
          return Behaviors.same();
        })
        .build();
  }
}
