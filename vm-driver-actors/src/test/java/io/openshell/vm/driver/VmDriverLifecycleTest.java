package io.openshell.vm.driver;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.openshell.protocol.compute.v1.*;
import io.openshell.vm.hypervisor.Hypervisor;
import io.openshell.vm.hypervisor.VmPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's lifecycle with real launcher processes (a shell standing in for QEMU: the driver only
 * sees a launcher process and its console output), so exits, timeouts and deletes are real.
 */
class VmDriverLifecycleTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A "hypervisor" whose launcher is a shell script given the sandbox id as $1. */
  private record Shell(String script) implements Hypervisor {
    @Override
    public String name() {
      return "shell";
    }

    @Override
    public List<String> launcherCommand(VmPlan plan) {
      return List.of("setpriv", "--pdeathsig", "KILL", "--", "sh", "-c", script, "launcher", plan.sandboxId());
    }
  }

  /** The real host side, except that the first {@code failRemovals} removals fail. */
  private static final class FlakyRemoval implements VmSandbox.Host {
    final VmDriver.HostFiles real;
    final AtomicInteger failRemovals;
    final java.util.concurrent.CompletableFuture<Process> started = new java.util.concurrent.CompletableFuture<>();

    FlakyRemoval(VmDriverSettings settings, int failRemovals) {
      this.real = new VmDriver.HostFiles(settings);
      this.failRemovals = new AtomicInteger(failRemovals);
    }

    @Override
    public void prepare(VmPlan plan) throws Exception {
      real.prepare(plan);
    }

    @Override
    public Process start(List<String> command, VmPlan plan) throws Exception {
      Process p = real.start(command, plan);
      started.complete(p);
      return p;
    }

    @Override
    public void remove(Path sandboxDir) throws Exception {
      if (failRemovals.getAndDecrement() > 0) throw new java.io.IOException("device busy (injected)");
      real.remove(sandboxDir);
    }
  }

  private static DriverSandbox sandbox(String id, String name) {
    return DriverSandbox.newBuilder().setId(id).setName(name).setSpec(DriverSandboxSpec.getDefaultInstance()).build();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
  }

  private static Status.Code code(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
      return Status.Code.OK;
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException || e instanceof CompletionException ? e.getCause() : e;
      return cause instanceof StatusRuntimeException s ? s.getStatus().getCode() : Status.Code.UNKNOWN;
    }
  }

  private static DriverCondition ready(DriverSandbox s) {
    return s.getStatus().getConditionsList().stream().filter(c -> c.getType().equals("Ready")).findFirst().orElseThrow();
  }

  private static TestSubscriber.Probe<WatchSandboxesEvent> watch(VmDriver driver) {
    return driver.watchSandboxes(WatchSandboxesRequest.getDefaultInstance())
        .runWith(TestSink.probe(testKit.system().classicSystem()), testKit.system());
  }

  @Test
  void rejectsGpuAndPlatformConfigWithFailedPrecondition(@TempDir Path dir) {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", PATIENCE), null, new Shell("sleep 1000"));
    DriverSandbox gpu = sandbox("g", "g").toBuilder().setSpec(DriverSandboxSpec.newBuilder().setGpu(true)).build();
    DriverSandbox platform = sandbox("p", "p").toBuilder().setSpec(DriverSandboxSpec.newBuilder().setTemplate(
        DriverSandboxTemplate.newBuilder().setPlatformConfig(com.google.protobuf.Struct.newBuilder()
            .putFields("k", com.google.protobuf.Value.newBuilder().setStringValue("v").build())))).build();
    assertEquals(Status.Code.FAILED_PRECONDITION, code(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(gpu).build())));
    assertEquals(Status.Code.FAILED_PRECONDITION, code(driver.validateSandboxCreate(ValidateSandboxCreateRequest.newBuilder().setSandbox(platform).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(driver.getSandbox(GetSandboxRequest.getDefaultInstance())));
    assertEquals(Status.Code.UNIMPLEMENTED, code(driver.stopSandbox(StopSandboxRequest.getDefaultInstance())));
  }

  @Test
  void capabilitiesNameTheVmDriverWithoutGpu(@TempDir Path dir) throws Exception {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", PATIENCE), null, new Shell("sleep 1000"));
    GetCapabilitiesResponse caps = await(driver.getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
    assertEquals("vm", caps.getDriverName());
    assertFalse(caps.getSupportsGpu());
  }

  @Test
  void anUnspecifiedGatewayAddressStopsTheDriverFromStarting(@TempDir Path dir) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        VmDriver.create(testKit.system(), TestSettings.of(dir, "http://0.0.0.0:8080", PATIENCE), null, new Shell("true")));
    assertTrue(e.getMessage().contains("not reachable from sandbox VMs"));
  }

  @Test
  void createPublishesStartingNeverReadyListsByNameAndRejectsADuplicateId(@TempDir Path dir) throws Exception {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", PATIENCE), null, new Shell("sleep 1000"));
    var events = watch(driver);
    DriverSandbox created = await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-b", "bravo")).build())).getSandbox();
    assertEquals("Starting", ready(created).getReason());
    assertEquals("False", ready(created).getStatus());
    assertEquals("VM is starting", ready(created).getMessage());
    await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-a", "alpha")).build()));
    assertEquals(Status.Code.ALREADY_EXISTS,
        code(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-a", "alpha")).build())));
    List<String> names = await(driver.listSandboxes(ListSandboxesRequest.getDefaultInstance())).getSandboxesList().stream()
        .map(DriverSandbox::getName).toList();
    assertEquals(List.of("alpha", "bravo"), names);
    assertEquals("bravo", await(driver.getSandbox(GetSandboxRequest.newBuilder().setSandboxName("bravo").build())).getSandbox().getName());
    // The files are written off the actor after the reply: poll the file system (it sends no event).
    Path guestEnv = dir.resolve("vm-driver/sandboxes/id-a/rootfs/guest.env");
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!Files.isRegularFile(guestEnv) && System.nanoTime() < deadline) java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
    assertTrue(Files.isRegularFile(guestEnv));
    events.request(2);
    for (int i = 0; i < 2; i++) {
      WatchSandboxesEvent event = events.expectNext(PATIENCE);
      assertNotEquals("True", ready(event.getSandbox().getSandbox()).getStatus());
    }
    assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-a").build())).getDeleted());
    assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-b").build())).getDeleted());
    events.cancel();
  }

  @Test
  void aLauncherExitIsTerminalWithItsStatusAndAPlatformEvent(@TempDir Path dir) throws Exception {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", PATIENCE), null, new Shell("exit 3"));
    var events = watch(driver);
    await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-x", "exits")).build()));
    events.request(3);
    events.expectNext(PATIENCE); // Starting
    List<WatchSandboxesEvent> next = List.of(events.expectNext(PATIENCE), events.expectNext(PATIENCE));
    DriverPlatformEvent platform = next.stream().filter(WatchSandboxesEvent::hasPlatformEvent).findFirst().orElseThrow()
        .getPlatformEvent().getEvent();
    assertEquals("vm", platform.getSource());
    assertEquals("Warning", platform.getType());
    assertEquals("ProcessExited", platform.getReason());
    DriverCondition exited = ready(next.stream().filter(WatchSandboxesEvent::hasSandbox).findFirst().orElseThrow().getSandbox().getSandbox());
    assertEquals("ProcessExited", exited.getReason());
    assertEquals("VM process exited with status 3", exited.getMessage());
    events.cancel();
    assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-x").build())).getDeleted());
  }

  @Test
  void aSupervisorThatNeverConnectsEndsInProvisionTimeoutQuotingTheConsole(@TempDir Path dir) throws Exception {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", Duration.ofSeconds(2)), null,
        new Shell("echo 'openshell-init: FAILED: cannot mount /usr'; sleep 1000"));
    var events = watch(driver);
    await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-t", "stuck")).build()));
    events.request(3);
    events.expectNext(PATIENCE);
    List<WatchSandboxesEvent> next = List.of(events.expectNext(PATIENCE), events.expectNext(PATIENCE));
    DriverCondition timedOut = ready(next.stream().filter(WatchSandboxesEvent::hasSandbox).findFirst().orElseThrow().getSandbox().getSandbox());
    assertEquals("ProvisionTimeout", timedOut.getReason());
    assertTrue(timedOut.getMessage().startsWith("VM supervisor did not connect within 2 s"), timedOut.getMessage());
    assertTrue(timedOut.getMessage().contains("openshell-init: FAILED: cannot mount /usr"), timedOut.getMessage());
    events.cancel();
    assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-t").build())).getDeleted());
  }

  @Test
  void aSupervisorSessionLineOnTheConsoleCancelsTheProvisionTimeout(@TempDir Path dir) throws Exception {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", Duration.ofSeconds(2)), null,
        new Shell("echo \"INFO GatewaySession - supervisor session live sandbox_id=$1 session_id=s\"; sleep 1000"));
    await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-c", "connects")).build()));
    // Well past the 2 s deadline the sandbox is still just Starting.
    var later = new java.util.concurrent.CompletableFuture<Void>();
    testKit.system().scheduler().scheduleOnce(Duration.ofSeconds(5), () -> later.complete(null), testKit.system().executionContext());
    later.get(30, TimeUnit.SECONDS);
    DriverSandbox now = await(driver.getSandbox(GetSandboxRequest.newBuilder().setSandboxId("id-c").build())).getSandbox();
    assertEquals("Starting", ready(now).getReason());
    assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-c").build())).getDeleted());
  }

  @Test
  void aDeleteRightAfterCreateWaitsForTheFilesAndTheLauncherThenRemovesEverything(@TempDir Path dir) throws Exception {
    VmDriver driver = VmDriver.create(testKit.system(), TestSettings.of(dir, "http://127.0.0.1:1", PATIENCE), null, new Shell("sleep 1000"));
    for (int i = 0; i < 5; i++) {
      String id = "id-quick-" + i;
      await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox(id, "quick-" + i)).build()));
      assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId(id).build())).getDeleted());
      assertFalse(Files.exists(dir.resolve("vm-driver/sandboxes").resolve(id)));
      // Once delete has answered, the driver no longer knows the sandbox (no window in which a read still finds it).
      assertEquals(Status.Code.NOT_FOUND, code(driver.getSandbox(GetSandboxRequest.newBuilder().setSandboxId(id).build())));
    }
  }

  @Test
  void deleteKeepsTheRecordWhenCleanupFailsAndARetrySucceeds(@TempDir Path dir) throws Exception {
    VmDriverSettings settings = TestSettings.of(dir, "http://127.0.0.1:1", PATIENCE);
    FlakyRemoval host = new FlakyRemoval(settings, 1);
    VmDriver driver = VmDriver.create(testKit.system(), settings, host, new Shell("trap 'exit 0' TERM; sleep 1000 & wait"));
    var events = watch(driver);
    await(driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox("id-d", "doomed")).build()));
    Path sandboxDir = dir.resolve("vm-driver/sandboxes/id-d");
    Process launcher = host.started.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);

    assertEquals(Status.Code.INTERNAL, code(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-d").build())));
    assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "launcher survived delete");
    DriverSandbox kept = await(driver.getSandbox(GetSandboxRequest.newBuilder().setSandboxId("id-d").build())).getSandbox();
    assertTrue(kept.getStatus().getDeleting());
    assertTrue(Files.exists(sandboxDir));

    assertTrue(await(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("id-d").build())).getDeleted());
    assertFalse(Files.exists(sandboxDir));
    assertEquals(Status.Code.NOT_FOUND, code(driver.getSandbox(GetSandboxRequest.newBuilder().setSandboxId("id-d").build())));
    events.request(10);
    List<WatchSandboxesEvent> seen = new ArrayList<>();
    while (seen.stream().noneMatch(WatchSandboxesEvent::hasDeleted)) seen.add(events.expectNext(PATIENCE));
    assertTrue(seen.stream().anyMatch(e -> e.hasSandbox() && e.getSandbox().getSandbox().getStatus().getDeleting()));
    events.cancel();
  }
}
