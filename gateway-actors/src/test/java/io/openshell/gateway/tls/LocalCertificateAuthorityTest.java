package io.openshell.gateway.tls;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCertificateAuthorityTest {

  @Test
  void firstStartCreatesACaAServerCertificateForLocalNamesAndAUserClientCertificate(@TempDir Path state) throws Exception {
    LocalCertificateAuthority.Material material = new LocalCertificateAuthority(state.resolve("tls"), Clock.systemUTC())
        .ensure(List.of("gw.example.test", "192.0.2.7"));
    X509Certificate ca = PemFiles.readCertificates(material.caCert()).get(0);
    X509Certificate server = PemFiles.readCertificates(material.serverCert()).get(0);
    X509Certificate client = PemFiles.readCertificates(material.clientCert()).get(0);
    server.verify(ca.getPublicKey());
    client.verify(ca.getPublicKey());
    assertTrue(ca.getBasicConstraints() >= 0, "the CA is a CA");
    assertEquals(-1, server.getBasicConstraints(), "leaves are not CAs");

    Set<String> sans = server.getSubjectAlternativeNames().stream().map(entry -> String.valueOf(entry.get(1)))
        .collect(Collectors.toSet());
    for (String name : List.of("localhost", "127.0.0.1", "host.openshell.internal", "10.0.2.2", "gw.example.test", "192.0.2.7")) {
      assertTrue(sans.contains(name), name + " in " + sans);
    }
    assertTrue(sans.contains("0:0:0:0:0:0:0:1"), "::1 in " + sans);
    assertTrue(server.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "server auth");
    assertTrue(client.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "client auth");
    assertTrue(client.getSubjectX500Principal().getName().contains("OU=" + UserAuthorization.USER_UNIT),
        client.getSubjectX500Principal().getName());
  }

  @Test
  void everyKeyFileIsReadableByItsOwnerOnlyAndTheDirectoryToo(@TempDir Path state) throws Exception {
    Path dir = state.resolve("tls");
    new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(List.of());
    for (String key : List.of("ca.key", "server.key", "client.key")) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(key))), key);
    }
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    assertTrue(Files.readString(dir.resolve("client.key")).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8, which the JDK reads");
  }

  @Test
  void aRestartReusesTheCaAndCertificates(@TempDir Path state) throws Exception {
    Path dir = state.resolve("tls");
    new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(List.of());
    List<String> before = contents(dir);
    new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(List.of());
    assertEquals(before, contents(dir));
  }

  @Test
  void aNewNameReissuesTheServerCertificateWithTheSameCa(@TempDir Path state) throws Exception {
    Path dir = state.resolve("tls");
    new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(List.of());
    String ca = Files.readString(dir.resolve("ca.crt"));
    String client = Files.readString(dir.resolve("client.crt"));
    String server = Files.readString(dir.resolve("server.crt"));
    new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(List.of("other.example.test"));
    assertEquals(ca, Files.readString(dir.resolve("ca.crt")));
    assertEquals(client, Files.readString(dir.resolve("client.crt")));
    assertNotEquals(server, Files.readString(dir.resolve("server.crt")));
  }

  @Test
  void leavesCloseToTheirEndAreIssuedAgainAtStartButTheCaStays(@TempDir Path state) throws Exception {
    Path dir = state.resolve("tls");
    Instant created = Instant.parse("2026-01-01T00:00:00Z");
    new LocalCertificateAuthority(dir, Clock.fixed(created, ZoneOffset.UTC)).ensure(List.of());
    String ca = Files.readString(dir.resolve("ca.crt"));
    String client = Files.readString(dir.resolve("client.crt"));
    // One day inside the renewal window of a one-year leaf.
    Instant later = created.plus(LocalCertificateAuthority.LEAF_VALIDITY).minus(LocalCertificateAuthority.RENEW_BEFORE)
        .plus(Duration.ofDays(1));
    new LocalCertificateAuthority(dir, Clock.fixed(later, ZoneOffset.UTC)).ensure(List.of());
    assertEquals(ca, Files.readString(dir.resolve("ca.crt")));
    assertNotEquals(client, Files.readString(dir.resolve("client.crt")));
    // One day before the window: kept.
    String renewed = Files.readString(dir.resolve("client.crt"));
    new LocalCertificateAuthority(dir, Clock.fixed(later.plus(Duration.ofDays(1)), ZoneOffset.UTC)).ensure(List.of());
    assertEquals(renewed, Files.readString(dir.resolve("client.crt")));
  }

  private static List<String> contents(Path dir) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    for (String f : List.of("ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key")) {
      out.add(Files.readString(dir.resolve(f)));
    }
    return out;
  }
}
