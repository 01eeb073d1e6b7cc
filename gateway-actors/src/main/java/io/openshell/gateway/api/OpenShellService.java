package io.openshell.gateway.api;

import io.grpc.Status;
import io.openshell.gateway.logs.LogFilter;
import io.openshell.gateway.logs.LogSettings;
import io.openshell.gateway.logs.SandboxLogs;
import io.openshell.gateway.sandbox.NameGenerator;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxCatalog;
import io.openshell.gateway.sandbox.SandboxNames;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.gateway.sandbox.SandboxSettings;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.gateway.exec.ExecRequestValidation;
import io.openshell.gateway.exec.ExecRunner;
import io.openshell.gateway.exec.ShellCommand;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.relay.RelayDirectory;
import io.openshell.gateway.relay.Relays;
import io.openshell.gateway.relay.RelaySettings;
import io.openshell.gateway.relay.RelayStreamHandler;
import io.openshell.gateway.session.SessionSettings;
import io.openshell.gateway.session.SupervisorSession;
import io.openshell.gateway.ssh.SshGatewayEndpoint;
import io.openshell.gateway.ssh.SshSession;
import io.openshell.gateway.ssh.SshSessionContract;
import io.openshell.gateway.ssh.SshSessions;
import io.openshell.protocol.v1.*;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The {@code openshell.v1.OpenShell} service: a thin adapter from wire messages to actor commands and
 * back. Validation that needs no state happens here; everything else is decided by the actors.
 */
public final class OpenShellService implements OpenShellPowerApi {

  static final String VERSION = Optional.ofNullable(OpenShellService.class.getPackage().getImplementationVersion()).orElse("0.1.0-dev");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
  private static final int GENERATED_NAME_ATTEMPTS = 20;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final ActorRef<SandboxCatalog.Command> catalog;
  private final ActorRef<Topic.Command<SandboxView>> views;
  private final SandboxSettings sandboxSettings;
  private final SessionSettings sessionSettings;
  private final ActorRef<RelayDirectory.Command> relayDirectory;
  private final RelaySettings relaySettings;
  private final RelayStreamHandler relayStreams;
  private final Relays relays;
  private final ExecRunner exec;
  private final ActorRef<SshSessions.Command> sshSessions;
  private final SshGatewayEndpoint sshEndpoint;
  private final NameGenerator names = new NameGenerator(new SecureRandom());
  private final SandboxLogsApi logs;

  public OpenShellService(ActorSystem<?> system, ActorRef<SandboxCatalog.Command> catalog,
      ActorRef<Topic.Command<SandboxView>> views, SandboxSettings sandboxSettings, SessionSettings sessionSettings,
      ActorRef<RelayDirectory.Command> relayDirectory, RelaySettings relaySettings, Relays relays, ExecRunner exec,
      ActorRef<SshSessions.Command> sshSessions, SshGatewayEndpoint sshEndpoint, ActorRef<SandboxLogs.Command> logs,
      LogSettings logSettings) {
    this.system = system;
    this.logs = new SandboxLogsApi(system, logs, logSettings, sandboxSettings);
    this.sharding = ClusterSharding.get(system);
    this.catalog = catalog;
    this.views = views;
    this.sandboxSettings = sandboxSettings;
    this.sessionSettings = sessionSettings;
    this.relayDirectory = relayDirectory;
    this.relaySettings = relaySettings;
    this.relayStreams = new RelayStreamHandler(system, relayDirectory, relaySettings.frameSize(),
        sandboxSettings.requireSupervisorCredential());
    this.relays = relays;
    this.exec = exec;
    this.sshSessions = sshSessions;
    this.sshEndpoint = sshEndpoint;
  }

  @Override
  public CompletionStage<HealthResponse> health(HealthRequest in, Metadata metadata) {
    return CompletableFuture.completedFuture(HealthResponse.newBuilder()
        .setStatus(ServiceStatus.SERVICE_STATUS_HEALTHY).setVersion(VERSION).build());
  }

  // --- sandboxes ------------------------------------------------------------------------------

