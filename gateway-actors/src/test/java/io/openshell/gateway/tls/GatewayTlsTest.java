package io.openshell.gateway.tls;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayTlsTest {
  private static TlsSettings settings(boolean enabled, boolean userAuth, Path cert, Path key, Path clientCa) {
    return new TlsSettings(enabled, userAuth, Optional.ofNullable(cert), Optional.ofNullable(key), Optional.ofNullable(clientCa),
        Optional.empty());
  }

  @Test
  void noFlagsMeansTlsWithTheLocalCaAndUserCertificates(@TempDir Path state) {
    GatewayTls tls = GatewayTls.resolve(settings(true, true, null, null, null), state, List.of());
    assertTrue(tls.enabled());
    assertTrue(tls.userAuth());
    assertEquals("https", tls.scheme());
    assertEquals(Optional.of(state.resolve("tls").resolve("ca.crt")), tls.sandboxCa());
    assertEquals(Optional.of(state.resolve("tls")), tls.localDir());
  }

  @Test
  void disableTlsIsPlaintextAndMakesNoCa(@TempDir Path state) {
    GatewayTls tls = GatewayTls.resolve(settings(false, true, null, null, null), state, List.of());
    assertFalse(tls.enabled());
    assertFalse(tls.userAuth());
    assertEquals("http", tls.scheme());
    assertEquals(Optional.empty(), tls.sandboxCa());
    assertFalse(state.resolve("tls").toFile().exists());
  }

  @Test
  void disableTlsWithTlsFilesIsRefusedNamingBoth(@TempDir Path state) {
    var e = assertThrows(IllegalArgumentException.class,
        () -> GatewayTls.resolve(settings(false, true, state.resolve("c"), state.resolve("k"), null), state, List.of()));
    assertTrue(e.getMessage().contains("--disable-tls") && e.getMessage().contains("--tls-cert"), e.getMessage());
  }

  @Test
  void aCertificateWithoutItsKeyIsRefused(@TempDir Path state) {
    var e = assertThrows(IllegalArgumentException.class,
        () -> GatewayTls.resolve(settings(true, false, state.resolve("c"), null, null), state, List.of()));
    assertTrue(e.getMessage().contains("--tls-key"), e.getMessage());
  }

  @Test
  void operatorCertificatesWithGatewayAuthNeedAClientCa(@TempDir Path state) {
    Path dir = state.resolve("operator");
    LocalCertificateAuthority.Material files = new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(List.of());
    var e = assertThrows(IllegalArgumentException.class,
        () -> GatewayTls.resolve(settings(true, true, files.serverCert(), files.serverKey(), null), state, List.of()));
    assertTrue(e.getMessage().contains("--tls-client-ca") && e.getMessage().contains("--disable-gateway-auth"), e.getMessage());

    GatewayTls withCa = GatewayTls.resolve(settings(true, true, files.serverCert(), files.serverKey(), files.caCert()), state, List.of());
    assertTrue(withCa.userAuth());
    assertEquals(Optional.of(files.caCert()), withCa.sandboxCa(), "sandboxes trust the operator's CA");
    assertEquals(Optional.empty(), withCa.localDir());

    GatewayTls noAuth = GatewayTls.resolve(settings(true, false, files.serverCert(), files.serverKey(), null), state, List.of());
    assertFalse(noAuth.userAuth());
    assertEquals(Optional.of(files.serverCert()), noAuth.sandboxCa(), "without a client CA sandboxes trust the server chain");
  }

  @Test
  void anUnreadableFileIsNamed(@TempDir Path state) {
    var e = assertThrows(IllegalArgumentException.class, () -> GatewayTls.resolve(
        settings(true, true, state.resolve("no.crt"), state.resolve("no.key"), state.resolve("no-ca.crt")), state, List.of()));
    assertTrue(e.getMessage().contains("no.crt"), e.getMessage());
  }
}
