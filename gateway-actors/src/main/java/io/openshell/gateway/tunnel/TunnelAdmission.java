package io.openshell.gateway.tunnel;

import io.grpc.Status;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.relay.Relays;
import io.openshell.gateway.sandbox.Phase;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.ssh.SshSessions;
import io.openshell.gateway.ssh.TokenRedaction;
import io.openshell.gateway.ssh.TokenVerdict;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether one tunnel request gets a relay, in upstream's order (UPSTREAM §B 36–39): token
 * (401), sandbox exists (404) and is READY (412), connection caps (429, checked before any relay
 * opens), relay open (502). Shared by the CONNECT listener and the WebSocket route.
 *
 * <p>Each request is an {@link Attempt}. Whatever happens, its lease is released exactly once, after
 * the connection ended: the release is tied to the lease request itself (sent only once its answer is
 * in or its ask timed out, so it can never overtake the acquire), and the leases actor ignores a lease
 * it does not hold. A client that leaves early abandons a relay still opening and closes one that
 * arrives too late.
 */
public final class TunnelAdmission {
  private static final Logger log = LoggerFactory.getLogger(TunnelAdmission.class);

  /** What admission asks of the rest of the gateway; tests substitute it. */
  public interface Backend {
    CompletionStage<TokenVerdict> checkToken(String token, String sandboxId);

    /** The sandbox's phase, or empty when there is no such sandbox. */
    CompletionStage<Optional<Phase>> sandboxPhase(String sandboxId);

    Relays.Opening openRelay(String sandboxId);
  }

  /** The client left before its tunnel started: nothing to answer. */
  static final class ClientGone extends RuntimeException {
    ClientGone() {
      super("the client left before the tunnel started", null, false, false);
    }
  }

  private final ActorSystem<?> system;
  private final Backend backend;
  private final ActorRef<TunnelLeases.Command> leases;
  private final TunnelSettings settings;
  private final Duration askTimeout;

  public TunnelAdmission(ActorSystem<?> system, Backend backend, ActorRef<TunnelLeases.Command> leases,
      TunnelSettings settings, Duration askTimeout) {
    this.system = system;
    this.backend = backend;
    this.leases = leases;
    this.settings = settings;
    this.askTimeout = askTimeout;
  }

  /** The gateway's own backend: the SSH session singleton, the sandbox entities and the relay plane. */
  private static final Duration CLUSTER_ATTEMPT = Duration.ofSeconds(5);

  public static Backend clusterBackend(ActorSystem<?> system, ActorRef<SshSessions.Command> sessions, Relays relays,
      Duration askTimeout) {
    ClusterSharding sharding = ClusterSharding.get(system);
    // In a cluster a question sent while the SSH-session singleton or a shard moves off a lost node goes
    // to the dead node and is never answered: ask in short attempts, again, within the same patience.
    Duration attempt = askTimeout.compareTo(CLUSTER_ATTEMPT) < 0 ? askTimeout : CLUSTER_ATTEMPT;
    int attempts = (int) Math.max(1, askTimeout.toMillis() / attempt.toMillis());
    java.util.function.BiPredicate<Object, Throwable> unanswered =
        (answer, failure) -> failure != null && cause(failure) instanceof java.util.concurrent.TimeoutException;
    return new Backend() {
      @Override
      public CompletionStage<TokenVerdict> checkToken(String token, String sandboxId) {
        return org.apache.pekko.pattern.Patterns.retry(() -> AskPattern.<SshSessions.Command, TokenVerdict>ask(sessions,
                replyTo -> new SshSessions.Check(token, sandboxId, replyTo), attempt, system.scheduler()),
            unanswered::test, attempts, Duration.ZERO, system);
      }

      @Override
      public CompletionStage<Optional<Phase>> sandboxPhase(String sandboxId) {
        return org.apache.pekko.pattern.Patterns.retry(() -> sharding.entityRefFor(Sandbox.ENTITY_KEY, sandboxId)
                .<SandboxView>askWithStatus(Sandbox.Get::new, attempt), unanswered::test, attempts, Duration.ZERO, system)
            .handle((view, failure) -> {
              if (failure == null) return Optional.of(view.phase());
              if (cause(failure) instanceof SandboxProblem p && p.code() == Status.Code.NOT_FOUND) return Optional.empty();
              throw new CompletionException(cause(failure));
            });
      }

      @Override
      public Relays.Opening openRelay(String sandboxId) {
        return relays.open(sandboxId, relays.settings().sshSessionWait());
      }
    };
  }

  public TunnelSettings settings() {
    return settings;
  }

  /** Starts deciding at once; the transport must call {@link Attempt#ended} when its connection ends. */
  public Attempt begin(ConnectRequest request, String transport) {
    return new Attempt(request, transport);
  }

  /** One tunnel request, from its parsed head to the end of its connection. */
  public final class Attempt {
    private final ConnectRequest request;
    private final String transport;
    private final String leaseId = UUID.randomUUID().toString();
    private final CompletableFuture<Done> ended = new CompletableFuture<>();
    private final CompletableFuture<RelayConnection> admitted = new CompletableFuture<>();

