package io.openshell.supervisor.relay;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Blocking reads and writes of a connected Unix socket as stream stages on the blocking-I/O dispatcher,
 * each relayed byte copied as little as the JDK allows. They call
 * {@link SocketChannel#read}/{@link SocketChannel#write} directly: JDK 17's
 * {@code Channels.newInputStream/newOutputStream} lock the same monitor for reads and writes, so a
 * blocked read would stall writes in the other direction (a full-duplex deadlock).
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

  /** Makes a stream element of the {@code length} bytes a read put into {@code array}, which the element may keep. */
  interface ElementOfRead<T> {
    T of(byte[] array, int length);
  }

  /**
   * The socket's bytes as they arrive, one element per read of at most {@code maxRead} bytes, read on
   * the blocking-I/O dispatcher ({@link Source#unfoldResource}'s) only when downstream asks: EOF
   * completes the source and shuts the socket's input down (the write side may still be in use:
   * half-close), a failed read fails it. Each read goes into a fresh array that its element keeps —
   * copying reads out of one reused buffer was a third of the supervisor's allocation in a bulk relay
   * (docs/benchmarks.md) — except a short read, which is copied to its size so that an interactive
   * session's keystrokes do not each hold a {@code maxRead} array while they wait downstream.
   */
  static <T> Source<T, NotUsed> reads(SocketChannel channel, int maxRead, ElementOfRead<T> element) {
    return Source.unfoldResource(() -> new Reader<>(channel, maxRead, element), Reader::next, Reader::close);
  }

  private static final class Reader<T> {
    private final SocketChannel channel;
    private final int maxRead;
    private final ElementOfRead<T> element;
    /** The array the next read goes into; null once an element took it. */
    private byte[] buffer;

    Reader(SocketChannel channel, int maxRead, ElementOfRead<T> element) {
      this.channel = channel;
      this.maxRead = maxRead;
      this.element = element;
    }

    Optional<T> next() throws IOException {
      if (buffer == null) buffer = new byte[maxRead];
      int n = channel.read(ByteBuffer.wrap(buffer));
      if (n < 0) return Optional.empty();
      if (n < maxRead / 4) return Optional.of(element.of(Arrays.copyOf(buffer, n), n));
      byte[] taken = buffer;
      buffer = null;
      return Optional.of(element.of(taken, n));
    }

    void close() throws IOException {
      // Reading is over; the write side may still be in use (half-close).
      if (channel.isOpen()) channel.shutdownInput();
    }
  }

  /**
   * Writes each element whole to the socket on the blocking-I/O dispatcher ({@code mapWithResource}'s)
   * as one gather write of its pieces: a batch of frames is written without first being copied into one
   * array (Pekko's OutputStream sink compacted every batch). The end of the stream shuts the socket's
   * output down (EOF to the daemon, which may still be sending: half-close), as does a failure; the
   * materialized stage completes after that.
   */
  static Sink<ByteString, CompletionStage<Done>> writes(SocketChannel channel) {
    return Flow.<ByteString>create()
        .mapWithResource(() -> channel, UnixSocketStreams::writeWhole, UnixSocketStreams::shutdownOutput)
        .toMat(Sink.ignore(), Keep.right());
  }

  private static NotUsed writeWhole(SocketChannel channel, ByteString bytes) throws IOException {
    List<ByteBuffer> pieces = new ArrayList<>();
    bytes.getByteBuffers().forEach(pieces::add);
    ByteBuffer[] buffers = pieces.toArray(new ByteBuffer[0]);
    for (long left = bytes.size(); left > 0; ) left -= channel.write(buffers);
    return NotUsed.getInstance();
  }

  private static Optional<NotUsed> shutdownOutput(SocketChannel channel) throws IOException {
    if (channel.isOpen()) channel.shutdownOutput();
    return Optional.empty();
  }
}
