package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The VM driver end to end: a real gateway with {@code --drivers vm}, real QEMU guests (TCG on these
 * machines: no working KVM) booting Debian's kernel, the supervisor inside dialling the gateway, and
 * the real CLI. On failure every test prints the gateway log and every guest console log.
 */
class VmE2EIT {
  /** Under TCG on a loaded 2-core host a guest JVM is slow: generous, but bounded. */
  private static final Duration READY_PATIENCE = Duration.ofSeconds(240);
  private static final List<String> SMALL_VM = List.of("--drivers", "vm", "--vm-vcpus", "1", "--vm-mem-mib", "1024");

  @Test
  void smokeCreateExecListAndDeleteInAQemuVm() throws Exception {
    Path state = Files.createTempDirectory("openshell-vm-e2e");
    try (GatewayProcess gateway = GatewayProcess.start(state, "sqlite::memory:", List.of(), SMALL_VM)) {
      diagnosed(gateway, state, () -> {
        Cli cli = cli(gateway);
        // The gateway prepared the assets at start; setup finds them cached (or prepares them).
        Cli.Result setup = cli.run("vm", "setup");
        assertEquals(0, setup.exitCode(), setup.toString());
        assertTrue(setup.stdout().startsWith("VM assets ready in "), setup.toString());
        Cli.Result status = cli.run("status");
        assertEquals(0, status.exitCode(), status.toString());
        assertEquals("Connected", status.stdout().lines().findFirst().orElse(""), status.toString());

        long start = System.nanoTime();
        Cli.Result created = cli.run("sandbox", "create", "--name", "vm-smoke", "--", "echo", "smoke-ok");
        long createMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(0, created.exitCode(), created.toString());
        assertTrue(created.stdout().lines().anyMatch(l -> l.equals("smoke-ok")), created.toString());
        System.out.printf("VM create -> READY -> 'echo smoke-ok' over SSH: %d ms (%s)%n", createMs,
            created.stderr().lines().filter(l -> l.contains("Ready")).findFirst().orElse("?"));

        Cli.Result exec = cli.run("sandbox", "exec", "-n", "vm-smoke", "--", "sh", "-c", "echo exec-ok; id -u; cat /proc/1/comm; exit 7");
        assertEquals(7, exec.exitCode(), exec.toString());
        assertEquals(List.of("exec-ok", "10001", "java"), exec.stdout().lines().toList(), exec.toString());

        Cli.Result names = cli.run("sandbox", "list", "--names");
        assertEquals(List.of("vm-smoke"), names.stdout().lines().toList(), names.toString());

        String id;
        try (GatewayClient client = new GatewayClient(gateway.port)) {
          id = client.get("vm-smoke").getId();
        }
        List<Long> vms = vmProcesses(id);
        assertEquals(1, vms.size(), "one QEMU process per sandbox: " + vms);
        Cli.Result deleted = cli.run("sandbox", "delete", "vm-smoke");
        assertEquals(0, deleted.exitCode(), deleted.toString());
        assertTrue(Processes.allGoneWithin(vms, Duration.ofSeconds(15)), "QEMU survived delete");
        Awaits.require(Duration.ofSeconds(30), "the sandbox state dir removed",
            () -> !Files.exists(state.resolve("vm-driver/sandboxes").resolve(id)));
        assertEquals("", cli.run("sandbox", "list", "--names").stdout().trim());
      });
    }
  }

  @Test
  void sigtermOfTheGatewayLeavesNoVmProcessBehind() throws Exception {
    gatewayDeathLeavesNoVmBehind("TERM");
  }

  @Test
  void sigkillOfTheGatewayLeavesNoVmProcessBehind() throws Exception {
    gatewayDeathLeavesNoVmBehind("KILL");
  }

  private void gatewayDeathLeavesNoVmBehind(String signal) throws Exception {
    Path state = Files.createTempDirectory("openshell-vm-orphan");
    try (GatewayProcess gateway = GatewayProcess.start(state, "sqlite::memory:",
        List.of("-Dopenshell.gateway.vm-driver.accel=tcg"), SMALL_VM)) {
      diagnosed(gateway, state, () -> {
        Cli cli = cli(gateway);
        // The CLI waits for READY, then runs `sleep 99999` in the VM over SSH; it stays running.
        ProcessBuilder builder = new ProcessBuilder(List.of(Repo.java(), "-Dopenshell.home=" + Repo.root(), "-jar",
            Repo.jar("client", "openshell-cli").toString(), "sandbox", "create", "--name", "orphan", "--", "sleep", "99999"))
            .redirectErrorStream(true).redirectOutput(state.resolve("cli.log").toFile());
        builder.environment().putAll(cli.env);
        Process create = builder.start();
        try (GatewayClient client = new GatewayClient(gateway.port)) {
          Awaits.require(READY_PATIENCE, "sandbox READY", () -> {
            try {
              return client.get("orphan").getPhase() == SandboxPhase.SANDBOX_PHASE_READY;
            } catch (IllegalStateException notYet) {
              return false;
            }
          });
          String id = client.get("orphan").getId();
          Awaits.require(Duration.ofSeconds(60), "sleep 99999 running in the guest", () -> exec(cli, "pgrep -x sleep"));
          List<Long> vms = vmProcesses(id);
          assertEquals(1, vms.size(), "one QEMU process: " + vms);
          List<Long> chain = new ArrayList<>(vms);
          chain.add(gateway.process.pid());
          Processes.kill(gateway.process.pid(), signal);
          long killed = System.nanoTime();
          assertTrue(Processes.allGoneWithin(chain, Duration.ofSeconds(15)),
              "survivors 15 s after SIG" + signal + " of the gateway: " + chain.stream().filter(Processes::alive).map(p -> p + " " + Processes.cmdline(p)).toList());
          System.out.printf("SIG%s of the gateway: gateway and QEMU gone after %d ms%n", signal, (System.nanoTime() - killed) / 1_000_000);
        } finally {
          create.destroyForcibly();
          create.waitFor(30, TimeUnit.SECONDS);
        }
      });
    }
  }

