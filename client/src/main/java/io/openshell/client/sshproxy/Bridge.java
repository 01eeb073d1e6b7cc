package io.openshell.client.sshproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * Copies stdin to the tunnel and the tunnel to stdout until the gateway side ends. stdin EOF half-closes
 * the tunnel (ssh may still be reading the server's last bytes); the tunnel's end ends the proxy, since
 * ssh has nothing left to talk to.
 */
final class Bridge {
  private static final int CHUNK = 16 * 1024;

  private Bridge() {}

  /** Returns when the gateway closes its side; {@code afterHead} goes to stdout first. */
  static void run(Socket socket, byte[] afterHead, InputStream stdin, OutputStream stdout) throws IOException {
    if (afterHead.length > 0) {
      stdout.write(afterHead);
      stdout.flush();
    }
    // Daemon: a read blocked on stdin must not keep the proxy alive once the tunnel is gone.
    Thread upstream = new Thread(new Upstream(stdin, socket), "ssh-proxy-stdin");
    upstream.setDaemon(true);
    upstream.start();
    InputStream fromGateway = socket.getInputStream();
    byte[] chunk = new byte[CHUNK];
    for (int read; (read = fromGateway.read(chunk)) >= 0; ) {
      stdout.write(chunk, 0, read);
      stdout.flush();
    }
  }

  /** stdin → tunnel, then half-close. */
  private static final class Upstream implements Runnable {
    private final InputStream stdin;
    private final Socket socket;

    Upstream(InputStream stdin, Socket socket) {
      this.stdin = stdin;
      this.socket = socket;
    }

    @Override
    public void run() {
      try {
        OutputStream toGateway = socket.getOutputStream();
        byte[] chunk = new byte[CHUNK];
        for (int read; (read = stdin.read(chunk)) >= 0; ) {
          toGateway.write(chunk, 0, read);
          toGateway.flush();
        }
        socket.shutdownOutput();
      } catch (IOException | UnsupportedOperationException ended) {
        // The tunnel closed first (the main loop sees that and ends the proxy), or TLS refused the half-close.
      }
    }
  }
}
