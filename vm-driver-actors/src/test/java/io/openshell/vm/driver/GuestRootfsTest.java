package io.openshell.vm.driver;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.vm.driver.VmDriverSettings.TlsMaterial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestRootfsTest {

  @Test
  void tlsMaterialIsCopiedWithTheKeyReadableByItsOwnerOnly(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("ca.pem"), "CA");
    Files.writeString(dir.resolve("cert.pem"), "CERT");
    Path key = dir.resolve("key.pem");
    Files.writeString(key, "KEY");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    Path into = dir.resolve("tls");
    GuestRootfs.copyTls(new TlsMaterial(dir.resolve("ca.pem").toString(), dir.resolve("cert.pem").toString(), key.toString()), into);
    assertEquals("CA", Files.readString(into.resolve("ca.crt")));
    assertEquals("CERT", Files.readString(into.resolve("tls.crt")));
    assertEquals("KEY", Files.readString(into.resolve("tls.key")));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(into.resolve("tls.key"))));
  }

  @Test
  void noTlsMaterialWritesNoTlsDirectory(@TempDir Path dir) throws Exception {
    GuestRootfs.copyTls(TlsMaterial.NONE, dir.resolve("tls"));
    assertFalse(Files.exists(dir.resolve("tls")));
  }

  @Test
  void aCertificateWithoutItsKeyIsRejectedNamingWhatIsMissing(@TempDir Path dir) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GuestRootfs.copyTls(new TlsMaterial("/ca.pem", "/cert.pem", ""), dir.resolve("tls")));
    assertTrue(e.getMessage().contains("cert and key together"), e.getMessage());
  }

  @Test
  void aCaAloneIsCopiedWithoutClientFiles(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("ca.pem"), "CA");
    GuestRootfs.copyTls(new TlsMaterial(dir.resolve("ca.pem").toString(), "", ""), dir.resolve("tls"));
    assertEquals("CA", Files.readString(dir.resolve("tls").resolve("ca.crt")));
    assertFalse(Files.exists(dir.resolve("tls").resolve("tls.key")));
    Map<String, String> env = GuestEnvironment.of(io.openshell.protocol.compute.v1.DriverSandbox.newBuilder().setId("i").setName("n").build(),
        "https://host.openshell.internal:1", new TlsMaterial(dir.resolve("ca.pem").toString(), "", ""));
    assertEquals("/opt/openshell/tls/ca.crt", env.get("OPENSHELL_TLS_CA"));
    assertFalse(env.containsKey("OPENSHELL_TLS_CERT"));
  }

  @Test
  void theShareHoldsTheInitItsEnvironmentAndAGeneratedEtcNotTheHosts(@TempDir Path dir) throws Exception {
    VmDriverSettings settings = TestSettings.of(dir, "http://127.0.0.1:1", Duration.ofSeconds(5));
    Path rootfs = dir.resolve("rootfs");
    GuestRootfs.write(rootfs, Map.of("OPENSHELL_SANDBOX_ID", "id-1"), List.of("/usr/bin/java", "-jar", "/x.jar"), settings);
    assertTrue(Files.readString(rootfs.resolve("init")).contains("switch_root"));
    String env = Files.readString(rootfs.resolve("guest.env"));
    assertTrue(env.contains("export OPENSHELL_SANDBOX_ID='id-1'"), env);
    assertTrue(env.contains("GUEST_COMMAND='/usr/bin/java -jar /x.jar'"), env);
    assertTrue(env.contains("GUEST_HOST_ALIAS='host.openshell.internal'"), env);
    assertTrue(Files.readString(rootfs.resolve("etc/passwd")).contains("sandbox:x:10001:10001:sandbox:/sandbox:"));
    assertFalse(Files.exists(rootfs.resolve("etc/shadow")));
    assertEquals("nameserver 10.0.2.3\n", Files.readString(rootfs.resolve("etc/resolv.conf")));
  }

  @Test
  void theCredentialIsWrittenOwnerOnlyAndNeverIntoTheGuestEnvironmentFile(@TempDir Path dir) throws Exception {
    VmDriverSettings settings = TestSettings.of(dir, "http://127.0.0.1:1", Duration.ofSeconds(5));
    Path rootfs = dir.resolve("rootfs");
    GuestRootfs.write(rootfs, Map.of("OPENSHELL_SANDBOX_CREDENTIAL_FILE", GuestEnvironment.CREDENTIAL_FILE),
        List.of("/usr/bin/java", "-jar", "/x.jar"), settings, "secret-credential-1234");
    Path credential = rootfs.resolve("credential");
    assertEquals("secret-credential-1234\n", Files.readString(credential));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(credential)));
    assertFalse(Files.readString(rootfs.resolve("guest.env")).contains("secret-credential"));
    String init = Files.readString(rootfs.resolve("init"));
    assertTrue(init.contains("cp $share/credential $root/opt/openshell/credential/supervisor"), "the guest init installs it");
    assertTrue(init.contains("chmod 0600 $root/opt/openshell/credential/supervisor"));

    GuestRootfs.write(rootfs, Map.of(), List.of("/usr/bin/java"), settings, "");
    assertFalse(Files.exists(credential), "a sandbox without a credential leaves no stale one behind");
  }
}
