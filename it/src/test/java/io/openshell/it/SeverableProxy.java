package io.openshell.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A loopback TCP forwarder the test can cut: {@link #severAll()} closes every connection through it
 * (as a network failure would) while it keeps accepting new ones. Supervisors dial the gateway through
 * it; the CLI does not, so a follower on the CLI side sees only what the reconnect does to the logs.
 */
final class SeverableProxy implements AutoCloseable {
  private final ServerSocket server;
  private final List<Socket> open = new ArrayList<>();
  private volatile int targetPort;

  SeverableProxy() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "severable-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  void forwardTo(int port) {
    targetPort = port;
  }

  void severAll() throws IOException {
    List<Socket> cut;
    synchronized (open) {
      cut = new ArrayList<>(open);
      open.clear();
    }
    for (Socket socket : cut) socket.close();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 10_000);
        synchronized (open) {
          open.add(client);
          open.add(upstream);
        }
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        // closed, or the gateway is not there yet: the client sees the connection fail and retries
      }
    }
  }

  private static void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) out.write(buffer, 0, n);
      } catch (IOException ignored) {
        // severed or closed
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }, "severable-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    server.close();
    severAll();
  }
}