  @Test
  void aGuestThatNeverStartsTheSupervisorGoesToErrorWithItsConsoleInTheMessage() throws Exception {
    Path state = Files.createTempDirectory("openshell-vm-stuck");
    Duration timeout = Duration.ofSeconds(60);
    try (GatewayProcess gateway = GatewayProcess.start(state, "sqlite::memory:", List.of(
        "-Dopenshell.gateway.vm-driver.accel=tcg",
        "-Dopenshell.gateway.vm-driver.provision-timeout=" + timeout.toSeconds() + "s",
        // A broken init: the guest's last stage runs sleep instead of the supervisor.
        "-Dopenshell.gateway.vm-driver.guest-command.0=/usr/bin/sleep",
        "-Dopenshell.gateway.vm-driver.guest-command.1=99999"), SMALL_VM)) {
      diagnosed(gateway, state, () -> {
        try (GatewayClient client = new GatewayClient(gateway.port)) {
          long start = System.nanoTime();
          client.create("stuck");
          Awaits.require(timeout.plus(Duration.ofSeconds(60)), "sandbox ERROR",
              () -> client.get("stuck").getPhase() == SandboxPhase.SANDBOX_PHASE_ERROR);
          long errorMs = (System.nanoTime() - start) / 1_000_000;
          Sandbox stuck = client.get("stuck");
          String message = stuck.getStatus().getConditionsList().stream().filter(c -> c.getType().equals("Ready"))
              .findFirst().orElseThrow().getMessage();
          assertTrue(message.startsWith("VM supervisor did not connect within 60 s"), message);
          assertTrue(message.contains("openshell-init: starting supervisor"), message);
          assertTrue(errorMs >= timeout.toMillis(), "ERROR before the provision timeout: " + errorMs + " ms");
          System.out.printf("guest without supervisor: ERROR after %d ms (timeout %d s)%n", errorMs, timeout.toSeconds());
          List<Long> vms = vmProcesses(stuck.getId());
          client.delete("stuck");
          assertTrue(Processes.allGoneWithin(vms, Duration.ofSeconds(15)), "QEMU survived delete");
        }
      });
    }
  }

  // --- helpers -----------------------------------------------------------------------------------

  private interface Body {
    void run() throws Exception;
  }

  private static Cli cli(GatewayProcess gateway) throws IOException {
    Cli cli = new Cli(Files.createTempDirectory("openshell-vm-cli"));
    cli.env.put("OPENSHELL_GATEWAY_ENDPOINT", gateway.endpoint());
    return cli;
  }

  private static boolean exec(Cli cli, String script) {
    try {
      return cli.run("sandbox", "exec", "-n", "orphan", "--", "sh", "-c", script).exitCode() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** QEMU processes of one sandbox: their command line names the sandbox's state directory. */
  private static List<Long> vmProcesses(String sandboxId) throws IOException {
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        String name = entry.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        long pid = Long.parseLong(name);
        String cmdline = Processes.cmdline(pid);
        if (cmdline.contains("qemu-system") && cmdline.contains("/sandboxes/" + sandboxId + "/") && Processes.alive(pid)) pids.add(pid);
      }
    }
    return pids;
  }

  /** Runs the body; on failure prints the gateway log and every guest console log, then rethrows. */
  private static void diagnosed(GatewayProcess gateway, Path state, Body body) throws Exception {
    try {
      body.run();
    } catch (Throwable failure) {
      System.out.println("==== gateway log ====\n" + gateway.logText());
      Path sandboxes = state.resolve("vm-driver").resolve("sandboxes");
      if (Files.isDirectory(sandboxes)) {
        try (Stream<Path> dirs = Files.list(sandboxes)) {
          for (Path dir : (Iterable<Path>) dirs::iterator) {
            Path console = dir.resolve("rootfs-console.log");
            System.out.println("==== console " + console + " ====\n"
                + (Files.exists(console) ? Files.readString(console, java.nio.charset.StandardCharsets.ISO_8859_1) : "(none)"));
          }
        }
      }
      throw failure;
    }
  }
}
