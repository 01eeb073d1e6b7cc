package io.openshell.client.sshsession;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * Minted sessions remembered per gateway name and sandbox name, one file each under
 * {@code <state>/ssh-sessions/} (directory 0700, files 0600: they hold tokens). ssh starts a new proxy for
 * every connection; the cache lets all but the first skip the gRPC round trips.
 */
public final class SshSessionCache {
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  private final Path dir;

  public SshSessionCache(Path dir) {
    this.dir = dir;
  }

  /** The cached session when it is intact, for this gateway and sandbox, and not about to expire. */
  public Optional<SshSession> load(String gatewayName, String sandboxName, long nowMs) {
    Path file = fileFor(gatewayName, sandboxName);
    if (!Files.isRegularFile(file)) return Optional.empty();
    Properties stored = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      stored.load(reader);
      if (!gatewayName.equals(stored.getProperty("gateway")) || !sandboxName.equals(stored.getProperty("sandbox"))) {
        return Optional.empty();
      }
      SshSession session = SshSession.validated("the cached SSH session " + file, stored.getProperty("sandbox_id"),
          stored.getProperty("token"), stored.getProperty("host"), Long.parseLong(stored.getProperty("port", "0")),
          stored.getProperty("scheme"), stored.getProperty("connect_path"),
          Long.parseLong(stored.getProperty("expires_at_ms", "0")));
      return session.usableAt(nowMs) ? Optional.of(session) : Optional.empty();
    } catch (IOException | RuntimeException unusable) {
      // A torn or edited file is only a miss: minting again replaces it.
      return Optional.empty();
    }
  }

  public void store(String gatewayName, String sandboxName, SshSession session) {
    Properties stored = new Properties();
    stored.setProperty("gateway", gatewayName);
    stored.setProperty("sandbox", sandboxName);
    stored.setProperty("sandbox_id", session.sandboxId());
    stored.setProperty("token", session.token());
    stored.setProperty("host", session.host());
    stored.setProperty("port", Integer.toString(session.port()));
    stored.setProperty("scheme", session.scheme());
    stored.setProperty("connect_path", session.connectPath());
    stored.setProperty("expires_at_ms", Long.toString(session.expiresAtMs()));
    try {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
      Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
      // Created 0600 before the token is written, then renamed into place: never a readable or torn file.
      Path temporary = Files.createTempFile(dir, ".session-", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
      try {
        try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
          stored.store(writer, "openshell SSH session (contains a token; keep private)");
        }
        try {
          Files.move(temporary, fileFor(gatewayName, sandboxName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temporary, fileFor(gatewayName, sandboxName), StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException e) {
      // Only a lost optimisation: the next connection mints again.
    }
  }

  public void forget(String gatewayName, String sandboxName) {
    try {
      Files.deleteIfExists(fileFor(gatewayName, sandboxName));
    } catch (IOException ignored) {
      // a stale entry is rejected by the gateway (401) and minted again
    }
  }

  /**
   * A readable, file-name-safe name; the hash keeps distinct names distinct after sanitising, and the stored
   * gateway and sandbox are compared on load, so a collision is only a miss.
   */
  Path fileFor(String gatewayName, String sandboxName) {
    String key = gatewayName + "|" + sandboxName;
    StringBuilder name = new StringBuilder();
    for (int i = 0; i < key.length() && name.length() < 100; i++) {
      char c = key.charAt(i);
      boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      name.append(safe ? c : '_');
    }
    name.append('-').append(Integer.toHexString(key.hashCode())).append(".session");
    return dir.resolve(name.toString());
  }
}
