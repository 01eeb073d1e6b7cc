package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.sshd.common.FactoryManager;
import org.apache.sshd.common.io.AbstractIoServiceFactoryFactory;
import org.apache.sshd.common.io.IoAcceptor;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.io.nio2.Nio2Acceptor;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactory;
import org.apache.sshd.common.util.threads.CloseableExecutorService;
import org.apache.sshd.common.util.threads.ThreadUtils;

/**
 * MINA's NIO2 transport with one change: its acceptor listens on a Unix socket (NIO2 has no
 * asynchronous Unix server channel). Connectors stay the stock TCP ones, which {@code direct-tcpip}
 * uses to reach loopback services in the sandbox.
 */
final class UnixSocketIoServices extends AbstractIoServiceFactoryFactory {
  private final Path socketPath;

  UnixSocketIoServices(Path socketPath) {
    super(null);
    this.socketPath = socketPath;
  }

  @Override
  public IoServiceFactory create(FactoryManager manager) {
    return new Factory(manager, newExecutor(), newExecutor(), socketPath);
  }

  private static final class Factory extends Nio2ServiceFactory {
    private final Path socketPath;
    // Blocking accept, read and write calls, one thread each while they wait; daemon threads.
    private final ExecutorService unixIo = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "ssh-unix-io");
      thread.setDaemon(true);
      return thread;
    });
    private final CloseableExecutorService resuming = ThreadUtils.newCachedThreadPool("ssh-unix-resume");
    private final AsynchronousChannelGroup group;

    Factory(FactoryManager manager, CloseableExecutorService nio2, CloseableExecutorService resume, Path socketPath) {
      super(manager, nio2, resume);
      this.socketPath = socketPath;
      try {
        // Never used for I/O (the adapters run on unixIo); MINA only requires one to exist.
        this.group = AsynchronousChannelGroup.withThreadPool(Executors.newSingleThreadExecutor(runnable -> {
          Thread thread = new Thread(runnable, "ssh-unix-group");
          thread.setDaemon(true);
          return thread;
        }));
      } catch (IOException e) {
        throw new IllegalStateException("cannot create the SSH daemon's channel group", e);
      }
    }

    @Override
    public IoAcceptor createAcceptor(IoHandler handler) {
      Nio2Acceptor acceptor = new Nio2Acceptor(this, getFactoryManager(), handler, group, resuming) {
        @Override
        protected AsynchronousServerSocketChannel openAsynchronousServerSocketChannel(SocketAddress address,
            AsynchronousChannelGroup ignored) throws IOException {
          return new UnixServerSocketAdapter(socketPath, unixIo);
        }
      };
      return autowireCreatedService(acceptor);
    }

    @Override
    protected void doCloseImmediately() {
      try {
        super.doCloseImmediately();
      } finally {
        unixIo.shutdownNow();
        resuming.shutdownNow();
        try {
          group.shutdownNow();
        } catch (IOException e) {
          // Its single idle thread goes with the JVM (daemon).
        }
      }
    }
  }
}
