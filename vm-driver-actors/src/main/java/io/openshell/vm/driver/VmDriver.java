package io.openshell.vm.driver;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.openshell.compute.watch.DriverWatchers;
import io.openshell.protocol.compute.v1.*;
import io.openshell.vm.assets.VmAssets;
import io.openshell.vm.hypervisor.Hypervisor;
import io.openshell.vm.hypervisor.KrunHypervisor;
import io.openshell.vm.hypervisor.QemuHypervisor;
import io.openshell.vm.hypervisor.VmPlan;
import java.io.IOException;
import java.nio.file.Files;
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
 * The VM compute driver: one microVM per sandbox, each owned by a {@link VmSandbox} actor. Runs in
 * the gateway's JVM; every launcher is forked from one long-lived thread under a parent-death signal,
 * so the gateway's death (SIGTERM or SIGKILL) takes every VM with it. Never reports Ready=True: the
 * gateway owns readiness.
 */
public final class VmDriver implements ComputeDriver {
  private static final Logger log = LoggerFactory.getLogger(VmDriver.class);
  private static final Duration ASK = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final VmDriverSettings settings;
  private final String guestEndpoint;
  private final ActorRef<Registry.Command> registry;
  private final ExecutorService spawner;
  /** The backend, once assets are prepared and (for QEMU) the accelerator probed; creates wait for it. */
  private final CompletableFuture<Hypervisor> hypervisor;
  private final VmSandbox.Host host;

