package io.openshell.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SupervisorArgsTest {

  private static final Map<String, String> NO_ENV = Map.of();

  @Test
  void missingSandboxIdExitsTwoNamingTheFlagAndTheEnvVar() {
    var result = SupervisorArgs.parse(new String[] {"--openshell-endpoint", "http://127.0.0.1:8080"}, NO_ENV);
    var invalid = assertInstanceOf(SupervisorArgs.Invalid.class, result);
    assertEquals(2, invalid.exitCode());
    assertEquals("missing required --sandbox-id (or env OPENSHELL_SANDBOX_ID)", invalid.message());
  }

  @Test
  void missingEndpointExitsTwoNamingTheFlagAndTheEnvVar() {
    var result = SupervisorArgs.parse(new String[0], Map.of("OPENSHELL_SANDBOX_ID", "sbx"));
    var invalid = assertInstanceOf(SupervisorArgs.Invalid.class, result);
    assertEquals(2, invalid.exitCode());
    assertEquals("missing required --openshell-endpoint (or env OPENSHELL_ENDPOINT)", invalid.message());
  }

  @Test
  void blankEnvValueCountsAsMissing() {
    var result =
        SupervisorArgs.parse(
            new String[0], Map.of("OPENSHELL_ENDPOINT", "http://gw:8080", "OPENSHELL_SANDBOX_ID", "  "));
    assertEquals(2, assertInstanceOf(SupervisorArgs.Invalid.class, result).exitCode());
  }

  @Test
  void envAloneIsEnoughAndDefaultsFillTheRest() {
    var result =
        SupervisorArgs.parse(
            new String[0],
            Map.of("OPENSHELL_ENDPOINT", "http://gw.local:8080", "OPENSHELL_SANDBOX_ID", "sbx-1"));
    var parsed = assertInstanceOf(SupervisorArgs.Parsed.class, result);
    SupervisorSettings settings = SupervisorSettings.fromConfig(Main.config(parsed));
    assertEquals(new GatewayEndpoint("http", "gw.local", 8080), settings.endpoint());
    assertEquals("sbx-1", settings.sandboxId());
    assertEquals(Path.of("/run/openshell/ssh.sock"), settings.sshSocketPath());
    assertEquals(Duration.ofSeconds(5), settings.session().heartbeatFloor());
    assertEquals(Duration.ofSeconds(1), settings.session().reconnectInitial());
    assertEquals(Duration.ofSeconds(30), settings.session().reconnectMax());
    assertEquals(Duration.ofSeconds(10), settings.session().connectTimeout());
    assertEquals(3, settings.session().deadGatewayFactor());
    assertEquals(64, settings.session().outboundQueueSize());
    assertNull(parsed.logLevel());
  }

  @Test
  void flagsWinOverEnvInBothSpellings() {
    var result =
        SupervisorArgs.parse(
            new String[] {
              "--openshell-endpoint=http://flag:9000",
              "--sandbox-id", "from-flag",
              "--sandbox", "my-box",
              "--ssh-socket-path", "/tmp/x/ssh.sock"
            },
            Map.of(
                "OPENSHELL_ENDPOINT", "http://env:1",
                "OPENSHELL_SANDBOX_ID", "from-env",
                "OPENSHELL_SSH_SOCKET_PATH", "/env.sock",
                "OPENSHELL_LOG_LEVEL", "debug"));
    var parsed = assertInstanceOf(SupervisorArgs.Parsed.class, result);
    Config config = Main.config(parsed);
    SupervisorSettings settings = SupervisorSettings.fromConfig(config);
    assertEquals(new GatewayEndpoint("http", "flag", 9000), settings.endpoint());
    assertEquals("from-flag", settings.sandboxId());
    assertEquals("my-box", settings.sandboxName());
    assertEquals(Path.of("/tmp/x/ssh.sock"), settings.sshSocketPath());
    assertEquals("debug", parsed.logLevel());
    assertEquals("DEBUG", config.getString("pekko.loglevel"));
  }

  @Test
  void httpsEndpointWithoutACaIsRefusedNamingTheTlsVariable() {
    var result =
        SupervisorArgs.parse(
            new String[] {"--openshell-endpoint", "https://gw:443", "--sandbox-id", "sbx"}, NO_ENV);
    var invalid = assertInstanceOf(SupervisorArgs.Invalid.class, result);
    assertEquals(2, invalid.exitCode());
    assertTrue(invalid.message().contains("OPENSHELL_TLS_CA"), invalid.message());
  }

  @Test
  void httpsEndpointWithACaMapsTheTlsFilesOntoSettings(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path ca = java.nio.file.Files.writeString(dir.resolve("ca.crt"), "CA");
    var parsed = assertInstanceOf(SupervisorArgs.Parsed.class, SupervisorArgs.parse(
        new String[] {"--openshell-endpoint", "https://gw:443", "--sandbox-id", "sbx"}, Map.of("OPENSHELL_TLS_CA", ca.toString())));
    assertEquals(ca.toString(), parsed.overrides().get("tls.ca"));
    assertFalse(parsed.overrides().containsKey("tls.cert"));
  }

  @Test
  void aClientCertificateWithoutItsKeyIsAUsageError(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("x.pem"), "X");
    var invalid = assertInstanceOf(SupervisorArgs.Invalid.class, SupervisorArgs.parse(
        new String[] {"--openshell-endpoint", "https://gw:443", "--sandbox-id", "sbx"},
        Map.of("OPENSHELL_TLS_CA", file.toString(), "OPENSHELL_TLS_CERT", file.toString())));
    assertTrue(invalid.message().contains("OPENSHELL_TLS_KEY"), invalid.message());
  }

  @Test
  void anUnreadableCaFileIsAUsageErrorNamingIt() {
    var invalid = assertInstanceOf(SupervisorArgs.Invalid.class, SupervisorArgs.parse(
        new String[] {"--openshell-endpoint", "https://gw:443", "--sandbox-id", "sbx"}, Map.of("OPENSHELL_TLS_CA", "/no/such/ca.crt")));
    assertTrue(invalid.message().contains("/no/such/ca.crt"), invalid.message());
  }

  @Test
  void endpointWithoutSchemeIsRejected() {
    var result = SupervisorArgs.parse(new String[] {"--openshell-endpoint", "gw:8080", "--sandbox-id", "s"}, NO_ENV);
    assertEquals(2, assertInstanceOf(SupervisorArgs.Invalid.class, result).exitCode());
  }

  @Test
  void unknownFlagAndFlagWithoutValueAreUsageErrors() {
    var unknown = SupervisorArgs.parse(new String[] {"--bogus", "1"}, NO_ENV);
    assertEquals(2, assertInstanceOf(SupervisorArgs.Invalid.class, unknown).exitCode());
    var dangling = SupervisorArgs.parse(new String[] {"--sandbox-id"}, NO_ENV);
    assertEquals(
        "--sandbox-id needs a value", assertInstanceOf(SupervisorArgs.Invalid.class, dangling).message());
  }

  @Test
  void helpPrintsUsage() {
    assertInstanceOf(SupervisorArgs.Help.class, SupervisorArgs.parse(new String[] {"--help"}, NO_ENV));
  }

  @Test
  void endpointWithoutPortUsesTheSchemeDefault() {
    assertEquals(new GatewayEndpoint("http", "gw", 80), GatewayEndpoint.parse("http://gw"));
    assertEquals(new GatewayEndpoint("http", "::1", 8080), GatewayEndpoint.parse("http://[::1]:8080/"));
  }

  @Test
  void commaSeparatedEndpointsAreTriedInTheGivenOrder() {
    var result =
        SupervisorArgs.parse(
            new String[0],
            Map.of("OPENSHELL_ENDPOINT", "http://127.0.0.1:8082, http://127.0.0.1:8083,http://127.0.0.1:8081",
                "OPENSHELL_SANDBOX_ID", "sbx-1"));
    var parsed = assertInstanceOf(SupervisorArgs.Parsed.class, result);
    SupervisorSettings settings = SupervisorSettings.fromConfig(Main.config(parsed));
    assertEquals(
        java.util.List.of(
            new GatewayEndpoint("http", "127.0.0.1", 8082),
            new GatewayEndpoint("http", "127.0.0.1", 8083),
            new GatewayEndpoint("http", "127.0.0.1", 8081)),
        settings.endpoints());
    assertEquals(new GatewayEndpoint("http", "127.0.0.1", 8082), settings.endpoint());
  }

  @Test
  void oneBadEndpointInTheListIsAUsageError() {
    var result =
        SupervisorArgs.parse(
            new String[0],
            Map.of("OPENSHELL_ENDPOINT", "http://127.0.0.1:8082,ftp://gw", "OPENSHELL_SANDBOX_ID", "sbx-1"));
    var invalid = assertInstanceOf(SupervisorArgs.Invalid.class, result);
    assertEquals(2, invalid.exitCode());
    assertTrue(invalid.message().startsWith("invalid gateway endpoint 'ftp://gw'"), invalid.message());
  }
}
