package io.openshell.it;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** An echo peer on a Unix socket, standing where the sandbox's SSH daemon would (one thread per connection). */
final class UnixEchoServer implements AutoCloseable {
  final Path path;
  final AtomicInteger connections = new AtomicInteger();
  private final ServerSocketChannel server;

  UnixEchoServer(Path path) throws IOException {
    this.path = path;
    Files.deleteIfExists(path);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path), 2048);
    Thread acceptor = new Thread(this::acceptLoop, "unix-echo-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      try {
        SocketChannel client = server.accept();
        connections.incrementAndGet();
        Thread echo = new Thread(() -> echo(client), "unix-echo");
        echo.setDaemon(true);
        echo.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void echo(SocketChannel client) {
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    try (client) {
      while (client.read(buffer) >= 0) {
        buffer.flip();
        while (buffer.hasRemaining()) client.write(buffer);
        buffer.clear();
      }
      client.shutdownOutput();
    } catch (IOException ignored) {
      // the relay went away
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    Files.deleteIfExists(path);
  }
}