  @Override
  public CompletionStage<SandboxResponse> createSandbox(CreateSandboxRequest in, Metadata metadata) {
    if (!in.hasSpec()) return failed(Status.Code.INVALID_ARGUMENT, "spec is required");
    String requested = in.getName().trim();
    if (!requested.isEmpty() && !NAME.matcher(requested).matches()) return invalidName(requested);
    String id = UUID.randomUUID().toString();
    CompletionStage<String> claimed = requested.isEmpty()
        ? claimGeneratedName(id, GENERATED_NAME_ATTEMPTS)
        : claim(requested, id).handle((done, failure) -> {
            if (failure == null) return requested;
            if (unwrap(failure) instanceof SandboxProblem p && p.code() == Status.Code.ALREADY_EXISTS) {
              throw new SandboxProblem(Status.Code.ALREADY_EXISTS, "sandbox '" + requested + "' already exists");
            }
            throw rethrow(failure);
          });
    byte[] spec = in.getSpec().toByteArray();
    return mapped(claimed.thenCompose(name -> sharding.entityRefFor(Sandbox.ENTITY_KEY, id)
            .<SandboxView>askWithStatus(replyTo -> new Sandbox.Create(name, spec, replyTo), sandboxSettings.driverCallTimeout().plus(sandboxSettings.askTimeout())))
        .thenApply(view -> SandboxResponse.newBuilder().setSandbox(ProtoMapping.toProto(view)).build()));
  }

  private CompletionStage<Done> claim(String name, String id) {
    return sharding.entityRefFor(SandboxNames.ENTITY_KEY, name)
        .askWithStatus(replyTo -> new SandboxNames.Claim(id, replyTo), sandboxSettings.askTimeout());
  }

  private CompletionStage<String> claimGeneratedName(String id, int attemptsLeft) {
    String name = names.next();
    return claim(name, id).handle((done, failure) -> {
      if (failure == null) return CompletableFuture.completedFuture(name);
      if (attemptsLeft > 1 && unwrap(failure) instanceof SandboxProblem) return claimGeneratedName(id, attemptsLeft - 1);
      CompletableFuture<String> failedClaim = new CompletableFuture<>();
      failedClaim.completeExceptionally(unwrap(failure) instanceof SandboxProblem
          ? new SandboxProblem(Status.Code.RESOURCE_EXHAUSTED, "could not find a free generated name; pass --name")
          : failure);
      return failedClaim;
    }).thenCompose(stage -> stage);
  }

