package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AsynchronousChannelProvider;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * An accepted Unix-socket connection presented as an {@link AsynchronousSocketChannel}. MINA keeps
 * at most one read and one write outstanding per session; each runs as a blocking call on {@code
 * io}. A blocking {@link SocketChannel} reads and writes under separate locks, so a pending read
 * never holds up a write (full-duplex bulk data does not stall).
 */
final class UnixSocketAdapter extends AsynchronousSocketChannel {
  private final SocketChannel channel;
  private final ExecutorService io;

  UnixSocketAdapter(SocketChannel channel, ExecutorService io) {
    super(AsynchronousChannelProvider.provider());
    this.channel = channel;
    this.io = io;
  }

  @Override
  public <A> void read(ByteBuffer dst, long timeout, TimeUnit unit, A attachment,
      CompletionHandler<Integer, ? super A> handler) {
    onIoThread(() -> channel.read(dst), attachment, handler);
  }

  @Override
  public <A> void write(ByteBuffer src, long timeout, TimeUnit unit, A attachment,
      CompletionHandler<Integer, ? super A> handler) {
    onIoThread(() -> channel.write(src), attachment, handler);
  }

  @Override
  public Future<Integer> read(ByteBuffer dst) {
    CompletableFuture<Integer> result = new CompletableFuture<>();
    read(dst, 0, TimeUnit.MILLISECONDS, null, completing(result));
    return result;
  }

  @Override
  public Future<Integer> write(ByteBuffer src) {
    CompletableFuture<Integer> result = new CompletableFuture<>();
    write(src, 0, TimeUnit.MILLISECONDS, null, completing(result));
    return result;
  }

  @Override
  public <A> void read(ByteBuffer[] dsts, int offset, int length, long timeout, TimeUnit unit, A attachment,
      CompletionHandler<Long, ? super A> handler) {
    onIoThread(() -> channel.read(dsts, offset, length), attachment, handler);
  }

  @Override
  public <A> void write(ByteBuffer[] srcs, int offset, int length, long timeout, TimeUnit unit, A attachment,
      CompletionHandler<Long, ? super A> handler) {
    onIoThread(() -> channel.write(srcs, offset, length), attachment, handler);
  }

  private interface BlockingCall<N> {
    N run() throws IOException;
  }

  /** Runs one blocking call on the I/O pool and reports it to MINA's handler. */
  private <N, A> void onIoThread(BlockingCall<N> call, A attachment, CompletionHandler<N, ? super A> handler) {
    io.execute(() -> {
      N result;
      try {
        result = call.run();
      } catch (Throwable e) {
        handler.failed(e, attachment);
        return;
      }
      handler.completed(result, attachment);
    });
  }

  private static CompletionHandler<Integer, Object> completing(CompletableFuture<Integer> result) {
    return new CompletionHandler<>() {
      @Override
      public void completed(Integer n, Object attachment) {
        result.complete(n);
      }

      @Override
      public void failed(Throwable failure, Object attachment) {
        result.completeExceptionally(failure);
      }
    };
  }

  @Override
  public AsynchronousSocketChannel bind(SocketAddress local) {
    throw new UnsupportedOperationException("an accepted Unix socket is already bound");
  }

  @Override
  public <A> void connect(SocketAddress remote, A attachment, CompletionHandler<Void, ? super A> handler) {
    throw new UnsupportedOperationException("an accepted Unix socket is already connected");
  }

  @Override
  public Future<Void> connect(SocketAddress remote) {
    throw new UnsupportedOperationException("an accepted Unix socket is already connected");
  }

  @Override
  public <T> AsynchronousSocketChannel setOption(SocketOption<T> name, T value) {
    return this;
  }

  @Override
  public <T> T getOption(SocketOption<T> name) {
    return null;
  }

  @Override
  public Set<SocketOption<?>> supportedOptions() {
    return Set.of();
  }

  @Override
  public AsynchronousSocketChannel shutdownInput() throws IOException {
    channel.shutdownInput();
    return this;
  }

  @Override
  public AsynchronousSocketChannel shutdownOutput() throws IOException {
    channel.shutdownOutput();
    return this;
  }

  @Override
  public SocketAddress getRemoteAddress() {
    return UnixServerSocketAdapter.PLACEHOLDER_ADDRESS;
  }

  @Override
  public SocketAddress getLocalAddress() {
    return UnixServerSocketAdapter.PLACEHOLDER_ADDRESS;
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
