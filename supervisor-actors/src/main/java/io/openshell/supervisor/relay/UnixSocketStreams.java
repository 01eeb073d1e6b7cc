package io.openshell.supervisor.relay;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Blocking streams over a connected Unix socket, for Pekko's StreamConverters (which run them on the
 * blocking-I/O dispatcher). They call {@link SocketChannel#read}/{@link SocketChannel#write} directly:
 * JDK 17's {@code Channels.newInputStream/newOutputStream} lock the same monitor for reads and writes,
 * so a blocked read would stall writes in the other direction (a full-duplex deadlock).
 */
final class UnixSocketStreams {
  private UnixSocketStreams() {}

  static SocketChannel connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return channel;
    } catch (IOException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * Connects without blocking, or returns null. The kernel completes a Unix-socket connect at once
   * while the daemon's accept backlog has room; a full backlog (EAGAIN) or any error is left to
   * {@link #connect}, which waits for room or reports the real error.
   */
  static SocketChannel connectNow(Path socket) {
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.configureBlocking(false);
      if (channel.connect(UnixDomainSocketAddress.of(socket))) {
        // The streams below block on reads and writes (on the blocking-I/O dispatcher).
        channel.configureBlocking(true);
        return channel;
      }
    } catch (IOException | RuntimeException e) {
      // connect() says why
    }
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // never connected
      }
    }
    return null;
  }

  static InputStream input(SocketChannel channel) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] bytes, int offset, int length) throws IOException {
        if (length == 0) return 0;
        return channel.read(ByteBuffer.wrap(bytes, offset, length));
      }

      @Override
      public void close() throws IOException {
        // Reading is over; the write side may still be in use (half-close).
        if (channel.isOpen()) channel.shutdownInput();
      }
    };
  }

  static OutputStream output(SocketChannel channel) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] bytes, int offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
        while (buffer.hasRemaining()) channel.write(buffer);
      }

      @Override
      public void close() throws IOException {
        // EOF toward the SSH daemon, which may still be sending its last output.
        if (channel.isOpen()) channel.shutdownOutput();
      }
    };
  }
}