    private Attempt(ConnectRequest request, String transport) {
      this.request = request;
      this.transport = transport;
      decide().whenComplete((relay, failure) -> {
        if (failure == null) {
          log.info("ssh tunnel open sandbox_id={} channel_id={} token={} transport={}", request.sandboxId(),
              relay.channelId(), TokenRedaction.redact(request.token()), transport);
          admitted.complete(relay);
          return;
        }
        Throwable cause = cause(failure);
        if (cause instanceof TunnelRefusal refusal) {
          log.info("ssh tunnel refused status={} sandbox_id={} token={} transport={}: {}", refusal.status(),
              request.sandboxId(), TokenRedaction.redact(request.token()), transport, refusal.getMessage());
          admitted.completeExceptionally(refusal);
        } else if (cause instanceof ClientGone gone) {
          admitted.completeExceptionally(gone);
        } else {
          log.warn("ssh tunnel failed sandbox_id={} token={} transport={}", request.sandboxId(),
              TokenRedaction.redact(request.token()), transport, cause);
          admitted.completeExceptionally(cause instanceof TimeoutException
              ? new TunnelRefusal(503, "the gateway did not answer in time; retry")
              : new TunnelRefusal(503, "the gateway failed to open the tunnel; retry"));
        }
      });
      admitted.thenAcceptBoth(ended, (relay, done) -> log.info(
          "ssh tunnel closed sandbox_id={} channel_id={} token={} transport={}", request.sandboxId(),
          relay.channelId(), TokenRedaction.redact(request.token()), transport));
    }

    /** The relay to bridge, or a {@link TunnelRefusal} to answer with, or {@link ClientGone}. */
    public CompletionStage<RelayConnection> admitted() {
      return admitted;
    }

    /** The client connection is over (any way). Idempotent. */
    public void ended() {
      ended.complete(Done.getInstance());
    }

    private CompletionStage<RelayConnection> decide() {
      String sandboxId = request.sandboxId();
      return backend.checkToken(request.token(), sandboxId)
          .thenCompose(verdict -> {
            if (verdict != TokenVerdict.VALID) throw new TunnelRefusal(401, tokenProblem(verdict));
            stillWanted();
            return backend.sandboxPhase(sandboxId);
          })
          .thenCompose(phase -> {
            if (phase.isEmpty()) {
              throw new TunnelRefusal(404, "sandbox " + sandboxId + " not found; check the id or create the sandbox again");
            }
            if (phase.get() != Phase.READY) {
              throw new TunnelRefusal(412, "sandbox is not ready (phase " + phase.get() + "); retry when it is Ready");
            }
            stillWanted();
            return acquireLease();
          })
          .thenCompose(outcome -> {
            if (outcome == TunnelCounters.Outcome.TOKEN_LIMIT) {
              throw new TunnelRefusal(429, "this SSH session already has " + settings.maxConnectionsPerToken()
                  + " open connections (the limit); close one or create another session");
            }
            if (outcome == TunnelCounters.Outcome.SANDBOX_LIMIT) {
              throw new TunnelRefusal(429, "sandbox " + sandboxId + " already has " + settings.maxConnectionsPerSandbox()
                  + " open connections (the limit); close one and retry");
            }
            stillWanted();
            return openRelay(sandboxId);
          })
          .thenApply(relay -> {
            if (ended.isDone()) {
              close(relay);
              throw new ClientGone();
            }
            return relay;
          });
    }

    private CompletionStage<TunnelCounters.Outcome> acquireLease() {
      CompletionStage<TunnelCounters.Outcome> outcome = AskPattern.ask(leases,
          replyTo -> new TunnelLeases.Acquire(leaseId, request.token(), request.sandboxId(), replyTo),
          askTimeout, system.scheduler());
      outcome.whenComplete((granted, failure) -> ended.thenRun(() -> leases.tell(new TunnelLeases.Release(leaseId))));
      return outcome;
    }

    private CompletionStage<RelayConnection> openRelay(String sandboxId) {
      Relays.Opening opening = backend.openRelay(sandboxId);
      ended.thenRun(() -> {
        if (!opening.connection().toCompletableFuture().isDone()) opening.abandon().run();
      });
      return opening.connection().handle((relay, failure) -> {
        if (failure != null) {
          throw new TunnelRefusal(502, "could not reach the sandbox's SSH service: " + cause(failure).getMessage() + "; retry");
        }
        return relay;
      });
    }

    private void stillWanted() {
      if (ended.isDone()) throw new ClientGone();
    }
  }

  private static String tokenProblem(TokenVerdict verdict) {
    return switch (verdict) {
      case EXPIRED -> "the SSH session token has expired; create a new session";
      case REVOKED -> "the SSH session token was revoked; create a new session";
      default -> "the SSH session token is not valid for this sandbox; create a session for it";
    };
  }

  /** Ends a relay no one will use, so the sandbox side closes now rather than after a timeout. */
  private void close(RelayConnection relay) {
    Source.<ByteString>empty().runWith(relay.toSupervisor().getSink(), system);
    relay.fromSupervisor().getSource().runWith(Sink.cancelled(), system);
  }

  static Throwable cause(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) cause = cause.getCause();
    return cause;
  }
}
