package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.password.UserAuthPasswordFactory;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.forward.TcpForwardingFilter;
import org.apache.sshd.server.forward.ForwardingFilter;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.apache.sshd.common.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's SSH daemon: MINA SSHD on a private Unix socket (no TCP listener), a new Ed25519 host
 * key per start, auth none or any public key (authorization is the gateway's token plus the
 * socket's permissions), exec and shell through {@link ChannelProgram}, SFTP (so {@code scp} and
 * {@code sftp} work), and {@code direct-tcpip} to loopback targets only.
 */
public final class SandboxSshDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxSshDaemon.class);

  private final SshServer server;
  private final ExecutorService pumps;
  private final ScheduledExecutorService timer;
  private final SshDaemonSettings settings;
  /** Set once listening: a failed start must not remove whatever is at the socket path. */
  private volatile boolean listening;

  private SandboxSshDaemon(SshServer server, ExecutorService pumps, ScheduledExecutorService timer, SshDaemonSettings settings) {
    this.server = server;
    this.pumps = pumps;
    this.timer = timer;
    this.settings = settings;
  }

  /**
   * Starts listening on the settings' socket, or fails with "SSH server did not start listening
   * within …" when that takes longer than the listen timeout.
   */
  public static SandboxSshDaemon start(SshDaemonSettings settings) throws IOException {
    ExecutorService pumps = Executors.newCachedThreadPool(daemonThreads("ssh-channel-io"));
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("ssh-hangup"));
    SshServer server = SshServer.setUpDefaultServer();
    server.setIoServiceFactoryFactory(new UnixSocketIoServices(settings.socketPath()));
    // Ignored by the Unix acceptor; MINA rejects port 0 for a non-inet bound address.
    server.setHost("127.0.0.1");
    server.setPort(22);
    server.setKeyPairProvider(KeyPairProvider.wrap(newHostKey()));
    // Auth "none" succeeds (see NoneAuthentication: it travels as an empty password); any public
    // key and any password are accepted too, for clients that try those first.
    server.setServiceFactories(NoneAuthentication.serviceFactories());
    server.setUserAuthFactories(List.of(UserAuthPasswordFactory.INSTANCE, UserAuthPublicKeyFactory.INSTANCE));
    // Silent accept-all (the stock ones warn on every login).
    server.setPasswordAuthenticator((user, password, session) -> true);
    server.setPublickeyAuthenticator((user, key, session) -> true);
    server.setShellFactory(channel -> new ChannelProgram(null, settings, pumps, timer));
    server.setCommandFactory((channel, command) -> new ChannelProgram(command, settings, pumps, timer));
    server.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
    server.setForwardingFilter(ForwardingFilter.asForwardingFilter(
        RejectAllForwardingFilter.INSTANCE, RejectAllForwardingFilter.INSTANCE, new LoopbackOnly()));
    SandboxSshDaemon daemon = new SandboxSshDaemon(server, pumps, timer, settings);
    long started = System.nanoTime();
    try {
      startWithin(server, settings.listenTimeout());
      daemon.listening = true;
    } catch (IOException | RuntimeException e) {
      daemon.close();
      throw e;
    }
    log.info("SSH daemon listening on {} ({} ms)", settings.socketPath(),
        Duration.ofNanos(System.nanoTime() - started).toMillis());
    return daemon;
  }

  private static void startWithin(SshServer server, Duration timeout) throws IOException {
    var starting = java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        server.start();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    try {
      starting.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException("SSH server did not start listening within " + timeout.toSeconds() + "s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting the SSH server", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : e.getCause();
      throw new IOException("SSH server did not start listening: " + cause.getMessage(), cause);
    }
  }

  private static KeyPair newHostKey() throws IOException {
    try {
      var generator = SecurityUtils.getKeyPairGenerator(SecurityUtils.EDDSA);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot generate the Ed25519 host key", e);
    }
  }

  public SshDaemonSettings settings() {
    return settings;
  }

  @Override
  public void close() {
    try {
      server.stop(true);
    } catch (IOException e) {
      log.warn("stopping the SSH daemon: {}", e.toString());
    } finally {
      pumps.shutdownNow();
      timer.shutdownNow();
      if (listening) SocketPermissions.removeSocket(settings.socketPath());
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /** {@code direct-tcpip} to loopback only; no remote ({@code tcpip-forward}) listeners. */
  private static final class LoopbackOnly implements TcpForwardingFilter {
    @Override
    public boolean canListen(SshdSocketAddress address, Session session) {
      return false;
    }

    @Override
    public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
      boolean allowed = type == Type.Direct && LoopbackTargets.allows(address.getHostName(), address.getPort());
      if (!allowed) {
        log.info("refused {} forwarding to {}:{} (only loopback targets are allowed)", type, address.getHostName(), address.getPort());
      }
      return allowed;
    }
  }
}
