package io.openshell.gateway.sandbox;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.grpc.Status;
import io.openshell.gateway.CborSerializable;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.session.SupervisorSession;
import io.openshell.protocol.compute.v1.ComputeDriver;
import io.openshell.protocol.compute.v1.CreateSandboxRequest;
import io.openshell.protocol.compute.v1.DeleteSandboxRequest;
import io.openshell.protocol.compute.v1.ValidateSandboxCreateRequest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One sandbox: the single owner of its spec, phase, conditions, the driver's last observation and the
 * current supervisor session. Sharded by sandbox id (even on one node) and event-sourced.
 *
 * <p>The live session is transient: it is an actor reference that means nothing after a restart, so
 * a recovered sandbox is not READY until its supervisor says Hello again. Supersede and stale cleanup
 * are settled here by message order and session ids: a disconnect for any id but the current one is
 * ignored.
 */
public final class Sandbox extends EventSourcedBehaviorWithEnforcedReplies<Sandbox.Command, Sandbox.Event, Sandbox.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Sandbox");
  public static final String TAG = "sandbox";

  // --- protocol -------------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  public record Create(String name, byte[] spec, ActorRef<StatusReply<SandboxView>> replyTo) implements Command {}

  /**
   * Sharding's stop message (passivation, hand-off). A passivation asked for by an empty entity (an
   * unknown id was looked up) can reach it after a Create that was already queued: the entity then
   * stops only once its own driver calls have answered, or their results (and the client's reply)
   * would be dead letters.
   */
  public enum Stop implements Command { INSTANCE }

  public record Get(ActorRef<StatusReply<SandboxView>> replyTo) implements Command {}

  public record Delete(ActorRef<StatusReply<SandboxView>> replyTo) implements Command {}

  /** The compute driver reported a status for this sandbox. */
  public record DriverObserved(DriverObservation observation, ActorRef<Done> replyTo) implements Command {}

  /** The compute driver reported that the sandbox is gone. */
  public record DriverDeleted(ActorRef<Done> replyTo) implements Command {}

  /** After a gateway start: make the driver run (or finish deleting) this sandbox again. */
  public record Reconcile(ActorRef<Done> replyTo) implements Command {}

  /**
   * {@code credentialDigest} is the SHA-256 of the credential the supervisor presented (null: none);
   * the session is accepted only when it is this sandbox's ({@link SupervisorCredential}).
   */
  public record SupervisorConnected(String sessionId, ActorRef<SupervisorSession.Command> session,
      byte[] credentialDigest, ActorRef<StatusReply<Accepted>> replyTo) implements Command {

    /** A supervisor that presented no credential. */
    public SupervisorConnected(String sessionId, ActorRef<SupervisorSession.Command> session,
        ActorRef<StatusReply<Accepted>> replyTo) {
      this(sessionId, session, null, replyTo);
    }
  }

  /**
   * Is {@code credentialDigest} (SHA-256, null: none presented) this sandbox's supervisor credential?
   * Answers NOT_FOUND, UNAUTHENTICATED or PERMISSION_DENIED otherwise. Used for PushSandboxLogs.
   */
  public record VerifySupervisor(byte[] credentialDigest, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record SupervisorDisconnected(String sessionId) implements Command {}

  /**
   * {@code entity} is this incarnation of the sandbox actor: the session watches it and registers
   * again when the entity moves to another node (its shard handed over, or its node lost).
   */
  public record Accepted(String sandboxId, String sandboxName, ActorRef<Command> entity) implements CborSerializable {}

  /**
   * Open a relay to this sandbox's supervisor. Waits up to {@code sessionWait} for a session, then the
   * supervisor has the relay claim timeout to open its RelayStream. Exactly one reply.
   */
  public record OpenRelay(String channelId, Duration sessionWait, ActorRef<StatusReply<RelayConnection>> replyTo)
      implements Command {}

  /** The client that asked for a relay is gone; a later claim is answered "relay requester dropped". */
  public record AbandonRelay(String channelId) implements Command {}

  /** From the Relay actor: the supervisor's stream arrived. Reply true if a client still waits for it. */
  public record RelayClaimed(String channelId, RelayConnection connection, ActorRef<Boolean> accepted) implements Command {}

  /** From the Relay actor: the relay ended before it was claimed. */
  public record RelayFailed(String channelId, Status.Code code, String message) implements Command {}

  /** How many relays are in flight (waiting for a session or a claim) for this sandbox. */
  public record PendingRelays(ActorRef<Integer> replyTo) implements Command {}

  private record RelayDeadline(String channelId) implements Command {}

  private record DriverCreateFinished(String error, Status.Code code, ActorRef<StatusReply<SandboxView>> replyTo)
      implements Command {}

  private record DriverDeleteFinished(String error, ActorRef<StatusReply<SandboxView>> replyTo) implements Command {}

  private record SessionTerminated(String sessionId) implements Command {}

  // --- events ---------------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  /** {@code supervisorCredential} is null in journals written before credentials existed. */
  public record SandboxCreated(String id, String name, byte[] spec, long createdAtMs, String supervisorCredential)
      implements Event {
    @Override
    public String toString() {
      return "SandboxCreated[id=" + id + ", name=" + name + ", createdAtMs=" + createdAtMs + ", supervisorCredential="
          + SupervisorCredential.redact(supervisorCredential) + "]";
    }
  }

  /** A sandbox recovered from a journal without a credential got one (before its driver restarts it). */
  public record SupervisorCredentialMinted(String supervisorCredential) implements Event {
    @Override
    public String toString() {
      return "SupervisorCredentialMinted[" + SupervisorCredential.redact(supervisorCredential) + "]";
    }
  }

  public record DriverStatusObserved(DriverObservation observation) implements Event {}

  public record SupervisorSessionConnected(String sessionId, long atMs) implements Event {}

  public record SupervisorSessionDisconnected(String sessionId, long atMs) implements Event {}

  public record DeletionRequested(long atMs) implements Event {}

  /** Terminal: deleted, or rolled back because the driver refused to create it. */
  public record SandboxRemoved(long atMs, String reason) implements Event {}

  // --- state ----------------------------------------------------------------------------------

  /**
   * Persistent state. {@code sessionId} is the last session that connected (empty after its
   * disconnect); whether it is live right now is known only to the running actor.
   */
  public record State(String id, String name, byte[] spec, long createdAtMs, DriverObservation driver,
      boolean deleting, boolean removed, String sessionId, boolean everConnected, long sessionChangedAtMs,
      long revision, String supervisorCredential) implements CborSerializable {

    @JsonCreator
    public State {}

    public static State empty() {
      return new State(null, null, null, 0, null, false, false, "", false, 0, 0, null);
    }

    /** Never prints the credential: states end up in debug logs of the persistence plugin. */
    @Override
    public String toString() {
      return "State[id=" + id + ", name=" + name + ", driver=" + driver + ", deleting=" + deleting + ", removed=" + removed
          + ", sessionId=" + sessionId + ", revision=" + revision + ", supervisorCredential="
          + SupervisorCredential.redact(supervisorCredential) + "]";
    }

    public boolean exists() {
      return id != null && !removed;
    }

    /** Applies one event; shared by the entity and the read model's rebuild. */
    public State apply(Event event) {
      long next = revision + 1;
      if (event instanceof SandboxCreated e) {
        return new State(e.id(), e.name(), e.spec(), e.createdAtMs(), null, false, false, "", false, e.createdAtMs(), next,
            e.supervisorCredential());
      } else if (event instanceof DriverStatusObserved e) {
        return new State(id, name, spec, createdAtMs, e.observation(), deleting, removed, sessionId, everConnected, sessionChangedAtMs, next,
            supervisorCredential);
      } else if (event instanceof SupervisorSessionConnected e) {
        return new State(id, name, spec, createdAtMs, driver, deleting, removed, e.sessionId(), true, e.atMs(), next,
            supervisorCredential);
      } else if (event instanceof SupervisorSessionDisconnected e) {
        return new State(id, name, spec, createdAtMs, driver, deleting, removed, "", everConnected, e.atMs(), next,
            supervisorCredential);
      } else if (event instanceof DeletionRequested) {
        return new State(id, name, spec, createdAtMs, driver, true, removed, sessionId, everConnected, sessionChangedAtMs, next,
            supervisorCredential);
      } else if (event instanceof SandboxRemoved) {
        return new State(id, name, spec, createdAtMs, driver, deleting, true, "", everConnected, sessionChangedAtMs, next,
            supervisorCredential);
      } else if (event instanceof SupervisorCredentialMinted e) {
        // Not a change anyone watches: the revision stays, so watchers see no new version.
        return new State(id, name, spec, createdAtMs, driver, deleting, removed, sessionId, everConnected, sessionChangedAtMs, revision,
            e.supervisorCredential());
      }
      throw new IllegalArgumentException("unknown event " + event);
    }

    public SandboxView view(boolean sessionLive) {
      Readiness.Derived derived = Readiness.derive(driver, deleting, sessionLive, everConnected, sessionChangedAtMs);
      return new SandboxView(id, name, spec, createdAtMs, derived.phase(), derived.conditions(),
          driver == null ? "" : driver.instanceId(), revision, removed);
    }
  }

  // --- wiring ---------------------------------------------------------------------------------

  /** What every sandbox actor on a node shares. */
  public record Dependencies(ComputeDriver driver, ActorRef<Topic.Command<SandboxView>> views,
      SandboxSettings settings, NameRelease names, io.openshell.gateway.relay.RelaySettings relays,
      SshSessionRemoval sshSessions) {}

  /** Deletes a sandbox's SSH sessions when the sandbox is being deleted (UPSTREAM §B 60). Idempotent. */
  @FunctionalInterface
  public interface SshSessionRemoval {
    void removeFor(String sandboxId);
  }

  /** Frees a removed sandbox's name in the name directory. */
  @FunctionalInterface
  public interface NameRelease {
    void release(String name, String sandboxId);
  }

  public static void init(ActorSystem<?> system, Dependencies dependencies) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
        entityContext -> create(entityContext.getEntityId(), entityContext.getShard(), dependencies))
        .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String sandboxId, ActorRef<ClusterSharding.ShardCommand> shard,
      Dependencies dependencies) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Sandbox(context, timers, sandboxId, shard, dependencies)));
  }

  /** A relay open in flight: waiting for a session ({@code sentTo} empty) or for the supervisor's claim. */
  private static final class PendingRelay {
    final ActorRef<StatusReply<RelayConnection>> replyTo;
    String sentTo = "";

    PendingRelay(ActorRef<StatusReply<RelayConnection>> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /** A live supervisor session: id plus the actor that owns its stream. */
  private record LiveSession(String sessionId, ActorRef<SupervisorSession.Command> ref) {}

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String sandboxId;
  private final Dependencies dependencies;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  // Transient, touched only by command handlers (this actor's thread): never journaled.
  private LiveSession live;
  private final Map<String, PendingRelay> relays = new LinkedHashMap<>();
  // The digest of the state's credential, computed once per incarnation.
  private String digestOf;
  private byte[] digest;
  /**
   * Driver calls whose result has not come back to this actor yet. A removed sandbox passivates only
   * when this is zero: the result is piped to this very actor, and a stopped actor would drop it
   * (the caller of a delete or create would then wait for its ask timeout).
   */
  private int driverCallsInFlight;
  /** Sharding asked this entity to stop while driver calls were in flight: stop when they have answered. */
  private boolean stopWhenDriverIdle;

  private Sandbox(ActorContext<Command> context, TimerScheduler<Command> timers, String sandboxId,
      ActorRef<ClusterSharding.ShardCommand> shard, Dependencies dependencies) {
    super(PersistenceId.of(ENTITY_KEY.name(), sandboxId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.context = context;
    this.timers = timers;
    this.sandboxId = sandboxId;
    this.dependencies = dependencies;
    this.shard = shard;
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(TAG);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(dependencies.settings().snapshotEvery(), 2);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var builder = newCommandHandlerWithReplyBuilder();
    builder.forState(state -> !state.exists())
        .onCommand(Stop.class, this::onStop)
        .onCommand(Create.class, this::onCreate)
        // Lookups of unknown ids must not leave an idle actor behind (entities are never passivated
        // for idleness because they hold live sessions), so the empty entity asks to be passivated.
        .onCommand(Get.class, (state, cmd) -> Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> notFound()))
        .onCommand(Delete.class, (state, cmd) -> Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> notFound()))
        .onCommand(SupervisorConnected.class, (state, cmd) -> Effect().none().thenRun(s -> passivate())
            .thenReply(cmd.replyTo(), s -> StatusReply.error(new SandboxProblem(Status.Code.NOT_FOUND, "sandbox not found"))))
        .onCommand(VerifySupervisor.class, (state, cmd) -> Effect().none().thenRun(s -> passivate())
            .thenReply(cmd.replyTo(), s -> StatusReply.error(new SandboxProblem(Status.Code.NOT_FOUND, "sandbox not found"))))
        .onCommand(DriverObserved.class, (state, cmd) -> Effect().reply(cmd.replyTo(), Done.getInstance()))
        .onCommand(DriverDeleted.class, (state, cmd) -> Effect().reply(cmd.replyTo(), Done.getInstance()))
        .onCommand(Reconcile.class, (state, cmd) -> Effect().reply(cmd.replyTo(), Done.getInstance()))
        .onCommand(SupervisorDisconnected.class, (state, cmd) -> Effect().noReply())
        .onCommand(SessionTerminated.class, (state, cmd) -> Effect().noReply())
        .onCommand(OpenRelay.class, (state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.error(
            new SandboxProblem(Status.Code.NOT_FOUND, "sandbox not found"))))
        .onCommand(RelayClaimed.class, (state, cmd) -> Effect().reply(cmd.accepted(), false))
        .onCommand(PendingRelays.class, (state, cmd) -> Effect().reply(cmd.replyTo(), 0))
        // The driver's Deleted watch event may have removed the sandbox before the driver's own reply
        // to the delete arrives: the client still gets its answer (the actor waited for it, see
        // passivateWhenDriverIdle).
        .onCommand(DriverDeleteFinished.class, (state, cmd) -> {
          driverCallFinished(state);
          return cmd.replyTo() == null || cmd.error() != null
              ? replyIfAsked(cmd.replyTo(), StatusReply.error(new SandboxProblem(Status.Code.INTERNAL, String.valueOf(cmd.error()))))
              : Effect().reply(cmd.replyTo(), StatusReply.success(view(state)));
        })
        // Deleted while the driver was still creating it.
        .onCommand(DriverCreateFinished.class, (state, cmd) -> {
          driverCallFinished(state);
          return replyIfAsked(cmd.replyTo(),
              StatusReply.error(new SandboxProblem(Status.Code.ABORTED, "sandbox was deleted while it was being created")));
        })
        .onAnyCommand(cmd -> Effect().noReply());
    builder.forAnyState()
        .onCommand(Stop.class, this::onStop)
        .onCommand(Create.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            StatusReply.error(new SandboxProblem(Status.Code.ALREADY_EXISTS, "sandbox '" + cmd.name() + "' already exists"))))
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.success(view(state))))
        .onCommand(Delete.class, this::onDelete)
        .onCommand(DriverObserved.class, this::onDriverObserved)
        .onCommand(DriverDeleted.class, this::onDriverDeleted)
        .onCommand(Reconcile.class, this::onReconcile)
        .onCommand(SupervisorConnected.class, this::onSupervisorConnected)
        .onCommand(VerifySupervisor.class, (state, cmd) -> {
          SandboxProblem refused = credentialRefusal(state, cmd.credentialDigest());
          return Effect().reply(cmd.replyTo(), refused == null ? StatusReply.success(Done.getInstance()) : StatusReply.error(refused));
        })
        .onCommand(SupervisorDisconnected.class, (state, cmd) -> onSessionGone(state, cmd.sessionId(), "stream ended"))
        .onCommand(SessionTerminated.class, (state, cmd) -> onSessionGone(state, cmd.sessionId(), "session actor stopped"))
        .onCommand(DriverCreateFinished.class, this::onDriverCreateFinished)
        .onCommand(DriverDeleteFinished.class, this::onDriverDeleteFinished)
        .onCommand(OpenRelay.class, this::onOpenRelay)
        .onCommand(RelayClaimed.class, this::onRelayClaimed)
        .onCommand(RelayFailed.class, (state, cmd) -> {
          failRelay(cmd.channelId(), cmd.code(), cmd.message());
          return Effect().noReply();
        })
        .onCommand(AbandonRelay.class, (state, cmd) -> {
          // The requester is gone, but its ask still waits and holds a slot of the node's relay
          // budget until it is answered: answer it now, not when its patience runs out.
          failRelay(cmd.channelId(), Status.Code.CANCELLED, "the client gave up on the relay");
          return Effect().noReply();
        })
        .onCommand(RelayDeadline.class, (state, cmd) -> {
          PendingRelay relay = relays.get(cmd.channelId());
          if (relay != null) {
            if (relay.sentTo.isEmpty()) {
              failRelay(cmd.channelId(), Status.Code.UNAVAILABLE, "supervisor session not connected");
            } else {
              failRelay(cmd.channelId(), Status.Code.DEADLINE_EXCEEDED, "relay channel timed out");
            }
          }
          return Effect().noReply();
        })
        .onCommand(PendingRelays.class, (state, cmd) -> Effect().reply(cmd.replyTo(), relays.size()));
    return builder.build();
  }

  // --- create ---------------------------------------------------------------------------------

  private ReplyEffect<Event, State> onCreate(State state, Create cmd) {
    // Persisted before the driver is called, so a crash in between leaves a record to reconcile.
    return Effect().persist(new SandboxCreated(sandboxId, cmd.name(), cmd.spec(), System.currentTimeMillis(),
            SupervisorCredential.mint()))
        .thenRun(created -> {
          publish(created);
          context.getLog().info("sandbox created sandbox_id={} name={}; asking the driver to start it", sandboxId, cmd.name());
          callDriverCreate(created, cmd.replyTo());
        })
        .thenNoReply();
  }

  private void callDriverCreate(State state, ActorRef<StatusReply<SandboxView>> replyTo) {
    var driverSandbox = DriverMapping.toDriver(state);
    ComputeDriver driver = dependencies.driver();
    CompletionStage<?> call = driver.validateSandboxCreate(
            ValidateSandboxCreateRequest.newBuilder().setSandbox(driverSandbox).build())
        .thenCompose(ok -> driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(driverSandbox).build()))
        .toCompletableFuture()
        .orTimeout(dependencies.settings().driverCallTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    driverCallsInFlight++;
    context.pipeToSelf(call, (ok, failure) -> {
      if (failure == null) return new DriverCreateFinished(null, Status.Code.OK, replyTo);
      Status status = Status.fromThrowable(failure);
      String message = status.getDescription() != null ? status.getDescription() : String.valueOf(failure.getMessage());
      return new DriverCreateFinished(message, status.getCode(), replyTo);
    });
  }

  private ReplyEffect<Event, State> onDriverCreateFinished(State state, DriverCreateFinished result) {
    driverCallFinished(state);
    if (result.replyTo() == null) {
      // A reconcile after restart: the driver refusing again is logged, the record stays.
      if (result.error() != null && result.code() != Status.Code.ALREADY_EXISTS) {
        context.getLog().warn("driver could not restart sandbox_id={}: {}", sandboxId, result.error());
      }
      return Effect().noReply();
    }
    if (result.error() == null) {
      return Effect().reply(result.replyTo(), StatusReply.success(view(state)));
    }
    context.getLog().warn("driver refused sandbox_id={}: {}; rolling back", sandboxId, result.error());
    SandboxProblem problem = new SandboxProblem(
        result.code() == Status.Code.UNKNOWN ? Status.Code.INTERNAL : result.code(), result.error());
    return Effect().persist(new SandboxRemoved(System.currentTimeMillis(), "driver refused: " + result.error()))
        .thenRun(this::publishAndReleaseName)
        .thenReply(result.replyTo(), s -> StatusReply.error(problem));
  }

  // --- delete ---------------------------------------------------------------------------------

  private ReplyEffect<Event, State> onDelete(State state, Delete cmd) {
    closeLiveSession("sandbox deleted");
    for (String channelId : java.util.List.copyOf(relays.keySet())) {
      failRelay(channelId, Status.Code.UNAVAILABLE, "sandbox '" + state.name() + "' is being deleted");
    }
    if (state.deleting()) {
      dependencies.sshSessions().removeFor(sandboxId);
      callDriverDelete(cmd.replyTo());
      return Effect().noReply();
    }
    return Effect().persist(new DeletionRequested(System.currentTimeMillis()))
        .thenRun(deleting -> {
          publish(deleting);
          // Before the driver is called, as upstream: no new tunnel may start for a sandbox being deleted.
          dependencies.sshSessions().removeFor(sandboxId);
          context.getLog().info("sandbox deleting sandbox_id={} name={}", sandboxId, deleting.name());
          callDriverDelete(cmd.replyTo());
        })
        .thenNoReply();
  }

  private void callDriverDelete(ActorRef<StatusReply<SandboxView>> replyTo) {
    CompletionStage<?> call = dependencies.driver()
        .deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId(sandboxId).build())
        .toCompletableFuture()
        .orTimeout(dependencies.settings().driverCallTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    driverCallsInFlight++;
    context.pipeToSelf(call, (ok, failure) -> new DriverDeleteFinished(
        failure == null ? null : describe(failure), replyTo));
  }

  private ReplyEffect<Event, State> onDriverDeleteFinished(State state, DriverDeleteFinished result) {
    driverCallFinished(state);
    if (result.error() != null) {
      context.getLog().warn("driver failed to delete sandbox_id={}: {}", sandboxId, result.error());
      if (result.replyTo() == null) return Effect().noReply();
      return Effect().reply(result.replyTo(), StatusReply.error(new SandboxProblem(Status.Code.INTERNAL,
          "the compute driver failed to delete sandbox '" + state.name() + "': " + result.error() + "; retry the delete")));
    }
    return removed(state, "deleted", result.replyTo());
  }

  private ReplyEffect<Event, State> onDriverDeleted(State state, DriverDeleted cmd) {
    if (!state.deleting()) {
      context.getLog().warn("driver reports sandbox_id={} gone without a delete; keeping the record", sandboxId);
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    return Effect().persist(new SandboxRemoved(System.currentTimeMillis(), "deleted"))
        .thenRun(this::publishAndReleaseName)
        .thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, State> removed(State state, String reason, ActorRef<StatusReply<SandboxView>> replyTo) {
    var effect = Effect().persist(new SandboxRemoved(System.currentTimeMillis(), reason)).thenRun(this::publishAndReleaseName);
    return replyTo == null ? effect.thenNoReply() : effect.thenReply(replyTo, s -> StatusReply.success(view(s)));
  }

  // --- driver observations and reconcile ------------------------------------------------------

  private ReplyEffect<Event, State> onDriverObserved(State state, DriverObserved cmd) {
    if (cmd.observation().equals(state.driver())) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    return Effect().persist(new DriverStatusObserved(cmd.observation()))
        .thenRun(this::publish)
        .thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, State> onReconcile(State state, Reconcile cmd) {
    if (state.deleting()) {
      callDriverDelete(null);
    } else if (state.supervisorCredential() == null) {
      // Created before supervisor credentials existed: its supervisor starts again with a new one.
      return Effect().persist(new SupervisorCredentialMinted(SupervisorCredential.mint()))
          .thenRun(minted -> {
            context.getLog().info("supervisor credential minted for sandbox_id={} (recovered without one)", sandboxId);
            callDriverCreate(minted, null);
          })
          .thenReply(cmd.replyTo(), s -> Done.getInstance());
    } else {
      callDriverCreate(state, null);
    }
    return Effect().reply(cmd.replyTo(), Done.getInstance());
  }

  // --- supervisor sessions --------------------------------------------------------------------

  private ReplyEffect<Event, State> onSupervisorConnected(State state, SupervisorConnected cmd) {
    SandboxProblem refused = credentialRefusal(state, cmd.credentialDigest());
    // The session logs the rejection (one line per event); nothing changes here.
    if (refused != null) return Effect().reply(cmd.replyTo(), StatusReply.error(refused));
    if (live != null && !live.sessionId().equals(cmd.sessionId())) {
      context.getLog().info("supervisor session superseded sandbox_id={} session_id={} by session_id={}",
          sandboxId, live.sessionId(), cmd.sessionId());
      context.unwatch(live.ref());
      live.ref().tell(new SupervisorSession.Superseded(cmd.sessionId()));
    }
    live = new LiveSession(cmd.sessionId(), cmd.session());
    context.watchWith(cmd.session(), new SessionTerminated(cmd.sessionId()));
    // Relays waiting for a session, or sent to a superseded one, go to the new session at once.
    relays.forEach((channelId, relay) -> sendRelay(channelId, relay));
    context.getLog().info("supervisor session connected sandbox_id={} session_id={}", sandboxId, cmd.sessionId());
    Accepted accepted = new Accepted(sandboxId, state.name(), context.getSelf());
    return Effect().persist(new SupervisorSessionConnected(cmd.sessionId(), System.currentTimeMillis()))
        .thenRun(this::publish)
        .thenReply(cmd.replyTo(), s -> StatusReply.success(accepted));
  }

  private ReplyEffect<Event, State> onSessionGone(State state, String sessionId, String why) {
    if (live == null || !live.sessionId().equals(sessionId)) {
      // A superseded session's late cleanup: it never evicts the newer one.
      return Effect().noReply();
    }
    context.unwatch(live.ref());
    live = null;
    context.getLog().info("supervisor session disconnected sandbox_id={} session_id={} ({})", sandboxId, sessionId, why);
    return Effect().persist(new SupervisorSessionDisconnected(sessionId, System.currentTimeMillis()))
        .thenRun(this::publish)
        .thenNoReply();
  }

  private void closeLiveSession(String reason) {
    if (live == null) return;
    context.unwatch(live.ref());
    live.ref().tell(new SupervisorSession.Close(reason));
  }

  // --- relays (transient: a relay never outlives this incarnation of the actor) -----------------

  private ReplyEffect<Event, State> onOpenRelay(State state, OpenRelay cmd) {
    if (state.deleting()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(new SandboxProblem(Status.Code.UNAVAILABLE,
          "sandbox '" + state.name() + "' is being deleted")));
    }
    int cap = dependencies.relays().maxPendingPerSandbox();
    if (relays.size() >= cap) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(new SandboxProblem(Status.Code.RESOURCE_EXHAUSTED,
          "per-sandbox relay limit reached (" + cap + " in flight for " + sandboxId + ")")));
    }
    PendingRelay relay = new PendingRelay(cmd.replyTo());
    relays.put(cmd.channelId(), relay);
    if (live != null) {
      sendRelay(cmd.channelId(), relay);
    } else {
      timers.startSingleTimer(cmd.channelId(), new RelayDeadline(cmd.channelId()), cmd.sessionWait());
    }
    return Effect().noReply();
  }

  private void sendRelay(String channelId, PendingRelay relay) {
    relay.sentTo = live.sessionId();
    live.ref().tell(new SupervisorSession.OpenRelay(channelId, sandboxId, context.getSelf()));
    // The Relay actor reports its own claim timeout; this backstop covers a session that vanishes.
    timers.startSingleTimer(channelId, new RelayDeadline(channelId),
        dependencies.relays().claimTimeout().plus(Duration.ofSeconds(2)));
  }

  private ReplyEffect<Event, State> onRelayClaimed(State state, RelayClaimed cmd) {
    PendingRelay relay = relays.remove(cmd.channelId());
    if (relay == null) return Effect().reply(cmd.accepted(), false);
    timers.cancel(cmd.channelId());
    relay.replyTo.tell(StatusReply.success(cmd.connection()));
    return Effect().reply(cmd.accepted(), true);
  }

  private void failRelay(String channelId, Status.Code code, String message) {
    PendingRelay relay = relays.remove(channelId);
    if (relay == null) return;
    timers.cancel(channelId);
    relay.replyTo.tell(StatusReply.error(new SandboxProblem(code, message)));
  }

  // --- supervisor credential ------------------------------------------------------------------

  /** Null when the presented digest is this sandbox's credential (or credentials are not required). */
  private SandboxProblem credentialRefusal(State state, byte[] presentedDigest) {
    if (!dependencies.settings().requireSupervisorCredential()) return null;
    if (presentedDigest == null) {
      return new SandboxProblem(Status.Code.UNAUTHENTICATED, "no sandbox credential: send the credential the compute driver "
          + "gave this sandbox's supervisor in the " + SupervisorCredential.METADATA_KEY + " metadata");
    }
    if (!SupervisorCredential.matches(presentedDigest, expectedDigest(state))) {
      return new SandboxProblem(Status.Code.PERMISSION_DENIED,
          "the presented sandbox credential is not sandbox " + sandboxId + "'s: a supervisor may only speak for its own sandbox");
    }
    return null;
  }

  private byte[] expectedDigest(State state) {
    if (state.supervisorCredential() == null) return null;
    if (!state.supervisorCredential().equals(digestOf)) {
      digestOf = state.supervisorCredential();
      digest = SupervisorCredential.digest(digestOf);
    }
    return digest;
  }

  // --- helpers --------------------------------------------------------------------------------

  private SandboxView view(State state) {
    return state.view(live != null && live.sessionId().equals(state.sessionId()));
  }

  private void publish(State state) {
    dependencies.views().tell(Topic.publish(view(state)));
  }

  private void publishAndReleaseName(State state) {
    publish(state);
    context.getLog().info("sandbox removed sandbox_id={} name={}", sandboxId, state.name());
    dependencies.names().release(state.name(), sandboxId);
    // A session that connected while it was being deleted ends with it.
    closeLiveSession("sandbox deleted");
    live = null;
    passivateWhenDriverIdle();
  }

  /** Nothing is left to hold in memory: late messages recover the removed state and are answered. */
  private void passivateWhenDriverIdle() {
    if (driverCallsInFlight == 0) passivate();
  }

  private ReplyEffect<Event, State> onStop(State state, Stop stop) {
    if (driverCallsInFlight == 0) return Effect().stop().thenNoReply();
    stopWhenDriverIdle = true;
    return Effect().noReply();
  }

  private void driverCallFinished(State state) {
    driverCallsInFlight = Math.max(0, driverCallsInFlight - 1);
    // Processed after the command that finished the call, so its reply has gone out first.
    if (stopWhenDriverIdle && driverCallsInFlight == 0) context.getSelf().tell(Stop.INSTANCE);
    if (state.removed()) passivateWhenDriverIdle();
  }

  private ReplyEffect<Event, State> replyIfAsked(ActorRef<StatusReply<SandboxView>> replyTo, StatusReply<SandboxView> reply) {
    return replyTo == null ? Effect().noReply() : Effect().reply(replyTo, reply);
  }

  private void passivate() {
    if (shard != null) shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  private static StatusReply<SandboxView> notFound() {
    return StatusReply.error(new SandboxProblem(Status.Code.NOT_FOUND, "sandbox not found"));
  }

  private static String describe(Throwable failure) {
    Status status = Status.fromThrowable(failure);
    return status.getDescription() != null ? status.getDescription() : String.valueOf(failure.getMessage());
  }
}
