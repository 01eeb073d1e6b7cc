package io.openshell.gateway.sandbox;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.grpc.Status;
import io.openshell.gateway.CborSerializable;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;

/**
 * The name directory: one sharded, event-sourced entity per sandbox name. A name's claims are
 * serialized by its one actor, so of any number of concurrent creates with one name exactly one wins,
 * on one node or many.
 */
public final class SandboxNames
    extends EventSourcedBehaviorWithEnforcedReplies<SandboxNames.Command, SandboxNames.Event, SandboxNames.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "SandboxName");

  public sealed interface Command extends CborSerializable {}

  /** Claim the name for a sandbox id; fails ALREADY_EXISTS when another sandbox holds it. */
  public record Claim(String sandboxId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record Lookup(ActorRef<Owner> replyTo) implements Command {}

  /** Release the name, only if the given sandbox holds it (a stale release never frees a newer claim). */
  public record Release(String sandboxId, ActorRef<Done> replyTo) implements Command {}

  /** The sandbox id holding the name, or empty. */
  public record Owner(String sandboxId) implements CborSerializable {
    public boolean exists() {
      return !sandboxId.isEmpty();
    }
  }

  public sealed interface Event extends CborSerializable {}

  public record NameClaimed(String sandboxId) implements Event {}

  public record NameReleased(String sandboxId) implements Event {}

  public record State(String sandboxId) implements CborSerializable {
    @JsonCreator
    public State {}

    boolean free() {
      return sandboxId.isEmpty();
    }
  }

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
        ctx -> create(ctx.getEntityId(), ctx.getShard())));
  }

  /** Fire-and-forget release used by a removed sandbox. */
  public static void release(ActorSystem<?> system, String name, String sandboxId) {
    ActorRef<Done> ignore = system.ignoreRef();
    ClusterSharding.get(system).entityRefFor(ENTITY_KEY, name).tell(new Release(sandboxId, ignore));
  }

  public static Behavior<Command> create(String name, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(context -> new SandboxNames(name, context.getSelf(), shard));
  }

  private final ActorRef<Command> self;
  private final ActorRef<ClusterSharding.ShardCommand> shard;

  private SandboxNames(String name, ActorRef<Command> self, ActorRef<ClusterSharding.ShardCommand> shard) {
    super(PersistenceId.of(ENTITY_KEY.name(), name),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.self = self;
    this.shard = shard;
  }

  @Override
  public State emptyState() {
    return new State("");
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(NameClaimed.class, (state, e) -> new State(e.sandboxId()))
        .onEvent(NameReleased.class, (state, e) -> new State(""))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Claim.class, (state, cmd) -> {
          if (state.free()) {
            return Effect().persist(new NameClaimed(cmd.sandboxId())).thenReply(cmd.replyTo(), s -> StatusReply.ack());
          }
          if (state.sandboxId().equals(cmd.sandboxId())) return Effect().reply(cmd.replyTo(), StatusReply.ack());
          return Effect().reply(cmd.replyTo(), StatusReply.error(new SandboxProblem(Status.Code.ALREADY_EXISTS, "taken")));
        })
        .onCommand(Lookup.class, (state, cmd) -> state.free()
            ? Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> new Owner(""))
            : Effect().reply(cmd.replyTo(), new Owner(state.sandboxId())))
        .onCommand(Release.class, (state, cmd) -> state.sandboxId().equals(cmd.sandboxId())
            ? Effect().persist(new NameReleased(cmd.sandboxId())).thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> Done.getInstance())
            : Effect().reply(cmd.replyTo(), Done.getInstance()))
        .build();
  }

  private void passivate() {
    if (shard != null) shard.tell(new ClusterSharding.Passivate<>(self));
  }
}
