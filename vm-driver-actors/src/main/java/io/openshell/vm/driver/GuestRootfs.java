package io.openshell.vm.driver;

import io.openshell.vm.driver.VmDriverSettings.TlsMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * Writes a sandbox's read-only "openshell" share: the second-stage init script, its environment,
 * a generated {@code /etc} (never the host's: it holds secrets) and the TLS material (key 0600).
 */
public final class GuestRootfs {
  private GuestRootfs() {}

  static final String INIT_RESOURCE = "/io/openshell/vm/guest/openshell-init";

  public static void write(Path rootfs, Map<String, String> guestEnv, List<String> guestCommand, VmDriverSettings settings)
      throws IOException {
    write(rootfs, guestEnv, guestCommand, settings, "");
  }

  /**
   * With a non-empty {@code supervisorCredential}: also {@code credential} (0600), which the guest
   * init copies to {@link GuestEnvironment#CREDENTIAL_FILE} (0600, the supervisor's user).
   */
  public static void write(Path rootfs, Map<String, String> guestEnv, List<String> guestCommand, VmDriverSettings settings,
      String supervisorCredential) throws IOException {
    Files.createDirectories(rootfs.resolve("etc"));
    try (InputStream init = GuestRootfs.class.getResourceAsStream(INIT_RESOURCE)) {
      if (init == null) throw new IllegalStateException("missing resource " + INIT_RESOURCE);
      Files.copy(init, rootfs.resolve("init"), StandardCopyOption.REPLACE_EXISTING);
    }
    String boot = GuestEnvironment.exports(guestEnv)
        + "GUEST_ADDRESS=" + GuestEnvironment.quote(settings.guestAddress()) + "\n"
        + "GUEST_HOST_ADDRESS=" + GuestEnvironment.quote(settings.hostAddress()) + "\n"
        + "GUEST_HOST_ALIAS=" + GuestEnvironment.quote(settings.hostAlias()) + "\n"
        + "GUEST_COMMAND=" + GuestEnvironment.quote(String.join(" ", guestCommand)) + "\n";
    Files.writeString(rootfs.resolve("guest.env"), boot, StandardCharsets.UTF_8);
    Path etc = rootfs.resolve("etc");
    Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\nsandbox:x:10001:10001:sandbox:/sandbox:/bin/bash\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\nsandbox:x:10001:\n");
    Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost\n::1 localhost\n");
    Files.writeString(etc.resolve("hostname"), "sandbox\n");
    Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
    // QEMU's user-mode network answers DNS at the host address + 1 (10.0.2.3 for 10.0.2.2).
    Files.writeString(etc.resolve("resolv.conf"), "nameserver " + dnsAddress(settings.hostAddress()) + "\n");
    // The JDK's conf/ links into /etc/java-<n>-openjdk; copy that tree so the guest JVM finds it.
    try (var trees = Files.list(Path.of("/etc"))) {
      for (Path tree : (Iterable<Path>) trees.filter(p -> p.getFileName().toString().matches("java-\\d+-openjdk"))::iterator) {
        copyTree(tree, etc.resolve(tree.getFileName()));
      }
    }
    copyTls(settings.tls(), rootfs.resolve("tls"));
    writeCredential(supervisorCredential, rootfs.resolve("credential"));
  }

  /** Created 0600 before anything is written, so the secret never exists in a wider file. */
  static void writeCredential(String credential, Path file) throws IOException {
    Files.deleteIfExists(file);
    if (credential == null || credential.isEmpty()) return;
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, credential + "\n", StandardCharsets.UTF_8);
  }

  static String dnsAddress(String hostAddress) {
    int dot = hostAddress.lastIndexOf('.');
    return hostAddress.substring(0, dot + 1) + (Integer.parseInt(hostAddress.substring(dot + 1)) + 1);
  }

  /**
   * Copies the CA as ca.crt and, when given, a client certificate and key as tls.crt, tls.key; the key
   * readable by its owner only. A CA alone is enough to verify the gateway.
   */
  public static void copyTls(TlsMaterial tls, Path into) throws IOException {
    if (!tls.present()) return;
    if (tls.ca().isEmpty() || tls.cert().isEmpty() != tls.key().isEmpty()) {
      throw new IllegalArgumentException("VM driver TLS needs ca, and cert and key together or neither (got ca='" + tls.ca()
          + "', cert='" + tls.cert() + "', key='" + tls.key() + "')");
    }
    Files.createDirectories(into);
    Files.copy(Path.of(tls.ca()), into.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
    if (tls.cert().isEmpty()) return;
    Files.copy(Path.of(tls.cert()), into.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
    Path key = into.resolve("tls.key");
    Files.deleteIfExists(key);
    Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(key, Files.readAllBytes(Path.of(tls.key())));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectories(target);
        } else {
          try {
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
          } catch (UncheckedIOException e) {
            throw e.getCause();
          }
        }
      }
    }
  }
}
