package io.openshell.supervisor;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the supervisor finds the credential its compute driver handed over. */
class CredentialFileTest {

  private static ByteArrayInputStream stdin(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aDashReadsStdinToItsEndAndTrimsTheNewline() {
    assertEquals("abc-123_XYZ", CredentialFile.read("-", stdin("abc-123_XYZ\n"), 4096));
  }

  @Test
  void aPathReadsThatFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("credential"), "from-a-file\n");
    assertEquals("from-a-file", CredentialFile.read(file.toString(), stdin("ignored"), 4096));
  }

  @Test
  void anEmptyMissingOrOversizedCredentialIsRefusedSayingWhere(@TempDir Path dir) {
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> CredentialFile.read("-", stdin("\n"), 4096));
    assertEquals("sandbox credential from stdin is empty", empty.getMessage());
    RuntimeException missing = assertThrows(RuntimeException.class,
        () -> CredentialFile.read(dir.resolve("absent").toString(), stdin(""), 4096));
    assertTrue(missing.getMessage().startsWith("cannot read the sandbox credential from " + dir.resolve("absent")), missing.getMessage());
    int max = (int) com.typesafe.config.ConfigFactory.load("openshell-supervisor")
        .getMemorySize("openshell.supervisor.credential-max-bytes").toBytes();
    assertEquals(4096, max, "the default");
    assertEquals("x".repeat(max), CredentialFile.read("-", stdin("x".repeat(max)), max));
    IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
        () -> CredentialFile.read("-", stdin("x".repeat(max + 1)), max));
    assertEquals("sandbox credential from stdin is longer than 4096 bytes (openshell.supervisor.credential-max-bytes)",
        tooLong.getMessage());
  }

  @Test
  void theFlagOrEnvNamesTheFileAndTheSettingsCarryItsContentNeverPrintingIt(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("credential"), "secret-credential-1234\n");
    var parsed = assertInstanceOf(SupervisorArgs.Parsed.class, SupervisorArgs.parse(
        new String[] {"--sandbox-credential-file", file.toString()},
        Map.of("OPENSHELL_ENDPOINT", "http://gw:1", "OPENSHELL_SANDBOX_ID", "sbx-1")));
    SupervisorSettings settings = SupervisorSettings.fromConfig(Main.config(parsed));
    assertEquals("secret-credential-1234", settings.credential());
    assertFalse(settings.toString().contains("secret-credential"), settings.toString());

    var fromEnv = assertInstanceOf(SupervisorArgs.Parsed.class, SupervisorArgs.parse(new String[0],
        Map.of("OPENSHELL_ENDPOINT", "http://gw:1", "OPENSHELL_SANDBOX_ID", "sbx-1", "OPENSHELL_SANDBOX_CREDENTIAL_FILE", file.toString())));
    assertEquals("secret-credential-1234", SupervisorSettings.fromConfig(Main.config(fromEnv)).credential());

    var none = assertInstanceOf(SupervisorArgs.Parsed.class, SupervisorArgs.parse(new String[0],
        Map.of("OPENSHELL_ENDPOINT", "http://gw:1", "OPENSHELL_SANDBOX_ID", "sbx-1")));
    assertEquals("", SupervisorSettings.fromConfig(Main.config(none)).credential());
  }
}
