package io.openshell.it;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Unix-socket peer for throughput runs: each connection first sends an 8-byte count N, then N bytes;
 * the sink reads them all and answers one byte. A negative count -N asks the other way: the sink sends
 * N random bytes and closes. Both the relay and the socat chain end here.
 */
final class CountingSink implements AutoCloseable {
  final Path path;
  private final ServerSocketChannel server;

  CountingSink(Path path) throws IOException {
    this.path = path;
    Files.deleteIfExists(path);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path), 1024);
    Thread acceptor = new Thread(() -> {
      while (server.isOpen()) {
        try {
          SocketChannel client = server.accept();
          Thread worker = new Thread(() -> drain(client), "counting-sink");
          worker.setDaemon(true);
          worker.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "counting-sink-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void drain(SocketChannel client) {
    try (client) {
      ByteBuffer header = ByteBuffer.allocate(8);
      while (header.hasRemaining()) if (client.read(header) < 0) return;
      long remaining = header.flip().getLong();
      if (remaining < 0) {
        send(client, -remaining);
        return;
      }
      ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
      while (remaining > 0) {
        buffer.clear();
        int n = client.read(buffer);
        if (n < 0) return;
        remaining -= n;
      }
      client.write(ByteBuffer.wrap(new byte[] {1}));
    } catch (IOException ignored) {
      // the sender went away
    }
  }

  private static void send(SocketChannel client, long bytes) throws IOException {
    byte[] block = new byte[256 * 1024];
    new java.util.Random(bytes).nextBytes(block);
    for (long left = bytes; left > 0; ) {
      ByteBuffer buffer = ByteBuffer.wrap(block, 0, (int) Math.min(block.length, left));
      while (buffer.hasRemaining()) left -= client.write(buffer);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    Files.deleteIfExists(path);
  }
}
