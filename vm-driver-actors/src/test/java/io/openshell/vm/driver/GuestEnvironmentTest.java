package io.openshell.vm.driver;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.compute.v1.DriverSandbox;
import io.openshell.protocol.compute.v1.DriverSandboxSpec;
import io.openshell.protocol.compute.v1.DriverSandboxTemplate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestEnvironmentTest {

  private static DriverSandbox sandbox(Map<String, String> template, Map<String, String> spec, String logLevel) {
    return DriverSandbox.newBuilder().setId("id-1").setName("vm-one")
        .setSpec(DriverSandboxSpec.newBuilder().setLogLevel(logLevel).putAllEnvironment(spec)
            .setTemplate(DriverSandboxTemplate.newBuilder().putAllEnvironment(template)))
        .build();
  }

  @Test
  void guestEnvironmentHasTheDriverDefaults() {
    Map<String, String> env = GuestEnvironment.of(sandbox(Map.of(), Map.of(), ""), "http://host.openshell.internal:8080", false);
    assertEquals("/sandbox", env.get("HOME"));
    assertEquals("sandbox", env.get("USER"));
    assertEquals("xterm-256color", env.get("TERM"));
    assertTrue(env.get("PATH").contains("/usr/bin"));
    assertEquals("http://host.openshell.internal:8080", env.get("OPENSHELL_ENDPOINT"));
    assertEquals("id-1", env.get("OPENSHELL_SANDBOX_ID"));
    assertEquals("vm-one", env.get("OPENSHELL_SANDBOX"));
    assertEquals("/run/openshell/ssh.sock", env.get("OPENSHELL_SSH_SOCKET_PATH"));
    assertEquals("info", env.get("OPENSHELL_LOG_LEVEL"));
    assertFalse(env.containsKey("OPENSHELL_TLS_KEY"));
  }

  @Test
  void tlsPathsPointIntoTheGuestsTlsDirectory() {
    Map<String, String> env = GuestEnvironment.of(sandbox(Map.of(), Map.of(), "debug"), "https://h:1", true);
    assertEquals("/opt/openshell/tls/ca.crt", env.get("OPENSHELL_TLS_CA"));
    assertEquals("/opt/openshell/tls/tls.crt", env.get("OPENSHELL_TLS_CERT"));
    assertEquals("/opt/openshell/tls/tls.key", env.get("OPENSHELL_TLS_KEY"));
    assertEquals("debug", env.get("OPENSHELL_LOG_LEVEL"));
  }

  @Test
  void specEnvironmentWinsOverTemplateEnvironmentWhichWinsOverDefaults() {
    Map<String, String> env = GuestEnvironment.of(
        sandbox(Map.of("A", "template", "B", "template", "TERM", "dumb"), Map.of("B", "spec"), ""), "http://h:1", false);
    assertEquals("template", env.get("A"));
    assertEquals("spec", env.get("B"));
    assertEquals("dumb", env.get("TERM"));
  }

  @Test
  void exportsReachAShellLiterallyWhateverTheValueHolds(@TempDir Path dir) throws Exception {
    String tricky = "it's $(touch pwned) `x` \"q\" \\ \nsecond line";
    Path file = dir.resolve("guest.env");
    Files.writeString(file, GuestEnvironment.exports(Map.of("TRICKY", tricky)));
    Process sh = new ProcessBuilder("sh", "-c", ". ./guest.env; printf %s \"$TRICKY\"").directory(dir.toFile()).start();
    String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(sh.waitFor(30, TimeUnit.SECONDS));
    assertEquals(tricky, out);
    assertFalse(Files.exists(dir.resolve("pwned")));
  }

  @Test
  void invalidVariableNamesAndNulBytesAreProblems() {
    assertNull(GuestEnvironment.problem(sandbox(Map.of("OK_1", "v"), Map.of("_x", "v"), "")));
    assertTrue(GuestEnvironment.problem(sandbox(Map.of(), Map.of("BAD-NAME", "v"), "")).contains("'BAD-NAME' is not valid"));
    assertTrue(GuestEnvironment.problem(sandbox(Map.of("1X", "v"), Map.of(), "")).contains("'1X'"));
    assertTrue(GuestEnvironment.problem(sandbox(Map.of(), Map.of("X", "a\0b"), "")).contains("NUL"));
  }

  @Test
  void theCredentialIsAFilePathInTheEnvironmentNeverTheSecretAndTheSpecCannotMoveIt() {
    DriverSandbox sandbox = DriverSandbox.newBuilder().setId("id-1").setName("vm-one")
        .setSpec(DriverSandboxSpec.newBuilder().setSupervisorCredential("secret-credential-1234")
            .putEnvironment("OPENSHELL_SANDBOX_CREDENTIAL_FILE", "/sandbox/mine")).build();
    Map<String, String> env = GuestEnvironment.of(sandbox, "http://h:1", false);
    assertEquals("/opt/openshell/credential/supervisor", env.get("OPENSHELL_SANDBOX_CREDENTIAL_FILE"));
    assertFalse(env.values().stream().anyMatch(v -> v.contains("secret-credential")), env.toString());
    assertFalse(GuestEnvironment.of(sandbox(Map.of(), Map.of("OPENSHELL_SANDBOX_CREDENTIAL_FILE", "/x"), ""), "http://h:1", false)
        .containsKey("OPENSHELL_SANDBOX_CREDENTIAL_FILE"));
  }
}
