package io.openshell.gateway;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import io.openshell.gateway.tls.TlsSettings;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GatewayFlagsTlsTest {
  private static TlsSettings parse(String... args) {
    GatewayFlags flags = new GatewayFlags();
    new CommandLine(flags).parseArgs(args);
    return TlsSettings.fromConfig(flags.toConfig().withFallback(ConfigFactory.load()).getConfig("openshell.gateway"));
  }

  @Test
  void withoutFlagsTlsAndUserAuthAreOnWithTheLocalCa() {
    TlsSettings tls = parse();
    assertTrue(tls.enabled());
    assertTrue(tls.userAuth());
    assertTrue(tls.local());
  }

  @Test
  void tlsFlagsBecomeTheOperatorsFiles() {
    TlsSettings tls = parse("--tls-cert", "/etc/gw/server.crt", "--tls-key", "/etc/gw/server.key",
        "--tls-client-ca", "/etc/gw/ca.crt", "--tls-sandbox-ca", "/etc/gw/sandbox-ca.crt", "--disable-gateway-auth");
    assertEquals(Optional.of(Path.of("/etc/gw/server.crt")), tls.cert());
    assertEquals(Optional.of(Path.of("/etc/gw/server.key")), tls.key());
    assertEquals(Optional.of(Path.of("/etc/gw/ca.crt")), tls.clientCa());
    assertEquals(Optional.of(Path.of("/etc/gw/sandbox-ca.crt")), tls.sandboxCa());
    assertFalse(tls.userAuth());
    assertFalse(tls.local());
  }

  @Test
  void disableTlsTurnsTlsOff() {
    assertFalse(parse("--disable-tls").enabled());
  }
}
