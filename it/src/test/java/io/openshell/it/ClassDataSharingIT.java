package io.openshell.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.openshell.protocol.v1.SandboxPhase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The process driver's supervisor class-data archive, for real: a gateway process trains it at start,
 * and a sandbox created afterwards runs a supervisor JVM that has the archive mapped (seen in
 * /proc/PID/maps) and reaches READY.
 */
class ClassDataSharingIT {
  private static final Pattern READY = Pattern.compile("supervisor class-data archive ready in (\\d+) ms: (\\S+)");

  @Test
  void aSandboxCreatedAfterTrainingMapsTheArchiveAndReachesReady() throws Exception {
    Path state = Files.createTempDirectory("openshell-class-data");
    try (GatewayProcess gateway = GatewayProcess.start(state, "sqlite:" + state.resolve("gateway.db"));
        GatewayClient client = new GatewayClient(gateway.port)) {
      Awaits.require(Duration.ofSeconds(150), "the class-data archive", () -> READY.matcher(gateway.logText()).find());
      Matcher ready = READY.matcher(gateway.logText());
      assertTrue(ready.find());
      Path archive = Path.of(ready.group(2));
      assertTrue(Files.size(archive) > 1024 * 1024, "an archive of the supervisor's classes: " + archive);

      client.create("cds");
      Awaits.require(GatewayProcess.startupPatience(), "sandbox READY",
          () -> client.get("cds").getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
      long supervisor = Processes.supervisorJvm(client.get("cds").getId());
      String commandLine = Processes.cmdline(supervisor);
      assertTrue(commandLine.contains("-XX:SharedArchiveFile=" + archive), commandLine);
      String maps = Files.readString(Path.of("/proc", Long.toString(supervisor), "maps"));
      assertTrue(maps.contains(archive.getFileName().toString()), "the supervisor JVM mapped the archive");
    }
  }
}
