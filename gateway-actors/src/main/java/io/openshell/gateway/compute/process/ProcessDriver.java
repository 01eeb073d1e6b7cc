package io.openshell.gateway.compute.process;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.openshell.compute.watch.DriverWatchers;
import io.openshell.protocol.compute.v1.*;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded compute driver: one supervisor process per sandbox on this host, inside bubblewrap
 * when it is installed (said in the status as condition {@code Isolated}), a plain child process
 * otherwise. Never reports Ready=True: the gateway owns readiness.
 */
public final class ProcessDriver implements ComputeDriver {
  private static final Logger log = LoggerFactory.getLogger(ProcessDriver.class);
  private static final Duration ASK = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final ProcessDriverSettings settings;
  private final ActorRef<Registry.Command> registry;
  private final ExecutorService spawner;
  private final boolean isolate;
  private final SupervisorClassData classData;

  private ProcessDriver(ActorSystem<?> system, ProcessDriverSettings settings) {
    this.system = system;
    this.settings = settings;
    this.isolate = switch (settings.isolation()) {
      case NONE -> false;
      case BWRAP -> {
        if (!Bubblewrap.works()) throw new IllegalStateException("isolation=bwrap but bubblewrap is not installed or does not work here");
        yield true;
      }
      case AUTO -> Bubblewrap.works();
    };
    // Parent-death signals follow the thread that forked the child: fork every supervisor from this
    // one thread, which lives as long as the driver (STACK.md).
    this.spawner = Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sandbox-process-spawner");
      thread.setDaemon(true);
      return thread;
    });
    this.registry = system.systemActorOf(Registry.create(this), "process-driver-" + java.util.UUID.randomUUID(), Props.empty());
    log.info("process driver: {}", isolate ? "sandboxes isolated with bubblewrap" : "bubblewrap unavailable, sandboxes run as plain child processes");
    this.classData = SupervisorClassData.forCommand(settings.stateDir().resolve("class-data"), settings.supervisorCommand());
    if (settings.classDataSharing()) classData.prepare(system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  public static ProcessDriver create(ActorSystem<?> system, ProcessDriverSettings settings) {
    return new ProcessDriver(system, settings);
  }

  public boolean isolates() {
    return isolate;
  }

  /** Stops every supervisor (SIGTERM, grace, SIGKILL); the gateway calls it on coordinated shutdown. */
  public CompletionStage<Done> shutdown() {
    return AskPattern.<Registry.Command, Done>ask(registry, Registry.StopAll::new,
            settings.stopGrace().plus(Duration.ofSeconds(10)), system.scheduler())
        .whenComplete((done, failure) -> spawner.shutdown());
  }

  // --- ComputeDriver ----------------------------------------------------------------------------

  @Override
  public CompletionStage<GetCapabilitiesResponse> getCapabilities(GetCapabilitiesRequest in) {
    return CompletableFuture.completedFuture(GetCapabilitiesResponse.newBuilder()
        .setDriverName("process").setDriverVersion("1").setSupportsGpu(false).build());
  }

  @Override
  public CompletionStage<ValidateSandboxCreateResponse> validateSandboxCreate(ValidateSandboxCreateRequest in) {
    return validate(in.getSandbox()).thenApply(ok -> ValidateSandboxCreateResponse.getDefaultInstance());
  }

  private static CompletionStage<Done> validate(DriverSandbox sandbox) {
    if (sandbox.getSpec().getGpu()) {
      return failed(Status.FAILED_PRECONDITION, "the process driver cannot give a sandbox a GPU");
    }
    if (sandbox.getSpec().getTemplate().hasPlatformConfig()
        && sandbox.getSpec().getTemplate().getPlatformConfig().getFieldsCount() > 0) {
      return failed(Status.FAILED_PRECONDITION, "the process driver takes no platform_config");
    }
    if (sandbox.getId().isEmpty()) return failed(Status.INVALID_ARGUMENT, "sandbox id is required");
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  @Override
  public CompletionStage<CreateSandboxResponse> createSandbox(CreateSandboxRequest in) {
    return validate(in.getSandbox()).thenCompose(ok -> AskPattern.<Registry.Command, StatusReply<DriverSandbox>>ask(registry,
            replyTo -> new Registry.Create(in.getSandbox(), replyTo), ASK, system.scheduler()))
        .thenCompose(ProcessDriver::unwrap)
        .thenApply(sandbox -> CreateSandboxResponse.newBuilder().setSandbox(sandbox).build());
  }

  @Override
  public CompletionStage<GetSandboxResponse> getSandbox(GetSandboxRequest in) {
    if (in.getSandboxId().isEmpty() && in.getSandboxName().isEmpty()) {
      return failed(Status.INVALID_ARGUMENT, "sandbox_id or sandbox_name is required");
    }
    return listed().thenCompose(all -> all.stream()
        .filter(s -> in.getSandboxId().isEmpty() ? s.getName().equals(in.getSandboxName()) : s.getId().equals(in.getSandboxId()))
        .findFirst()
        .<CompletionStage<GetSandboxResponse>>map(s -> CompletableFuture.completedFuture(GetSandboxResponse.newBuilder().setSandbox(s).build()))
        .orElseGet(() -> failed(Status.NOT_FOUND, "sandbox not found")));
  }

  @Override
  public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in) {
    return listed().thenApply(all -> ListSandboxesResponse.newBuilder().addAllSandboxes(all).build());
  }

  private CompletionStage<List<DriverSandbox>> listed() {
    return AskPattern.<Registry.Command, List<DriverSandbox>>ask(registry, Registry.List_::new, ASK, system.scheduler());
  }

  @Override
  public CompletionStage<StopSandboxResponse> stopSandbox(StopSandboxRequest in) {
    return failed(Status.UNIMPLEMENTED, "the process driver does not stop sandboxes; delete them");
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    return AskPattern.<Registry.Command, StatusReply<Boolean>>ask(registry,
            replyTo -> new Registry.Delete(in.getSandboxId(), replyTo), settings.stopGrace().plus(ASK), system.scheduler())
        .thenCompose(ProcessDriver::unwrap)
        .thenApply(deleted -> DeleteSandboxResponse.newBuilder().setDeleted(deleted).build());
  }

  @Override
  public Source<WatchSandboxesEvent, NotUsed> watchSandboxes(WatchSandboxesRequest in) {
    // The registry subscribes the watcher and queues its snapshot in one message (DriverWatchers).
    return Source.completionStageSource(AskPattern.<Registry.Command, Source<WatchSandboxesEvent, NotUsed>>ask(registry,
            Registry.Watch::new, ASK, system.scheduler()))
        .mapMaterializedValue(ignored -> NotUsed.getInstance());
  }

  // --- watch events ------------------------------------------------------------------------------

  static WatchSandboxesEvent sandboxEvent(DriverSandbox sandbox) {
    return WatchSandboxesEvent.newBuilder().setSandbox(WatchSandboxesSandboxEvent.newBuilder().setSandbox(sandbox)).build();
  }

  DriverSandbox observed(DriverSandbox sandbox, DriverCondition ready, boolean deleting) {
    DriverSandboxStatus.Builder status = DriverSandboxStatus.newBuilder()
        .setSandboxName(sandbox.getName())
        .setInstanceId("process-" + sandbox.getId().substring(0, Math.min(8, sandbox.getId().length())))
        .setDeleting(deleting)
        .addConditions(ready)
        .addConditions(isolate
            ? condition("Isolated", "True", "Bubblewrap", "bubblewrap: own pid, ipc, uts and mount namespaces; host trees read-only")
            : condition("Isolated", "False", "BubblewrapUnavailable", "bubblewrap not found: sandbox runs as a plain child process"));
    return sandbox.toBuilder().setStatus(status).build();
  }

  static DriverSandbox withoutCredential(DriverSandbox sandbox) {
    return sandbox.toBuilder().setSpec(sandbox.getSpec().toBuilder().clearSupervisorCredential()).build();
  }

  static DriverCondition condition(String type, String status, String reason, String message) {
    return DriverCondition.newBuilder().setType(type).setStatus(status).setReason(reason).setMessage(message)
        .setLastTransitionTime(Instant.now().toString()).build();
  }

  private static <T> CompletionStage<T> unwrap(StatusReply<T> reply) {
    if (reply.isSuccess()) return CompletableFuture.completedFuture(reply.getValue());
    Throwable error = reply.getError();
    if (error instanceof StatusRuntimeException) return CompletableFuture.failedFuture(error);
    return failed(Status.INTERNAL, error.getMessage());
  }

  private static <T> CompletionStage<T> failed(Status status, String message) {
    return CompletableFuture.failedFuture(new StatusRuntimeException(status.withDescription(message)));
  }

  // --- the registry of sandbox process actors ---------------------------------------------------

  static final class Registry {
    interface Command {}

    record Create(DriverSandbox sandbox, ActorRef<StatusReply<DriverSandbox>> replyTo) implements Command {}

    record Delete(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

    record List_(ActorRef<List<DriverSandbox>> replyTo) implements Command {}

    record Watch(ActorRef<Source<WatchSandboxesEvent, NotUsed>> replyTo) implements Command {}

    private record WatchEnded(long watcher) implements Command {}

    /** An event a sandbox's process actor reports, published from here so it is ordered with the registry's own. */
    private record Publish(WatchSandboxesEvent event) implements Command {}

    private static List<DriverSandbox> sortedByName(java.util.Collection<DriverSandbox> sandboxes) {
      List<DriverSandbox> all = new ArrayList<>(sandboxes);
      all.sort(Comparator.comparing(DriverSandbox::getName));
      return all;
    }

    record StopAll(ActorRef<Done> replyTo) implements Command {}

    private record Gone(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

    private record ChildStopped(String sandboxId) implements Command {}

    static Behavior<Command> create(ProcessDriver driver) {
      return Behaviors.setup(context -> {
        Map<String, DriverSandbox> sandboxes = new HashMap<>();
        Map<String, ActorRef<SandboxProcess.Command>> processes = new HashMap<>();
        var blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
        ActorRef<Command> self = context.getSelf();
        DriverWatchers watchers = new DriverWatchers(context.getSystem(), DriverWatchers.BUFFER, id -> self.tell(new WatchEnded(id)));
        // Called from the sandboxes' process actors: everything goes through this actor's mailbox.
        SandboxProcess.Reports reports = new SandboxProcess.Reports() {
          @Override
          public void exitedTerminally(String sandboxId, int status) {
            self.tell(new Publish(WatchSandboxesEvent.newBuilder().setPlatformEvent(WatchSandboxesPlatformEvent.newBuilder()
                .setSandboxId(sandboxId).setEvent(DriverPlatformEvent.newBuilder().setTimestampMs(System.currentTimeMillis())
                    .setSource("process").setType("Warning").setReason("ProcessExited")
                    .setMessage("supervisor process exited with status " + status))).build()));
            self.tell(new ExitReport(sandboxId, status));
          }

          @Override
          public void platformEvent(String sandboxId, DriverPlatformEvent event) {
            self.tell(new Publish(WatchSandboxesEvent.newBuilder().setPlatformEvent(WatchSandboxesPlatformEvent.newBuilder()
                .setSandboxId(sandboxId).setEvent(event)).build()));
          }

          @Override
          public void deleted(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo) {
            self.tell(new Gone(sandboxId, replyTo));
          }
        };
        return Behaviors.receive(Command.class)
            .onMessage(Create.class, create -> {
              DriverSandbox sandbox = create.sandbox();
              if (processes.containsKey(sandbox.getId())) {
                create.replyTo().tell(StatusReply.error(new StatusRuntimeException(Status.ALREADY_EXISTS
                    .withDescription("sandbox " + sandbox.getId() + " already runs"))));
                return Behaviors.same();
              }
              Path sandboxDir = driver.settings.stateDir().resolve("sandboxes").resolve(sandbox.getId());
              LaunchPlan plan = LaunchPlan.of(sandbox, sandboxDir.resolve("workspace"), driver.settings, driver.isolate,
                  driver.classData.archive());
              // The credential goes to the supervisor only: never into watch events, lists or replies.
              DriverSandbox starting = driver.observed(withoutCredential(sandbox),
                  condition("Ready", "False", "Starting", "Supervisor process is starting"), false);
              sandboxes.put(sandbox.getId(), starting);
              ActorRef<SandboxProcess.Command> process = context.spawn(SandboxProcess.create(sandbox.getId(), plan,
                  sandboxDir, driver.settings, driver.spawner, blocking, reports), "sandbox-" + sandbox.getId());
              context.watchWith(process, new ChildStopped(sandbox.getId()));
              processes.put(sandbox.getId(), process);
              watchers.publish(sandboxEvent(starting));
              create.replyTo().tell(StatusReply.success(starting));
              return Behaviors.same();
            })
            .onMessage(ExitReport.class, exit -> {
              DriverSandbox known = sandboxes.get(exit.sandboxId());
              if (known != null) {
                DriverSandbox exited = driver.observed(known, condition("Ready", "False", "ProcessExited",
                    "supervisor process exited with status " + exit.status()), false);
                sandboxes.put(exit.sandboxId(), exited);
                watchers.publish(sandboxEvent(exited));
              }
              return Behaviors.same();
            })
            .onMessage(Delete.class, delete -> {
              ActorRef<SandboxProcess.Command> process = processes.get(delete.sandboxId());
              DriverSandbox known = sandboxes.get(delete.sandboxId());
              if (process == null || known == null) {
                delete.replyTo().tell(StatusReply.success(false));
                return Behaviors.same();
              }
              DriverSandbox deleting = known.toBuilder().setStatus(known.getStatus().toBuilder().setDeleting(true)).build();
              sandboxes.put(delete.sandboxId(), deleting);
              watchers.publish(sandboxEvent(deleting));
              process.tell(new SandboxProcess.Delete(delete.replyTo()));
              return Behaviors.same();
            })
            .onMessage(Gone.class, gone -> {
              sandboxes.remove(gone.sandboxId());
              // The record goes first, so a get or list sent after this reply no longer finds the sandbox.
              // The reply goes before the Deleted event: the gateway's sandbox entity may stop once that
              // event reaches it, and a reply arriving after that would be lost (the delete RPC then hangs).
              gone.replyTo().tell(StatusReply.success(true));
              watchers.publish(WatchSandboxesEvent.newBuilder()
                  .setDeleted(WatchSandboxesDeletedEvent.newBuilder().setSandboxId(gone.sandboxId())).build());
              return Behaviors.same();
            })
            .onMessage(ChildStopped.class, stopped -> {
              processes.remove(stopped.sandboxId());
              return Behaviors.same();
            })
            .onMessage(List_.class, list -> {
              list.replyTo().tell(sortedByName(sandboxes.values()));
              return Behaviors.same();
            })
            .onMessage(Watch.class, watch -> {
              watch.replyTo().tell(watchers.subscribe(sortedByName(sandboxes.values()).stream().map(ProcessDriver::sandboxEvent).toList()));
              return Behaviors.same();
            })
            .onMessage(WatchEnded.class, ended -> {
              watchers.ended(ended.watcher());
              return Behaviors.same();
            })
            .onMessage(Publish.class, publish -> {
              watchers.publish(publish.event());
              return Behaviors.same();
            })
            .onMessage(StopAll.class, stopAll -> {
              List<CompletableFuture<?>> stops = new ArrayList<>();
              for (ActorRef<SandboxProcess.Command> process : processes.values()) {
                stops.add(AskPattern.<SandboxProcess.Command, StatusReply<Boolean>>ask(process, SandboxProcess.Stop::new,
                    driver.settings.stopGrace().plus(Duration.ofSeconds(5)), context.getSystem().scheduler()).toCompletableFuture());
              }
              CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                  .whenComplete((ok, failure) -> stopAll.replyTo().tell(Done.getInstance()));
              return Behaviors.same();
            })
            .build();
      });
    }

    private record ExitReport(String sandboxId, int status) implements Command {}
  }
}
