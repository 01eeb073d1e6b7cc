package io.openshell.gateway.relay;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Finds the Relay actor of a channel on this node, with the digest of the credential its session's
 * supervisor presented at Hello (already checked by the Sandbox entity), so a RelayStream's credential
 * is checked here on the node without another hop. A RelayStream carries only a channel id and always
 * lands on the node whose supervisor connection opened it, so a node-local actor is enough. Entries go
 * away when their relay stops (watched), never by a sweep.
 */
public final class RelayDirectory {
  private RelayDirectory() {}

  public sealed interface Command {}

  /** {@code credentialDigest}: SHA-256 of the credential the session was accepted with (null: none). */
  public record Register(String channelId, ActorRef<Relay.Command> relay, byte[] credentialDigest) implements Command {

    public Register(String channelId, ActorRef<Relay.Command> relay) {
      this(channelId, relay, null);
    }
  }

  public record Lookup(String channelId, ActorRef<Optional<Entry>> replyTo) implements Command {}

  /** A registered relay and the credential digest its session was accepted with. */
  public record Entry(ActorRef<Relay.Command> relay, byte[] credentialDigest) {}

  private record Stopped(String channelId, ActorRef<Relay.Command> relay) implements Command {}

  public static Behavior<Command> create() {
    return Behaviors.setup(context -> {
      Map<String, Entry> relays = new HashMap<>();
      return Behaviors.receive(Command.class)
          .onMessage(Register.class, register -> {
            relays.put(register.channelId(), new Entry(register.relay(), register.credentialDigest()));
            context.watchWith(register.relay(), new Stopped(register.channelId(), register.relay()));
            return Behaviors.same();
          })
          .onMessage(Lookup.class, lookup -> {
            lookup.replyTo().tell(Optional.ofNullable(relays.get(lookup.channelId())));
            return Behaviors.same();
          })
          .onMessage(Stopped.class, stopped -> {
            Entry entry = relays.get(stopped.channelId());
            if (entry != null && entry.relay().equals(stopped.relay())) relays.remove(stopped.channelId());
            return Behaviors.same();
          })
          .build();
    });
  }
}