  private VmDriver(ActorSystem<?> system, VmDriverSettings settings, VmSandbox.Host host, Hypervisor fixed) {
    this.system = system;
    this.settings = settings;
    // Fails the gateway's start when guests could never reach it (0.0.0.0, ::).
    this.guestEndpoint = GuestEndpoint.forGuest(settings.gatewayEndpoint(), settings.hostAlias());
    if (!settings.javaHome().startsWith("/usr/")) {
      throw new IllegalArgumentException("the VM driver runs the host's JDK inside guests from the shared /usr: "
          + settings.javaHome() + " is outside /usr; run the gateway with a JDK installed under /usr (e.g. openjdk-17-jdk-headless)");
    }
    this.host = host != null ? host : new HostFiles(settings);
    // Parent-death signals follow the thread that forked the child (STACK.md): fork every launcher
    // from this one thread, which lives as long as the driver.
    this.spawner = Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "vm-launcher-spawner");
      thread.setDaemon(true);
      return thread;
    });
    var blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.hypervisor = fixed != null ? CompletableFuture.completedFuture(fixed) : CompletableFuture.supplyAsync(this::chooseHypervisor, blocking);
    hypervisor.whenComplete((chosen, failure) -> {
      if (failure != null) log.error("VM driver cannot run VMs: {}", failure.getMessage());
      else log.info("VM driver ready: backend {}, {} vCPUs, {} MiB, guests dial {}", chosen.name(), settings.vcpus(),
          settings.memMib(), guestEndpoint);
    });
    this.registry = system.systemActorOf(Registry.create(this), "vm-driver-" + java.util.UUID.randomUUID(), Props.empty());
  }

  public static VmDriver create(ActorSystem<?> system, VmDriverSettings settings) {
    return new VmDriver(system, settings, null, null);
  }

  /** With a given backend and host side (unit tests of the driver's lifecycle). */
  static VmDriver create(ActorSystem<?> system, VmDriverSettings settings, VmSandbox.Host host, Hypervisor hypervisor) {
    return new VmDriver(system, settings, host, hypervisor);
  }

  /** The backend once ready (for status output and tests). */
  public CompletionStage<String> backendName() {
    return hypervisor.thenApply(Hypervisor::name);
  }

  private Hypervisor chooseHypervisor() {
    String library = "krun";
    if (settings.backend() == VmDriverSettings.Backend.LIBKRUN) {
      if (!KrunHypervisor.available(library)) {
        throw new IllegalStateException("--vm-backend libkrun: /dev/kvm does not open or libkrun does not load");
      }
      return new KrunHypervisor(library, settings.javaHome().resolve("bin").resolve("java"), System.getProperty("java.class.path"));
    }
    try {
      VmAssets.Prepared assets = VmAssets.prepare(settings.cacheDir());
      return new QemuHypervisor(settings.qemuBinary(), assets.kernel(), assets.initramfs(), kvmWorks(assets));
    } catch (IOException e) {
      throw new IllegalStateException("VM assets unavailable: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while preparing VM assets", e);
    }
  }

  /** KVM only when a probe boot proves it runs a guest: /dev/kvm may exist and still fail (STACK.md). */
  private boolean kvmWorks(VmAssets.Prepared assets) throws IOException, InterruptedException {
    if (settings.accel() == VmDriverSettings.Accel.TCG) return false;
    Path kvm = Path.of("/dev/kvm");
    boolean opens = Files.isReadable(kvm) && Files.isWritable(kvm);
    if (!opens) {
      if (settings.accel() == VmDriverSettings.Accel.KVM) throw new IllegalStateException("--vm-accel kvm but /dev/kvm does not open");
      return false;
    }
    // Forked from the spawner thread like every launcher, and killed at the deadline.
    Process probe = CompletableFuture.supplyAsync(() -> {
      try {
        return new ProcessBuilder(QemuHypervisor.probeCommand(settings.qemuBinary(), assets.kernel(), assets.initramfs()))
            .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, spawner).join();
    var output = new java.io.ByteArrayOutputStream();
    Thread reader = new Thread(() -> {
      try {
        probe.getInputStream().transferTo(output);
      } catch (IOException ignored) {
        // The probe was killed: what was read is enough.
      }
    }, "vm-accel-probe-reader");
    reader.start();
    boolean exited = probe.waitFor(settings.accelProbeTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    if (!exited) probe.destroyForcibly().waitFor();
    reader.join(5000);
    boolean ok = output.toString(java.nio.charset.StandardCharsets.UTF_8).contains(QemuHypervisor.PROBE_MARKER);
    if (!ok && settings.accel() == VmDriverSettings.Accel.KVM) {
      throw new IllegalStateException("--vm-accel kvm but a KVM probe boot failed: " + output.toString(java.nio.charset.StandardCharsets.UTF_8).strip());
    }
    log.info("KVM probe boot {}: VMs use {}", ok ? "succeeded" : "failed" + (exited ? "" : " (timed out)"), ok ? "KVM" : "TCG");
    return ok;
  }

  /** Stops every VM (SIGTERM, grace, SIGKILL), keeping state; the gateway calls it on shutdown. */
  public CompletionStage<Done> shutdown() {
    return AskPattern.<Registry.Command, Done>ask(registry, Registry.StopAll::new,
            settings.stopGrace().plus(Duration.ofSeconds(10)), system.scheduler())
        .whenComplete((done, failure) -> spawner.shutdown());
  }

  // --- ComputeDriver ----------------------------------------------------------------------------

  @Override
  public CompletionStage<GetCapabilitiesResponse> getCapabilities(GetCapabilitiesRequest in) {
    return CompletableFuture.completedFuture(GetCapabilitiesResponse.newBuilder()
        .setDriverName("vm").setDriverVersion("1").setSupportsGpu(false).build());
  }

  @Override
  public CompletionStage<ValidateSandboxCreateResponse> validateSandboxCreate(ValidateSandboxCreateRequest in) {
    return validate(in.getSandbox()).thenApply(ok -> ValidateSandboxCreateResponse.getDefaultInstance());
  }

  static CompletionStage<Done> validate(DriverSandbox sandbox) {
    if (sandbox.getSpec().getGpu()) {
      return failed(Status.FAILED_PRECONDITION, "the vm driver does not support GPU sandboxes; create it without --gpu");
    }
    if (sandbox.getSpec().getTemplate().hasPlatformConfig()
        && sandbox.getSpec().getTemplate().getPlatformConfig().getFieldsCount() > 0) {
      return failed(Status.FAILED_PRECONDITION, "the vm driver does not support platform_config; remove it from the template");
    }
    if (sandbox.getId().isEmpty()) return failed(Status.INVALID_ARGUMENT, "sandbox id is required");
    String envProblem = GuestEnvironment.problem(sandbox);
    if (envProblem != null) return failed(Status.INVALID_ARGUMENT, envProblem);
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  @Override
  public CompletionStage<CreateSandboxResponse> createSandbox(CreateSandboxRequest in) {
    return validate(in.getSandbox())
        .thenCompose(ok -> hypervisor.handle((chosen, failure) -> {
          if (failure != null) {
            Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
            throw new StatusRuntimeException(Status.FAILED_PRECONDITION.withDescription(
                "the vm driver cannot run VMs here: " + cause.getMessage()));
          }
          return chosen;
        }))
        .thenCompose(chosen -> AskPattern.<Registry.Command, StatusReply<DriverSandbox>>ask(registry,
            replyTo -> new Registry.Create(in.getSandbox(), chosen, replyTo), ASK, system.scheduler()))
        .thenCompose(VmDriver::unwrap)
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
    return failed(Status.UNIMPLEMENTED, "the vm driver does not stop sandboxes; delete them");
  }

  @Override
  public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
    return AskPattern.<Registry.Command, StatusReply<Boolean>>ask(registry,
            replyTo -> new Registry.Delete(in.getSandboxId(), replyTo), settings.stopGrace().plus(ASK), system.scheduler())
        .thenCompose(VmDriver::unwrap)
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

  static WatchSandboxesEvent platformEvent(String sandboxId, String type, String reason, String message) {
    return WatchSandboxesEvent.newBuilder().setPlatformEvent(WatchSandboxesPlatformEvent.newBuilder().setSandboxId(sandboxId)
        .setEvent(DriverPlatformEvent.newBuilder().setTimestampMs(System.currentTimeMillis()).setSource("vm")
            .setType(type).setReason(reason).setMessage(message))).build();
  }

  static DriverSandbox observed(DriverSandbox sandbox, String instanceId, DriverCondition ready, boolean deleting) {
    DriverSandboxStatus.Builder status = DriverSandboxStatus.newBuilder()
        .setSandboxName(sandbox.getName())
        .setInstanceId(instanceId)
        .setDeleting(deleting)
        .addConditions(ready);
    return sandbox.toBuilder().setStatus(status).build();
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

  VmPlan plan(DriverSandbox sandbox, Path sandboxDir) {
    Map<String, String> env = GuestEnvironment.of(sandbox, guestEndpoint, settings.tls());
    List<String> command = new ArrayList<>();
    if (!settings.guestCommand().isEmpty()) {
      command.addAll(settings.guestCommand());
    } else {
      command.add(settings.javaHome().resolve("bin").resolve("java").toString());
      command.addAll(settings.guestJvmOptions());
      command.add("-jar");
      command.add("/opt/openshell/supervisor/" + settings.supervisorJar().getFileName());
    }
    return new VmPlan(sandbox.getId(), settings.vcpus(), settings.memMib(), sandboxDir.resolve("rootfs"),
        sandboxDir.resolve("workspace"), settings.supervisorJar().toAbsolutePath().getParent(),
        sandboxDir.resolve("rootfs-console.log"), List.copyOf(command), env, sandbox.getSpec().getSupervisorCredential());
  }

  /** The real host side: files under the state dir, launcher processes, recursive removal. */
  static final class HostFiles implements VmSandbox.Host {
    private final VmDriverSettings settings;

    HostFiles(VmDriverSettings settings) {
      this.settings = settings;
    }

    @Override
    public void prepare(VmPlan plan) throws IOException {
      Files.createDirectories(plan.workspaceDir());
      GuestRootfs.write(plan.rootfsDir(), plan.guestEnvironment(), plan.guestCommand(), settings, plan.supervisorCredential());
    }

    @Override
    public Process start(List<String> command, VmPlan plan) throws IOException {
      return new ProcessBuilder(command)
          .directory(plan.rootfsDir().getParent().toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(plan.consoleLog().toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
    }

    @Override
    public void remove(Path sandboxDir) throws IOException {
      if (!Files.exists(sandboxDir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
      try (var paths = Files.walk(sandboxDir)) {
        for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(path);
      }
    }
  }

  // --- the registry of VM actors -----------------------------------------------------------------

  static final class Registry {
    interface Command {}

    private static List<DriverSandbox> sortedByName(java.util.Collection<DriverSandbox> sandboxes) {
      List<DriverSandbox> all = new ArrayList<>(sandboxes);
      all.sort(Comparator.comparing(DriverSandbox::getName));
      return all;
    }

    record Create(DriverSandbox sandbox, Hypervisor hypervisor, ActorRef<StatusReply<DriverSandbox>> replyTo) implements Command {}

    record Delete(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

    record List_(ActorRef<List<DriverSandbox>> replyTo) implements Command {}

    record Watch(ActorRef<Source<WatchSandboxesEvent, NotUsed>> replyTo) implements Command {}

    private record WatchEnded(long watcher) implements Command {}

    record StopAll(ActorRef<Done> replyTo) implements Command {}

    private record Observed(String sandboxId, String reason, String message, boolean terminal, String eventReason) implements Command {}

    private record Gone(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

    private record ChildStopped(String sandboxId) implements Command {}

    static Behavior<Command> create(VmDriver driver) {
      return Behaviors.setup(context -> {
        Map<String, DriverSandbox> sandboxes = new HashMap<>();
        Map<String, ActorRef<VmSandbox.Command>> vms = new HashMap<>();
        Map<String, String> instances = new HashMap<>();
        var blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
        ActorRef<Command> self = context.getSelf();
        DriverWatchers watchers = new DriverWatchers(context.getSystem(), DriverWatchers.BUFFER, id -> self.tell(new WatchEnded(id)));
        VmSandbox.Reports reports = new VmSandbox.Reports() {
          @Override
          public void launched(String sandboxId, long pid) {
            // Nothing to publish: the sandbox is already "Starting"; the pid is in the log line.
          }

          @Override
          public void exited(String sandboxId, String reason, String message) {
            self.tell(new Observed(sandboxId, reason, message, true, reason));
          }

          @Override
          public void provisionTimedOut(String sandboxId, String message) {
            self.tell(new Observed(sandboxId, "ProvisionTimeout", message, true, "ProvisionTimeout"));
          }

          @Override
          public void deleted(String sandboxId, ActorRef<StatusReply<Boolean>> replyTo) {
            self.tell(new Gone(sandboxId, replyTo));
          }
        };
        return Behaviors.receive(Command.class)
            .onMessage(Create.class, create -> {
              DriverSandbox sandbox = create.sandbox();
              if (vms.containsKey(sandbox.getId())) {
                create.replyTo().tell(StatusReply.error(new StatusRuntimeException(Status.ALREADY_EXISTS
                    .withDescription("sandbox " + sandbox.getId() + " already exists in the vm driver"))));
                return Behaviors.same();
              }
              Path sandboxDir = driver.settings.stateDir().resolve("sandboxes").resolve(sandbox.getId());
              VmPlan plan = driver.plan(sandbox, sandboxDir);
              String instance = create.hypervisor().name() + "-" + sandbox.getId().substring(0, Math.min(8, sandbox.getId().length()));
              instances.put(sandbox.getId(), instance);
              // The credential goes into the guest only: never into watch events, lists or replies.
              DriverSandbox starting = observed(sandbox.toBuilder()
                  .setSpec(sandbox.getSpec().toBuilder().clearSupervisorCredential()).build(), instance, condition("Ready", "False", "Starting", "VM is starting"), false);
              sandboxes.put(sandbox.getId(), starting);
              ActorRef<VmSandbox.Command> vm = context.spawn(VmSandbox.create(plan, create.hypervisor().launcherCommand(plan),
                  sandboxDir, driver.settings, driver.host, driver.spawner, blocking, reports), "vm-" + sandbox.getId());
              context.watchWith(vm, new ChildStopped(sandbox.getId()));
              vms.put(sandbox.getId(), vm);
              context.getLog().info("VM sandbox created sandbox_id={} backend={} console={}", sandbox.getId(),
                  create.hypervisor().name(), plan.consoleLog());
              watchers.publish(sandboxEvent(starting));
              create.replyTo().tell(StatusReply.success(starting));
              return Behaviors.same();
            })
            .onMessage(Observed.class, observed -> {
              DriverSandbox known = sandboxes.get(observed.sandboxId());
              if (known != null && !known.getStatus().getDeleting()) {
                DriverSandbox now = observed(known, instances.get(observed.sandboxId()),
                    condition("Ready", "False", observed.reason(), observed.message()), false);
                sandboxes.put(observed.sandboxId(), now);
                watchers.publish(platformEvent(observed.sandboxId(), "Warning", observed.eventReason(), observed.message()));
                watchers.publish(sandboxEvent(now));
              }
              return Behaviors.same();
            })
            .onMessage(Delete.class, delete -> {
              ActorRef<VmSandbox.Command> vm = vms.get(delete.sandboxId());
              DriverSandbox known = sandboxes.get(delete.sandboxId());
              if (vm == null || known == null) {
                delete.replyTo().tell(StatusReply.success(false));
                return Behaviors.same();
              }
              DriverSandbox deleting = known.toBuilder().setStatus(known.getStatus().toBuilder().setDeleting(true)).build();
              sandboxes.put(delete.sandboxId(), deleting);
              watchers.publish(sandboxEvent(deleting));
              vm.tell(new VmSandbox.Delete(delete.replyTo()));
              return Behaviors.same();
            })
            .onMessage(Gone.class, gone -> {
              sandboxes.remove(gone.sandboxId());
              instances.remove(gone.sandboxId());
              // The record goes first, so a get or list sent after this reply no longer finds the sandbox.
              // The reply goes before the Deleted event: the gateway's sandbox entity may stop once that
              // event reaches it, and a reply arriving after that would be lost (the delete RPC then hangs).
              gone.replyTo().tell(StatusReply.success(true));
              watchers.publish(WatchSandboxesEvent.newBuilder()
                  .setDeleted(WatchSandboxesDeletedEvent.newBuilder().setSandboxId(gone.sandboxId())).build());
              return Behaviors.same();
            })
            .onMessage(ChildStopped.class, stopped -> {
              vms.remove(stopped.sandboxId());
              return Behaviors.same();
            })
            .onMessage(List_.class, list -> {
              list.replyTo().tell(sortedByName(sandboxes.values()));
              return Behaviors.same();
            })
            .onMessage(Watch.class, watch -> {
              watch.replyTo().tell(watchers.subscribe(sortedByName(sandboxes.values()).stream().map(VmDriver::sandboxEvent).toList()));
              return Behaviors.same();
            })
            .onMessage(WatchEnded.class, ended -> {
              watchers.ended(ended.watcher());
              return Behaviors.same();
            })
            .onMessage(StopAll.class, stopAll -> {
              List<CompletableFuture<?>> stops = new ArrayList<>();
              for (ActorRef<VmSandbox.Command> vm : vms.values()) {
                stops.add(AskPattern.<VmSandbox.Command, StatusReply<Boolean>>ask(vm, VmSandbox.Stop::new,
                    driver.settings.stopGrace().plus(Duration.ofSeconds(5)), context.getSystem().scheduler()).toCompletableFuture());
              }
              CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                  .whenComplete((ok, failure) -> stopAll.replyTo().tell(Done.getInstance()));
              return Behaviors.same();
            })
            .build();
      });
    }
  }
}
