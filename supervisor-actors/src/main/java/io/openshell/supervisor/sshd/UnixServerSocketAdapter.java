package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AsynchronousChannelProvider;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A Unix-socket server presented as the {@link AsynchronousServerSocketChannel} MINA's NIO2
 * acceptor expects: {@code bind} ignores the inet address MINA passes and binds {@link
 * SocketPermissions#bindPrivately the private socket path}; each {@code accept} blocks on {@code
 * io}, one accept at a time, as MINA issues them.
 */
final class UnixServerSocketAdapter extends AsynchronousServerSocketChannel {
  /** What MINA sees as the addresses of a Unix socket, whose code casts them to inet addresses. */
  static final InetSocketAddress PLACEHOLDER_ADDRESS = new InetSocketAddress(InetAddress.getLoopbackAddress(), 22);

  private final Path socketPath;
  private final ExecutorService io;
  private final ServerSocketChannel server;
  /** Set once our socket is at the path: only then is the path ours to remove. */
  private volatile boolean bound;

  UnixServerSocketAdapter(Path socketPath, ExecutorService io) throws IOException {
    super(AsynchronousChannelProvider.provider());
    this.socketPath = socketPath;
    this.io = io;
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
  }

  @Override
  public AsynchronousServerSocketChannel bind(SocketAddress ignoredInetAddress, int backlog) throws IOException {
    SocketPermissions.bindPrivately(server, socketPath, backlog);
    bound = true;
    return this;
  }

  @Override
  public <T> AsynchronousServerSocketChannel setOption(SocketOption<T> name, T value) {
    // Inet options (SO_REUSEADDR, buffer sizes) do not apply to a Unix socket path.
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
  public <A> void accept(A attachment, CompletionHandler<AsynchronousSocketChannel, ? super A> handler) {
    io.execute(() -> {
      SocketChannel accepted;
      try {
        accepted = server.accept();
      } catch (Throwable e) {
        handler.failed(e, attachment);
        return;
      }
      handler.completed(new UnixSocketAdapter(accepted, io), attachment);
    });
  }

  @Override
  public Future<AsynchronousSocketChannel> accept() {
    CompletableFuture<AsynchronousSocketChannel> result = new CompletableFuture<>();
    accept(null, new CompletionHandler<AsynchronousSocketChannel, Object>() {
      @Override
      public void completed(AsynchronousSocketChannel channel, Object attachment) {
        result.complete(channel);
      }

      @Override
      public void failed(Throwable failure, Object attachment) {
        result.completeExceptionally(failure);
      }
    });
    return result;
  }

  @Override
  public SocketAddress getLocalAddress() {
    return PLACEHOLDER_ADDRESS;
  }

  /** The path clients connect to. */
  UnixDomainSocketAddress socketAddress() {
    return UnixDomainSocketAddress.of(socketPath);
  }

  @Override
  public boolean isOpen() {
    return server.isOpen();
  }

  @Override
  public void close() throws IOException {
    server.close();
    if (bound) SocketPermissions.removeSocket(socketPath);
  }
}
