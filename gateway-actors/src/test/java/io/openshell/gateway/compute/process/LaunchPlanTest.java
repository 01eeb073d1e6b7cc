package io.openshell.gateway.compute.process;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.compute.v1.DriverSandbox;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LaunchPlanTest {
  private static final ProcessDriverSettings SETTINGS = new ProcessDriverSettings(Path.of("/state"), "http://gw:1",
      List.of("/usr/bin/java", "-jar", "/tmp/checkout/supervisor-actors/target/openshell-supervisor.jar"),
      ProcessDriverSettings.Isolation.BWRAP, Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(30), 5, Duration.ofSeconds(60), true);

  @Test
  void privateTmpIsMountedBeforeHostTreesThatMayLiveUnderIt() throws Exception {
    Path checkout = java.nio.file.Files.createTempDirectory("checkout");
    Path jar = java.nio.file.Files.createDirectories(checkout.resolve("target")).resolve("openshell-supervisor.jar");
    java.nio.file.Files.writeString(jar, "jar");
    ProcessDriverSettings settings = new ProcessDriverSettings(Path.of("/state"), "http://gw:1",
        List.of("/usr/bin/java", "-jar", jar.toString()), ProcessDriverSettings.Isolation.BWRAP,
        Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(30), 5, Duration.ofSeconds(60), true);
    LaunchPlan plan = LaunchPlan.of(DriverSandbox.newBuilder().setId("abc").setName("n").build(), Path.of("/state/ws"), settings, true);
    List<String> command = plan.command();
    int tmpfs = command.indexOf("/tmp");
    int jarBind = command.indexOf(jar.getParent().toString());
    assertTrue(tmpfs > 0 && jarBind > tmpfs, "tmpfs /tmp before the jar's bind: " + command);
    assertEquals(List.of("setpriv", "--pdeathsig", "KILL", "--", "bwrap"), command.subList(0, 5));
    assertEquals(List.of("/usr/bin/java", "-jar", jar.toString()), command.subList(command.size() - 3, command.size()));
  }

  @Test
  void aPlainSandboxGetsItsWorkspaceAsHomeAndAShortSocketPath() {
    LaunchPlan plan = LaunchPlan.of(DriverSandbox.newBuilder().setId("abc").setName("n").build(), Path.of("/state/ws"), SETTINGS, false);
    assertEquals(List.of("setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/java"), plan.command().subList(0, 5));
    assertEquals("/state/ws", plan.environment().get("HOME"));
    assertEquals("/tmp/openshell-abc/ssh.sock", plan.environment().get("OPENSHELL_SSH_SOCKET_PATH"));
    assertEquals(Path.of("/state/ws"), plan.workingDirectory());
  }

  @Test
  void aClassDataArchiveIsMappedByTheSupervisorJvmAndBoundReadOnlyIntoBubblewrap() {
    Path archive = Path.of("/state/class-data/supervisor-0123456789abcdef.jsa");
    LaunchPlan plan = LaunchPlan.of(DriverSandbox.newBuilder().setId("abc").setName("n").build(), Path.of("/state/ws"), SETTINGS, true,
        java.util.Optional.of(archive));
    List<String> command = plan.command();
    int java = command.lastIndexOf("/usr/bin/java");
    assertEquals(List.of("/usr/bin/java", "-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds*=off", "-jar"),
        command.subList(java, java + 5));
    int bind = command.indexOf(archive.toString()) - 1;
    assertEquals(List.of("--ro-bind", archive.toString(), archive.toString()), command.subList(bind, bind + 3));
    assertTrue(bind < command.lastIndexOf("--"), "bound before bubblewrap's own arguments end: " + command);
  }

  @Test
  void withoutAnArchiveTheSupervisorCommandIsUnchanged() {
    LaunchPlan plan = LaunchPlan.of(DriverSandbox.newBuilder().setId("abc").setName("n").build(), Path.of("/state/ws"), SETTINGS, false,
        java.util.Optional.empty());
    assertEquals(List.of("setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/java", "-jar",
        "/tmp/checkout/supervisor-actors/target/openshell-supervisor.jar"), plan.command());
  }

  @Test
  void theCredentialGoesToStdinOnlyAndTheSpecCannotRedirectIt() {
    DriverSandbox sandbox = DriverSandbox.newBuilder().setId("abc").setName("n")
        .setSpec(io.openshell.protocol.compute.v1.DriverSandboxSpec.newBuilder().setSupervisorCredential("secret-credential-1234")
            .putEnvironment("OPENSHELL_SANDBOX_CREDENTIAL_FILE", "/sandbox/mine")).build();
    for (boolean isolate : List.of(true, false)) {
      LaunchPlan plan = LaunchPlan.of(sandbox, Path.of("/state/ws"), SETTINGS, isolate);
      assertEquals("secret-credential-1234\n", plan.stdin());
      assertEquals("-", plan.environment().get("OPENSHELL_SANDBOX_CREDENTIAL_FILE"));
      assertFalse(plan.environment().values().stream().anyMatch(v -> v.contains("secret-credential")), plan.environment().toString());
      assertFalse(plan.command().stream().anyMatch(a -> a.contains("secret-credential")), plan.command().toString());
      assertFalse(plan.toString().contains("secret-credential"), plan.toString());
    }
    LaunchPlan without = LaunchPlan.of(DriverSandbox.newBuilder().setId("abc").setName("n").build(), Path.of("/state/ws"), SETTINGS, false);
    assertEquals("", without.stdin());
    assertFalse(without.environment().containsKey("OPENSHELL_SANDBOX_CREDENTIAL_FILE"));
  }
}
