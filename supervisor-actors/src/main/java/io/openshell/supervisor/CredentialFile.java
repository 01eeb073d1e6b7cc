package io.openshell.supervisor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the sandbox credential the compute driver handed over: from stdin ("-", the process driver:
 * no file for the sandbox's programs to find) or from a file (the VM driver's 0600 file in the guest).
 */
final class CredentialFile {
  private CredentialFile() {}

  /** {@code maxBytes}: {@code openshell.supervisor.credential-max-bytes} (the gateway mints 43 characters). */
  static String read(String source, InputStream stdin, int maxBytes) {
    try {
      byte[] bytes = source.equals("-") ? stdin.readNBytes(maxBytes + 1) : readFile(Path.of(source), maxBytes);
      if (bytes.length > maxBytes) {
        throw new IllegalArgumentException("sandbox credential from " + describe(source) + " is longer than "
            + maxBytes + " bytes (openshell.supervisor.credential-max-bytes)");
      }
      String credential = new String(bytes, StandardCharsets.UTF_8).trim();
      if (credential.isEmpty()) {
        throw new IllegalArgumentException("sandbox credential from " + describe(source) + " is empty");
      }
      return credential;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the sandbox credential from " + describe(source) + ": " + e.getMessage(), e);
    }
  }

  private static byte[] readFile(Path path, int maxBytes) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(maxBytes + 1);
    }
  }

  private static String describe(String source) {
    return source.equals("-") ? "stdin" : source;
  }
}
