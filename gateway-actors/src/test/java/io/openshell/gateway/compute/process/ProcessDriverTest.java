package io.openshell.gateway.compute.process;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import io.grpc.Status;
import io.openshell.protocol.compute.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The process driver with real child processes (and real bubblewrap where it works). */
class ProcessDriverTest {
  private static final ActorTestKit testKit = ActorTestKit.create("ProcessDriverTest",
      ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  private static ProcessDriver driver(Path state, ProcessDriverSettings.Isolation isolation, List<String> command) {
    return ProcessDriver.create(testKit.system(), new ProcessDriverSettings(state, "http://127.0.0.1:1", command, isolation,
        Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofSeconds(1), 5, Duration.ofSeconds(60), false));
  }

  private static DriverSandbox sandbox(String name) {
    return DriverSandbox.newBuilder().setId(UUID.randomUUID().toString()).setName(name)
        .setSpec(DriverSandboxSpec.newBuilder()
            .putEnvironment("BOTH", "spec").putEnvironment("SPEC_ONLY", "s")
            .setTemplate(DriverSandboxTemplate.newBuilder().putEnvironment("BOTH", "template").putEnvironment("TEMPLATE_ONLY", "t")))
        .build();
  }

  private static void create(ProcessDriver driver, DriverSandbox sandbox) throws Exception {
    driver.createSandbox(CreateSandboxRequest.newBuilder().setSandbox(sandbox).build()).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void delete(ProcessDriver driver, DriverSandbox sandbox) throws Exception {
    driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId(sandbox.getId()).build()).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Path workspace(Path state, DriverSandbox sandbox) {
    return state.resolve("sandboxes").resolve(sandbox.getId()).resolve("workspace");
  }

  private static String awaitFile(Path file) {
    TestProbe.create(testKit.system()).awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(Files.exists(file) && Files.size(file) > 0, file + " written");
      return null;
    });
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theSupervisorGetsItsEnvironmentWithSpecEnvWinningOverTemplateEnv() throws Exception {
    Path state = Files.createTempDirectory("process-driver-env");
    ProcessDriver driver = driver(state, ProcessDriverSettings.Isolation.NONE,
        List.of("sh", "-c", "env > \"$HOME/env.txt.tmp\" && mv \"$HOME/env.txt.tmp\" \"$HOME/env.txt\"; exec sleep 1000"));
    DriverSandbox sandbox = sandbox("env-check");
    create(driver, sandbox);
    String env = awaitFile(workspace(state, sandbox).resolve("env.txt"));
    assertTrue(env.contains("OPENSHELL_SANDBOX_ID=" + sandbox.getId() + "\n"), env);
    assertTrue(env.contains("OPENSHELL_SANDBOX=env-check\n"), env);
    assertTrue(env.contains("OPENSHELL_ENDPOINT=http://127.0.0.1:1\n"), env);
    assertTrue(env.contains("OPENSHELL_SSH_SOCKET_PATH=/tmp/openshell-" + sandbox.getId() + "/ssh.sock\n"), env);
    assertTrue(env.contains("OPENSHELL_LOG_LEVEL=info\n"), env);
    assertTrue(env.contains("BOTH=spec\n"), env);
    assertTrue(env.contains("TEMPLATE_ONLY=t\n"), env);
    assertTrue(env.contains("SPEC_ONLY=s\n"), env);
    delete(driver, sandbox);
    assertFalse(Files.exists(state.resolve("sandboxes").resolve(sandbox.getId())), "delete removes the sandbox's state");
    driver.shutdown().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void watchSendsTheSnapshotThenLiveEventsAndAnExitedSupervisorIsRestartedWithoutAStatusChange() throws Exception {
    Path state = Files.createTempDirectory("process-driver-restart");
    ProcessDriver driver = driver(state, ProcessDriverSettings.Isolation.NONE,
        List.of("sh", "-c", "echo started >> \"$HOME/starts\"; exec sleep 1000"));
    DriverSandbox first = sandbox("first");
    create(driver, first);
    TestSubscriber.Probe<WatchSandboxesEvent> watch = driver.watchSandboxes(WatchSandboxesRequest.getDefaultInstance())
        .runWith(TestSink.create(testKit.system()), testKit.system());
    watch.request(100);
    DriverSandbox snapshot = watch.expectNext(Duration.ofSeconds(10)).getSandbox().getSandbox();
    assertEquals(first.getId(), snapshot.getId());
    DriverCondition ready = snapshot.getStatus().getConditions(0);
    assertEquals(List.of("Ready", "False", "Starting"), List.of(ready.getType(), ready.getStatus(), ready.getReason()));

    Path starts = workspace(state, first).resolve("starts");
    awaitFile(starts);
    long pid = findChild("sleep 1000", first.getId());
    new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
    WatchSandboxesEvent event = watch.expectNext(Duration.ofSeconds(20));
    assertTrue(event.hasPlatformEvent(), "a restart is a platform event, not a status change: " + event);
    assertEquals("ProcessRestarted", event.getPlatformEvent().getEvent().getReason());
    assertEquals("supervisor process exited with status 137; restarting", event.getPlatformEvent().getEvent().getMessage());
    TestProbe.create(testKit.system()).awaitAssert(Duration.ofSeconds(20), () -> {
      assertEquals(2, Files.readAllLines(starts).size(), "started again");
      return null;
    });
    delete(driver, first);
    driver.shutdown().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aCrashLoopIsTerminalWithProcessExited() throws Exception {
    Path state = Files.createTempDirectory("process-driver-crash");
    ProcessDriver driver = driver(state, ProcessDriverSettings.Isolation.NONE, List.of("sh", "-c", "exit 3"));
    DriverSandbox sandbox = sandbox("crashy");
    TestSubscriber.Probe<WatchSandboxesEvent> watch = driver.watchSandboxes(WatchSandboxesRequest.getDefaultInstance())
        .runWith(TestSink.create(testKit.system()), testKit.system());
    watch.request(1000);
    create(driver, sandbox);
    DriverCondition last = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      WatchSandboxesEvent event = watch.expectNext(Duration.ofSeconds(30));
      if (event.hasSandbox() && event.getSandbox().getSandbox().getStatus().getConditions(0).getReason().equals("ProcessExited")) {
        last = event.getSandbox().getSandbox().getStatus().getConditions(0);
        break;
      }
    }
    assertNotNull(last, "ProcessExited reported");
    assertEquals("False", last.getStatus());
    assertEquals("supervisor process exited with status 3", last.getMessage());
    delete(driver, sandbox);
    driver.shutdown().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void deleteKillsAProcessThatIgnoresSigtermAfterTheGrace() throws Exception {
    Path state = Files.createTempDirectory("process-driver-grace");
    ProcessDriver driver = driver(state, ProcessDriverSettings.Isolation.NONE,
        List.of("sh", "-c", "trap '' TERM; echo ready > \"$HOME/ready\"; while true; do sleep 1; done"));
    DriverSandbox sandbox = sandbox("stubborn");
    create(driver, sandbox);
    awaitFile(workspace(state, sandbox).resolve("ready"));
    long started = System.nanoTime();
    delete(driver, sandbox);
    long millis = (System.nanoTime() - started) / 1_000_000;
    assertTrue(millis >= 900, "waited for the grace before SIGKILL, took " + millis + " ms");
    assertTrue(driver.listSandboxes(ListSandboxesRequest.getDefaultInstance()).toCompletableFuture().get().getSandboxesList().isEmpty());
    driver.shutdown().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void validationFollowsTheDriverContract() throws Exception {
    ProcessDriver driver = driver(Files.createTempDirectory("process-driver-validate"), ProcessDriverSettings.Isolation.NONE, List.of("true"));
    DriverSandbox gpu = sandbox("gpu").toBuilder().setSpec(DriverSandboxSpec.newBuilder().setGpu(true)).build();
    ExecutionException e = assertThrows(ExecutionException.class, () -> create(driver, gpu));
    assertEquals(Status.Code.FAILED_PRECONDITION, Status.fromThrowable(e.getCause()).getCode());
    ExecutionException noKey = assertThrows(ExecutionException.class,
        () -> driver.getSandbox(GetSandboxRequest.getDefaultInstance()).toCompletableFuture().get());
    assertEquals("sandbox_id or sandbox_name is required", Status.fromThrowable(noKey.getCause()).getDescription());
    ExecutionException stop = assertThrows(ExecutionException.class,
        () -> driver.stopSandbox(StopSandboxRequest.getDefaultInstance()).toCompletableFuture().get());
    assertEquals(Status.Code.UNIMPLEMENTED, Status.fromThrowable(stop.getCause()).getCode());
    assertFalse(driver.getCapabilities(GetCapabilitiesRequest.getDefaultInstance()).toCompletableFuture().get().getSupportsGpu());
    assertFalse(driver.deleteSandbox(DeleteSandboxRequest.newBuilder().setSandboxId("unknown").build()).toCompletableFuture().get().getDeleted());
    driver.shutdown().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void bubblewrapGivesOwnPidAndUtsNamespacesReadOnlyHostTreesAndAWritableSandbox() throws Exception {
    Assumptions.assumeTrue(Bubblewrap.works(), "bubblewrap is not usable on this machine");
    Path state = Files.createTempDirectory("process-driver-bwrap");
    ProcessDriver driver = driver(state, ProcessDriverSettings.Isolation.BWRAP, List.of("sh", "-c",
        "{ echo pid=$$; echo host=$(hostname); echo home=$HOME; echo pwd=$(pwd); "
            + "if touch /usr/openshell-probe 2>/dev/null; then echo usr=writable; else echo usr=readonly; fi; "
            + "if [ -e /root ]; then echo root=visible; else echo root=hidden; fi; "
            + "echo socket=$OPENSHELL_SSH_SOCKET_PATH; } > /sandbox/probe.tmp && mv /sandbox/probe.tmp /sandbox/probe; exec sleep 1000"));
    assertTrue(driver.isolates());
    DriverSandbox sandbox = sandbox("boxed");
    create(driver, sandbox);
    String probe = awaitFile(workspace(state, sandbox).resolve("probe"));
    assertTrue(probe.matches("(?s)pid=[0-9]\\n.*"), "a low pid in its own pid namespace: " + probe);
    assertTrue(probe.contains("host=boxed\n"), probe);
    assertTrue(probe.contains("home=/sandbox\n"), probe);
    assertTrue(probe.contains("pwd=/sandbox\n"), probe);
    assertTrue(probe.contains("usr=readonly\n"), probe);
    assertTrue(probe.contains("root=hidden\n"), probe);
    assertTrue(probe.contains("socket=/run/openshell/ssh.sock\n"), probe);
    DriverSandbox listed = driver.listSandboxes(ListSandboxesRequest.getDefaultInstance()).toCompletableFuture().get().getSandboxes(0);
    assertEquals("Isolated", listed.getStatus().getConditions(1).getType());
    assertEquals("True", listed.getStatus().getConditions(1).getStatus());
    delete(driver, sandbox);
    driver.shutdown().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The pid of a process running {@code cmdline} whose environment names the sandbox. */
  private static long findChild(String cmdline, String sandboxId) throws Exception {
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path proc : (Iterable<Path>) procs::iterator) {
        if (!proc.getFileName().toString().chars().allMatch(Character::isDigit)) continue;
        try {
          String cmd = new String(Files.readAllBytes(proc.resolve("cmdline"))).replace('\0', ' ').trim();
          String env = new String(Files.readAllBytes(proc.resolve("environ")));
          if (cmd.equals(cmdline) && env.contains("OPENSHELL_SANDBOX_ID=" + sandboxId)) return Long.parseLong(proc.getFileName().toString());
        } catch (java.io.IOException ignored) {
          // gone meanwhile
        }
      }
    }
    throw new AssertionError("no process '" + cmdline + "' for " + sandboxId);
  }
}
