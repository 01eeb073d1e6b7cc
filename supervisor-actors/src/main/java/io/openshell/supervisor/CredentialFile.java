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

  /** The longest credential accepted: the gateway mints 43 characters. */
  static final int MAX_BYTES = 4096;

  static String read(String source, InputStream stdin) {
    try {
      byte[] bytes = source.equals("-") ? stdin.readNBytes(MAX_BYTES + 1) : readFile(Path.of(source));
      if (bytes.length > MAX_BYTES) {
        throw new IllegalArgumentException("sandbox credential from " + describe(source) + " is longer than "
            + MAX_BYTES + " bytes");
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

  private static byte[] readFile(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(MAX_BYTES + 1);
    }
  }

  private static String describe(String source) {
    return source.equals("-") ? "stdin" : source;
  }
}
