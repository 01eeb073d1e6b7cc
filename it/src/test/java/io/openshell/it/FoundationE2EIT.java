package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The foundation issue's acceptance, end to end: the real CLI, gateway and supervisor processes (in
 * bubblewrap when it is installed), SQLite files, signals.
 */
class FoundationE2EIT {

  private static String line(Cli.Result result, String prefix) {
    return result.stdout().lines().filter(l -> l.startsWith(prefix)).findFirst()
        .orElseThrow(() -> new AssertionError("no line starting '" + prefix + "' in\n" + result));
  }

  @Test
  void createGetListKillReconnectAndDeleteThroughTheCliWithALocalGateway() throws Exception {
    Cli cli = new Cli(Files.createTempDirectory("openshell-e2e-cli"));
    try {
      Cli.Result created = cli.run("sandbox", "create", "--name", "demo");
      assertEquals(0, created.exitCode(), created.toString());
      assertTrue(created.stdout().lines().anyMatch(l -> l.equals("Created sandbox: demo")), created.toString());

      Cli.Result status = cli.run("status");
      assertEquals(0, status.exitCode(), status.toString());
      assertEquals("Connected", status.stdout().lines().findFirst().orElse(""), status.toString());

      Cli.Result get = cli.run("sandbox", "get", "demo");
      assertEquals(0, get.exitCode(), get.toString());
      assertTrue(get.stdout().contains("READY"), get.toString());

      Cli.Result names = cli.run("sandbox", "list", "--names");
      assertEquals(List.of("demo"), names.stdout().lines().toList(), names.toString());

      try (GatewayClient client = GatewayClient.ofLocalGateway(cli)) {
        Sandbox demo = client.get("demo");
        assertEquals(SandboxPhase.SANDBOX_PHASE_READY, demo.getPhase());

        // Killing the supervisor closes its stream: PROVISIONING / DependenciesNotReady within a second.
        long supervisor = Processes.supervisorJvm(demo.getId());
        Processes.kill(supervisor, "KILL");
        long killedAt = System.nanoTime();
        Awaits.require(Duration.ofSeconds(1), "PROVISIONING after the supervisor was killed",
            () -> client.get("demo").getPhase() == SandboxPhase.SANDBOX_PHASE_PROVISIONING);
        Sandbox demoted = client.get("demo");
        if (demoted.getPhase() == SandboxPhase.SANDBOX_PHASE_PROVISIONING) {
          assertEquals("DependenciesNotReady", demoted.getStatus().getConditions(0).getReason());
          assertEquals("Supervisor session disconnected", demoted.getStatus().getConditions(0).getMessage());
        }
        System.out.printf("demoted %d ms after SIGKILL of the supervisor%n", (System.nanoTime() - killedAt) / 1_000_000);

        // The process driver starts the supervisor again and it reconnects.
        Awaits.require(Duration.ofSeconds(60), "READY after the supervisor restarted",
            () -> client.get("demo").getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
        assertNotEquals(supervisor, Processes.supervisorJvm(demo.getId()));

        List<Long> processes = Processes.withSandboxId(demo.getId());
        Cli.Result deleted = cli.run("sandbox", "delete", "demo");
        assertEquals(0, deleted.exitCode(), deleted.toString());
        assertTrue(deleted.stdout().contains("Deleted sandbox: demo"), deleted.toString());
        assertTrue(Processes.allGoneWithin(processes, Duration.ofSeconds(15)), "sandbox processes survived delete");
        assertEquals("", cli.run("sandbox", "list", "--names").stdout().trim());
        assertFalse(Files.exists(cli.localGatewayStateDir().resolve("sandboxes").resolve(demo.getId())));
      }
    } finally {
      cli.run("gateway", "stop");
    }
  }

  @Test
  void killingTheGatewayLeavesNoOrphansAndARestartRecoversEverySandbox() throws Exception {
    Path root = Files.createTempDirectory("openshell-e2e-restart");
    Path state = root.resolve("gateway");
    String db = "sqlite:" + state.resolve("openshell.db");
    List<String> names = List.of("alpha", "beta");
    List<String> ids = new ArrayList<>();
    List<Long> supervisors = new ArrayList<>();

    GatewayProcess first = GatewayProcess.start(state, db);
    try (GatewayClient client = new GatewayClient(first.port)) {
      for (String name : names) {
        client.create(name);
        Awaits.require(Duration.ofSeconds(90), name + " READY", () -> client.get(name).getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
        Sandbox sandbox = client.get(name);
        ids.add(sandbox.getId());
        supervisors.addAll(Processes.withSandboxId(sandbox.getId()));
        // A file in the sandbox's /sandbox, seen from the host through the supervisor's working directory.
        Files.writeString(Path.of("/proc", Long.toString(Processes.supervisorJvm(sandbox.getId())), "cwd", "marker"), name);
      }
    } catch (Throwable t) {
      first.killHard();
      throw t;
    }
    assertFalse(supervisors.isEmpty());
    first.killHard();
    assertTrue(Processes.allGoneWithin(supervisors, Duration.ofSeconds(15)),
        "supervisor processes outlived the SIGKILLed gateway: " + supervisors.stream().filter(Processes::alive).toList());

    try (GatewayProcess second = GatewayProcess.start(state, db); GatewayClient client = new GatewayClient(second.port)) {
      assertEquals(names, client.names(), second.logText());
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        String id = ids.get(i);
        Awaits.require(Duration.ofSeconds(90), name + " READY after the gateway restart",
            () -> client.get(name).getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
        assertEquals(id, client.get(name).getId());
        Path marker = Path.of("/proc", Long.toString(Processes.supervisorJvm(id)), "cwd", "marker");
        assertEquals(name, Files.readString(marker), "the relaunched supervisor got its existing /sandbox");
      }
      for (String name : names) client.delete(name);
      assertTrue(Processes.allGoneWithin(ids.stream().flatMap(id -> Processes.withSandboxId(id).stream()).toList(), Duration.ofSeconds(15)));
    }
  }
}
