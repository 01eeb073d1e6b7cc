package io.openshell.gateway.relay;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Finds the Relay actor of a channel on this node. A RelayStream carries only a channel id and always
 * lands on the node whose supervisor connection opened it, so a node-local actor is enough. Entries go
 * away when their relay stops (watched), never by a sweep.
 */
public final class RelayDirectory {
  private RelayDirectory() {}

  public sealed interface Command {}

  public record Register(String channelId, ActorRef<Relay.Command> relay) implements Command {}

  public record Lookup(String channelId, ActorRef<Optional<ActorRef<Relay.Command>>> replyTo) implements Command {}

  private record Stopped(String channelId, ActorRef<Relay.Command> relay) implements Command {}

  public static Behavior<Command> create() {
    return Behaviors.setup(context -> {
      Map<String, ActorRef<Relay.Command>> relays = new HashMap<>();
      return Behaviors.receive(Command.class)
          .onMessage(Register.class, register -> {
            relays.put(register.channelId(), register.relay());
            context.watchWith(register.relay(), new Stopped(register.channelId(), register.relay()));
            return Behaviors.same();
          })
          .onMessage(Lookup.class, lookup -> {
            lookup.replyTo().tell(Optional.ofNullable(relays.get(lookup.channelId())));
            return Behaviors.same();
          })
          .onMessage(Stopped.class, stopped -> {
            relays.remove(stopped.channelId(), stopped.relay());
            return Behaviors.same();
          })
          .build();
    });
  }
}
