package io.openshell.it;

import java.io.IOException;
import java.net.Socket;

/**
 * The floor under {@code ssh-proxy}'s start-up: a JVM that only dials a port and writes one byte, with JDK
 * classes alone. CliStartupBenchmark runs it with the proxy's JVM flags as the same-run baseline.
 */
public final class FirstByteDialer {
  private FirstByteDialer() {}

  public static void main(String[] args) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(args[0]))) {
      socket.getOutputStream().write('C');
      socket.getInputStream().read();
    }
  }
}
