package io.openshell.gateway.ssh;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.openshell.gateway.CborSerializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * Every SSH session token of the gateway (cluster), in one event-sourced cluster singleton: creating,
 * revoking, checking a token for a tunnel, dropping a deleted sandbox's sessions and reaping dead
 * ones are all decided by this one actor, in message order. Tokens are looked up by value, which a
 * per-sandbox entity could not do for RevokeSshSession (it carries only the token).
 */
public final class SshSessions
    extends EventSourcedBehaviorWithEnforcedReplies<SshSessions.Command, SshSessions.Event, SshSessions.State> {

  static final PersistenceId PERSISTENCE_ID = PersistenceId.ofUniqueId("SshSessions");

  // --- protocol -------------------------------------------------------------------------------

  public sealed interface Command extends CborSerializable {}

  /** Mint a session for a sandbox the caller has found READY. */
  public record Create(String sandboxId, String sandboxName, ActorRef<SshSession> replyTo) implements Command {}

  public record Revoke(String token, ActorRef<Revoked> replyTo) implements Command {
    @Override
    public String toString() {
      return "Revoke[token=" + TokenRedaction.redact(token) + "]";
    }
  }

  /** {@code revoked} is false when the token is unknown. */
  public record Revoked(boolean revoked) implements CborSerializable {}

  /** May this token open a tunnel to this sandbox now? */
  public record Check(String token, String sandboxId, ActorRef<TokenVerdict> replyTo) implements Command {
    @Override
    public String toString() {
      return "Check[token=" + TokenRedaction.redact(token) + ", sandboxId=" + sandboxId + "]";
    }
  }

  /** The sandbox is being deleted: its sessions go with it (UPSTREAM §B 60). Fire and forget; idempotent. */
  public record DeleteForSandbox(String sandboxId) implements Command {}

  /** How many sessions are stored (live or not yet reaped). */
  public record Count(ActorRef<Integer> replyTo) implements Command {}

  enum Reap implements Command { INSTANCE }

  // --- events ---------------------------------------------------------------------------------

  public sealed interface Event extends CborSerializable {}

  public record SshSessionCreated(SshSession session) implements Event {}

  public record SshSessionRevoked(String token) implements Event {
    @Override
    public String toString() {
      return "SshSessionRevoked[token=" + TokenRedaction.redact(token) + "]";
    }
  }

  public record SandboxSshSessionsDeleted(String sandboxId) implements Event {}

  public record SshSessionsReaped(List<String> tokens) implements Event {
    @Override
    public String toString() {
      return "SshSessionsReaped[" + tokens.size() + " tokens]";
    }
  }

  // --- state ----------------------------------------------------------------------------------

  /**
   * Sessions keyed by {@link #key} of their token, never by the token itself: a map lookup compares
   * keys with {@code String.equals}, which stops at the first differing character, so keyed by the
   * secret its timing would tell a caller how much of a guessed token is right. A digest's prefix tells
   * nothing about the token.
   */
  public record State(Map<String, SshSession> byToken) implements CborSerializable {
    private static final String KEY_PREFIX = "sha256:";

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public State {
      // Snapshots written before sessions were keyed by digest are re-keyed as they load.
      Map<String, SshSession> keyed = new HashMap<>();
      byToken.forEach((key, session) -> keyed.put(key.startsWith(KEY_PREFIX) ? key : key(session.token()), session));
      byToken = Map.copyOf(keyed);
    }

    /** The map key of a token: its SHA-256, base64. */
    public static String key(String token) {
      try {
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
            .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return KEY_PREFIX + java.util.Base64.getEncoder().encodeToString(digest);
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JVM has SHA-256", e);
      }
    }

    /** The session of a presented token, or null. */
    public SshSession find(String token) {
      return byToken.get(key(token));
    }

    static State empty() {
      return new State(Map.of());
    }

    State apply(Event event) {
      Map<String, SshSession> next = new HashMap<>(byToken);
      if (event instanceof SshSessionCreated e) {
        next.put(key(e.session().token()), e.session());
      } else if (event instanceof SshSessionRevoked e) {
        next.computeIfPresent(key(e.token()), (key, session) -> session.asRevoked());
      } else if (event instanceof SandboxSshSessionsDeleted e) {
        next.values().removeIf(session -> session.sandboxId().equals(e.sandboxId()));
      } else if (event instanceof SshSessionsReaped e) {
        e.tokens().forEach(token -> next.remove(key(token)));
      } else {
        throw new IllegalArgumentException("unknown event " + event);
      }
      return new State(next);
    }

    @Override
    public String toString() {
      return "State[" + byToken.size() + " sessions]";
    }
  }

  // --- wiring ---------------------------------------------------------------------------------

  /** Starts (or finds) the singleton and returns its proxy. */
  public static ActorRef<Command> init(ActorSystem<?> system, SshSessionSettings settings) {
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(create(settings, System::currentTimeMillis))
            .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1)),
        "ssh-sessions"));
  }

  public static Behavior<Command> create(SshSessionSettings settings, LongSupplier clock) {
    return create(PERSISTENCE_ID, settings, clock);
  }

  /** With another persistence id, so tests can run several registries on one journal. */
  static Behavior<Command> create(PersistenceId persistenceId, SshSessionSettings settings, LongSupplier clock) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Reap.INSTANCE, settings.reapInterval());
      return new SshSessions(persistenceId, context, settings, clock);
    }));
  }

  private final ActorContext<Command> context;
  private final SshSessionSettings settings;
  private final LongSupplier clock;

  private SshSessions(PersistenceId persistenceId, ActorContext<Command> context, SshSessionSettings settings,
      LongSupplier clock) {
    super(persistenceId, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.context = context;
    this.settings = settings;
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Revoke.class, this::onRevoke)
        .onCommand(Check.class, (state, cmd) -> {
          SshSession session = state.find(cmd.token());
          TokenVerdict verdict = session == null ? TokenVerdict.UNKNOWN : session.verdict(cmd.sandboxId(), clock.getAsLong());
          return Effect().reply(cmd.replyTo(), verdict);
        })
        .onCommand(DeleteForSandbox.class, this::onDeleteForSandbox)
        .onCommand(Count.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state.byToken().size()))
        .onCommand(Reap.class, (state, cmd) -> onReap(state))
        .build();
  }

  private ReplyEffect<Event, State> onCreate(State state, Create cmd) {
    long now = clock.getAsLong();
    String id = UUID.randomUUID().toString();
    SshSession session = new SshSession(id, UUID.randomUUID().toString(), cmd.sandboxId(),
        "ssh-" + cmd.sandboxName() + "-" + id.substring(0, 8), now, settings.expiresAtMs(now), false);
    return Effect().persist(new SshSessionCreated(session))
        .thenRun(s -> context.getLog().info("ssh session created sandbox_id={} token={} expires_at_ms={}",
            session.sandboxId(), TokenRedaction.redact(session.token()), session.expiresAtMs()))
        .thenReply(cmd.replyTo(), s -> session);
  }

  private ReplyEffect<Event, State> onRevoke(State state, Revoke cmd) {
    SshSession session = state.find(cmd.token());
    if (session == null) return Effect().reply(cmd.replyTo(), new Revoked(false));
    if (session.revoked()) return Effect().reply(cmd.replyTo(), new Revoked(true));
    return Effect().persist(new SshSessionRevoked(cmd.token()))
        .thenRun(s -> context.getLog().info("ssh session revoked sandbox_id={} token={}",
            session.sandboxId(), TokenRedaction.redact(session.token())))
        .thenReply(cmd.replyTo(), s -> new Revoked(true));
  }

  private ReplyEffect<Event, State> onDeleteForSandbox(State state, DeleteForSandbox cmd) {
    long held = state.byToken().values().stream().filter(s -> s.sandboxId().equals(cmd.sandboxId())).count();
    if (held == 0) return Effect().noReply();
    return Effect().persist(new SandboxSshSessionsDeleted(cmd.sandboxId()))
        .thenRun(s -> context.getLog().info("ssh sessions deleted with their sandbox sandbox_id={} count={}",
            cmd.sandboxId(), held))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> onReap(State state) {
    long now = clock.getAsLong();
    List<String> dead = state.byToken().values().stream()
        .filter(session -> session.reapable(now))
        .map(SshSession::token)
        .toList();
    if (dead.isEmpty()) return Effect().noReply();
    return Effect().persist(new SshSessionsReaped(dead))
        .thenRun(s -> context.getLog().info("ssh sessions reaped (expired or revoked) count={}", dead.size()))
        .thenNoReply();
  }
}
