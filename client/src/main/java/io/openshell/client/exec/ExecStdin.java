package io.openshell.client.exec;

import io.openshell.client.connection.CliException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The stdin an ExecSandbox call carries: ExecSandbox takes it in one message, so it is read whole
 * and refused above the limit, before anything runs in the sandbox.
 */
public final class ExecStdin {
  /** Upstream's limit for exec stdin. */
  public static final int MAX_BYTES = 4 * 1024 * 1024;

  private ExecStdin() {}

  public static byte[] read(InputStream in, int maxBytes) {
    try {
      byte[] bytes = in.readNBytes(maxBytes + 1);
      if (bytes.length > maxBytes) {
        throw new CliException("stdin is larger than " + maxBytes + " bytes (" + (maxBytes >> 20)
            + " MiB), the most 'sandbox exec' can pass to a command; copy the data in with 'openshell sandbox upload' "
            + "and read it from a file instead", 2);
      }
      return bytes;
    } catch (IOException e) {
      throw new CliException("could not read stdin: " + e.getMessage());
    }
  }

  /** True when this process's stdin is a terminal (then it is not read: it would wait for typing). */
  public static boolean isTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