  /** The name shown back is cut and stripped of control characters: it may be up to a megabyte of anything. */
  private static <T> CompletionStage<T> invalidName(String name) {
    String shown = name.length() > 64 ? name.substring(0, 64) + "…" : name;
    return failed(Status.Code.INVALID_ARGUMENT, "invalid sandbox name '" + shown.replaceAll("\\p{Cntrl}", "?")
        + "': use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }

  @Override
  public CompletionStage<SandboxResponse> getSandbox(GetSandboxRequest in, Metadata metadata) {
    if (in.getName().isEmpty()) return failed(Status.Code.INVALID_ARGUMENT, "name is required");
    // No sandbox can have such a name; refusing it here keeps junk from becoming a name entity.
    if (!NAME.matcher(in.getName()).matches()) return invalidName(in.getName());
    return mapped(byName(in.getName(), Sandbox.Get::new)
        .thenApply(view -> SandboxResponse.newBuilder().setSandbox(ProtoMapping.toProto(view)).build()));
  }

  @Override
  public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in, Metadata metadata) {
    // uint32 fields arrive as Java ints: 2^32-1 reads as -1 unless taken unsigned.
    long requested = Integer.toUnsignedLong(in.getLimit());
    int limit = requested == 0 ? sandboxSettings.listDefaultLimit() : (int) Math.min(requested, sandboxSettings.listMaxLimit());
    int offset = (int) Math.min(Integer.toUnsignedLong(in.getOffset()), Integer.MAX_VALUE);
    return mapped(AskPattern.<SandboxCatalog.Command, SandboxCatalog.Page>ask(catalog,
            replyTo -> new SandboxCatalog.List_(limit, offset, replyTo), sandboxSettings.askTimeout(), system.scheduler())
        .thenApply(page -> ListSandboxesResponse.newBuilder()
            .addAllSandboxes(page.sandboxes().stream().map(ProtoMapping::toProto).toList()).build()));
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in, Metadata metadata) {
    if (in.getName().isEmpty()) return failed(Status.Code.INVALID_ARGUMENT, "name is required");
    if (!NAME.matcher(in.getName()).matches()) return invalidName(in.getName());
    return mapped(byName(in.getName(), Sandbox.Delete::new)
        .thenApply(view -> DeleteSandboxResponse.newBuilder().setDeleted(true).build()));
  }

  private CompletionStage<SandboxView> byName(String name,
      java.util.function.Function<ActorRef<StatusReply<SandboxView>>, Sandbox.Command> command) {
    return sharding.entityRefFor(SandboxNames.ENTITY_KEY, name)
        .<SandboxNames.Owner>ask(SandboxNames.Lookup::new, sandboxSettings.askTimeout())
        .thenCompose(owner -> {
          if (!owner.exists()) throw new SandboxProblem(Status.Code.NOT_FOUND, "sandbox '" + name + "' not found");
          return sharding.entityRefFor(Sandbox.ENTITY_KEY, owner.sandboxId())
              .<SandboxView>askWithStatus(command::apply, sandboxSettings.driverCallTimeout().plus(sandboxSettings.askTimeout()));
        });
  }

  @Override
  public Source<SandboxStreamEvent, NotUsed> watchSandbox(WatchSandboxRequest in, Metadata metadata) {
    String id = in.getId();
    if (id.isEmpty()) return Source.failed(GrpcErrors.of(Status.Code.INVALID_ARGUMENT, "id is required"));
    LogFilter.Parsed filter = LogFilter.parse(in.getLogSourcesList(), in.getLogMinLevel(), in.getLogSinceMs());
    if (filter instanceof LogFilter.Invalid invalid) {
      return Source.failed(GrpcErrors.of(Status.Code.INVALID_ARGUMENT, invalid.message()));
    }
    // Without any follow_* flag the watch follows status, as it did before logs and events existed.
    boolean followStatus = in.getFollowStatus() || (!in.getFollowLogs() && !in.getFollowEvents());
    // Subscribe before reading the snapshot so no change between the two is missed; views are whole
    // snapshots, so when a slow watcher's buffer fills, dropping the oldest loses nothing.
    Pair<ActorRef<SandboxView>, Source<SandboxView, NotUsed>> live = ActorSource.<SandboxView>actorRef(
            view -> false, view -> Optional.empty(), 64, OverflowStrategy.dropHead())
        .preMaterialize(system);
    views.tell(Topic.subscribe(live.first()));
    CompletionStage<SandboxView> snapshot = sharding.entityRefFor(Sandbox.ENTITY_KEY, id)
        .askWithStatus(Sandbox.Get::new, sandboxSettings.askTimeout());
    Source<SandboxView, NotUsed> updates = Source.completionStage(snapshot)
        .concat(live.second().filter(view -> view.id().equals(id)))
        .statefulMap(() -> -1L,
            (lastRevision, view) -> view.revision() > lastRevision
                ? Pair.create(view.revision(), Optional.of(view))
                : Pair.create(lastRevision, Optional.<SandboxView>empty()),
            lastRevision -> Optional.empty())
        .mapConcat(view -> view.map(java.util.List::of).orElse(java.util.List.of()))
        .takeWhile(view -> !view.removed(), true);
    if (in.getStopOnTerminal()) updates = updates.takeWhile(view -> !view.phase().isTerminal(), true);
    // The snapshot always comes first; later status changes only when following status. The status
    // side also ends the whole watch (stop_on_terminal, or the sandbox removed).
    Source<SandboxStreamEvent, NotUsed> status = updates.zipWithIndex()
        .filter(indexed -> followStatus || indexed.second() == 0)
        .map(indexed -> SandboxStreamEvent.newBuilder().setSandbox(ProtoMapping.toProto(indexed.first())).build());
    if (in.getFollowLogs() || in.getFollowEvents()) {
      status = status.merge(logs.follow(in, ((LogFilter.Valid) filter).filter()), true);
    }
    return status
        .mapError(grpcErrors())
        .watchTermination((notUsed, done) -> {
          done.whenComplete((ok, failure) -> views.tell(Topic.unsubscribe(live.first())));
          return NotUsed.getInstance();
        });
  }

  // --- supervisor sessions --------------------------------------------------------------------

  @Override
  public Source<GatewayMessage, NotUsed> connectSupervisor(Source<SupervisorMessage, NotUsed> in, Metadata metadata) {
    var outbound = Source.<GatewayMessage>queue(sessionSettings.outboundQueueSize()).preMaterialize(system);
    ActorRef<SupervisorSession.Command> session = system.systemActorOf(
        SupervisorSession.create(sessionSettings, outbound.first(), relayDirectory, relaySettings,
            SupervisorCredential.digest(metadata.getText(SupervisorCredential.METADATA_KEY).orElse(null))),
        "supervisor-session-" + UUID.randomUUID(), Props.empty());
    in.runWith(ActorSink.<SupervisorMessage, SupervisorSession.Command, SupervisorSession.Ack>actorRefWithBackpressure(session,
        (ackTo, message) -> new SupervisorSession.Inbound(message, ackTo),
        SupervisorSession.StreamInit::new,
        SupervisorSession.Ack.INSTANCE,
        SupervisorSession.StreamCompleted.INSTANCE,
        SupervisorSession.StreamFailed::new), system);
    return outbound.second();
  }

  @Override
  public Source<RelayFrame, NotUsed> relayStream(Source<RelayFrame, NotUsed> in, Metadata metadata) {
    return relayStreams.serve(in, metadata.getText(SupervisorCredential.METADATA_KEY)).mapError(grpcErrors());
  }

  // --- exec -----------------------------------------------------------------------------------

  @Override
  public Source<ExecSandboxEvent, NotUsed> execSandbox(ExecSandboxRequest in, Metadata metadata) {
    Optional<SandboxProblem> invalid = ExecRequestValidation.check(in, exec.settings().limits());
    if (invalid.isPresent()) return Source.failed(GrpcErrors.toGrpc(invalid.get()));
    if (in.getStdin().size() > exec.settings().maxStdinBytes()) {
      return Source.failed(GrpcErrors.of(Status.Code.INVALID_ARGUMENT, "stdin is " + in.getStdin().size()
          + " bytes; at most " + exec.settings().maxStdinBytes() + " are allowed (stream larger input with upload)"));
    }
    String command = ShellCommand.assemble(in.getCommandList(), in.getEnvironmentMap(), in.getWorkdir());
    long requestedAt = System.nanoTime();
    var sandbox = sharding.entityRefFor(Sandbox.ENTITY_KEY, in.getSandboxId());
    CompletableFuture<Relays.Opening> opening = new CompletableFuture<>();
    CompletionStage<RelayConnection> relay = sandbox.<SandboxView>askWithStatus(Sandbox.Get::new, sandboxSettings.askTimeout())
        .thenCompose(view -> {
          if (view.phase() != io.openshell.gateway.sandbox.Phase.READY) {
            throw new SandboxProblem(Status.Code.FAILED_PRECONDITION, "sandbox is not ready");
          }
          Relays.Opening open = relays.open(in.getSandboxId(), relaySettings.execSessionWait());
          opening.complete(open);
          return open.connection().handle((connection, failure) -> {
            if (failure == null) return connection;
            throw new SandboxProblem(Status.Code.UNAVAILABLE, "supervisor relay failed: " + unwrap(failure).getMessage());
          });
        });
    return Source.completionStage(relay)
        .flatMapConcat(connection -> exec.run(in.getSandboxId(), connection, command, in.getStdin().toByteArray(),
            in.getTty(), in.getTimeoutSeconds(), requestedAt))
        .watchTermination((notUsed, done) -> {
          // A client that leaves before the relay is claimed must not leave the sandbox waiting for it.
          done.whenComplete((ok, failure) -> opening.thenAccept(open -> {
            if (!open.connection().toCompletableFuture().isDone()) open.abandon().run();
          }));
          return notUsed;
        })
        .mapError(grpcErrors());
  }

  private static scala.PartialFunction<Throwable, Throwable> grpcErrors() {
    return new org.apache.pekko.japi.pf.PFBuilder<Throwable, Throwable>().matchAny(GrpcErrors::toGrpc).build();
  }

  // --- SSH sessions ---------------------------------------------------------------------------

  @Override
  public CompletionStage<CreateSshSessionResponse> createSshSession(CreateSshSessionRequest in, Metadata metadata) {
    String sandboxId = in.getSandboxId();
    if (sandboxId.isEmpty()) return failed(Status.Code.INVALID_ARGUMENT, "sandbox_id is required");
    return mapped(sharding.entityRefFor(Sandbox.ENTITY_KEY, sandboxId)
        .<SandboxView>askWithStatus(Sandbox.Get::new, sandboxSettings.askTimeout())
        .thenCompose(view -> {
          if (view.phase() != io.openshell.gateway.sandbox.Phase.READY) {
            throw new SandboxProblem(Status.Code.FAILED_PRECONDITION, "sandbox is not ready");
          }
          return AskPattern.<SshSessions.Command, SshSession>ask(sshSessions,
              replyTo -> new SshSessions.Create(sandboxId, view.name(), replyTo), sandboxSettings.askTimeout(), system.scheduler());
        })
        .thenApply(this::toResponse));
  }

  private CreateSshSessionResponse toResponse(SshSession session) {
    java.util.List<String> violations = SshSessionContract.violations(session.sandboxId(), session.token(),
        sshEndpoint.host(), sshEndpoint.port(), sshEndpoint.scheme(), sshEndpoint.connectPath());
    if (!violations.isEmpty()) {
      // Clients must refuse such a response, so never send one: the gateway's settings need fixing.
      throw new SandboxProblem(Status.Code.INTERNAL, "the gateway's SSH tunnel settings break the response contract: "
          + String.join("; ", violations));
    }
    return CreateSshSessionResponse.newBuilder()
        .setSandboxId(session.sandboxId())
        .setToken(session.token())
        .setGatewayHost(sshEndpoint.host())
        .setGatewayPort(sshEndpoint.port())
        .setGatewayScheme(sshEndpoint.scheme())
        .setConnectPath(sshEndpoint.connectPath())
        .setExpiresAtMs(session.expiresAtMs())
        .build();
  }

  @Override
  public CompletionStage<RevokeSshSessionResponse> revokeSshSession(RevokeSshSessionRequest in, Metadata metadata) {
    if (in.getToken().isEmpty()) return failed(Status.Code.INVALID_ARGUMENT, "token is required");
    return mapped(AskPattern.<SshSessions.Command, SshSessions.Revoked>ask(sshSessions,
            replyTo -> new SshSessions.Revoke(in.getToken(), replyTo), sandboxSettings.askTimeout(), system.scheduler())
        .thenApply(revoked -> RevokeSshSessionResponse.newBuilder().setRevoked(revoked.revoked()).build()));
  }

  // --- logs -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<GetSandboxLogsResponse> getSandboxLogs(GetSandboxLogsRequest in, Metadata metadata) {
    return mapped(logs.get(in));
  }

  @Override
  public CompletionStage<PushSandboxLogsResponse> pushSandboxLogs(Source<PushSandboxLogsRequest, NotUsed> in, Metadata metadata) {
    return mapped(logs.push(in, metadata.getText(SupervisorCredential.METADATA_KEY)));
  }

  // --- helpers --------------------------------------------------------------------------------

  private static <T> CompletionStage<T> failed(Status.Code code, String message) {
    return CompletableFuture.failedFuture(GrpcErrors.of(code, message));
  }

  private static <T> CompletionStage<T> mapped(CompletionStage<T> stage) {
    return stage.handle((value, failure) -> {
      if (failure != null) throw rethrow(GrpcErrors.toGrpc(failure));
      return value;
    });
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) cause = cause.getCause();
    return cause;
  }

  private static RuntimeException rethrow(Throwable failure) {
    Throwable cause = unwrap(failure);
    return cause instanceof RuntimeException runtime ? runtime : new java.util.concurrent.CompletionException(cause);
  }
}
