package io.openshell.gateway.exec;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.protocol.v1.ExecSandboxEvent;
import io.openshell.protocol.v1.ExecSandboxExit;
import io.openshell.protocol.v1.ExecSandboxStderr;
import io.openshell.protocol.v1.ExecSandboxStdout;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.StreamingChannel;
import org.apache.sshd.common.io.IoInputStream;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.core.CoreModuleProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one command in a sandbox over a claimed relay with MINA SSHD's client: exec with stdin then
 * EOF, stdout/stderr as events read only on demand (a slow gRPC reader slows the remote command, gateway
 * memory stays bounded by the SSH window), the exit status always last.
 *
 * <p>MINA's client needs a socket, so each exec gets a one-shot loopback listener bridged to the relay.
 * Another local process could race to connect to it; the accepted peer must be the SSH client's own
 * socket (its local address) before any byte of the sandbox's SSH service is handed over.
 */
public final class ExecRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExecRunner.class);

  private final ActorSystem<?> system;
  private final ExecSettings settings;
  private final Executor blocking;
  private final SshClient client;

  private ExecRunner(ActorSystem<?> system, ExecSettings settings, Executor blocking, SshClient client) {
    this.system = system;
    this.settings = settings;
    this.blocking = blocking;
    this.client = client;
  }

  public static ExecRunner start(ActorSystem<?> system, ExecSettings settings, Executor blocking) {
    SshClient client = SshClient.setUpDefaultClient();
    // The relay, which only the sandbox's own supervisor can claim, is what authenticates the host;
    // its per-start key has nothing to verify against (the stock accept-all verifier warns per exec).
    client.setServerKeyVerifier((session, address, key) -> true);
    // The SSH handshake is a chain of small messages through the relay: no Nagle delay on the loopback hop.
    CoreModuleProperties.TCP_NODELAY.set(client, true);
    CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, settings.keepaliveInterval());
    CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, settings.keepaliveMaxMissed());
    // The sandbox daemon authorizes nothing itself (the gateway did): upstream's client sends auth
    // "none", which the daemon grants. MINA's client has no "none" method (and refuses an empty
    // password); a placeholder password, which the daemon also grants, is the same single round trip
    // with no signature to compute.
    client.setUserAuthFactories(java.util.List.of(org.apache.sshd.client.auth.password.UserAuthPasswordFactory.INSTANCE));
    client.start();
    return new ExecRunner(system, settings, blocking, client);
  }

  public ExecSettings settings() {
    return settings;
  }

  /** The events of one command; the stream ends after Exit, or fails UNAVAILABLE if the relay dies first. */
  public Source<ExecSandboxEvent, NotUsed> run(String sandboxId, RelayConnection relay, String command, byte[] stdin,
      boolean tty, int timeoutSeconds, long requestedAtNanos) {
    long relayReadyAt = System.nanoTime();
    long[] sshReadyAt = {0};
    long[] channelOpenAt = {0};
    CompletableFuture<ClientSession> sessionRef = new CompletableFuture<>();
    CompletableFuture<ChannelExec> channelRef = new CompletableFuture<>();
    CompletionStage<ChannelExec> opened = connect(relay)
        .whenComplete((session, failure) -> {
          sshReadyAt[0] = System.nanoTime();
          if (session != null) sessionRef.complete(session);
        })
        .thenCompose(session -> open(session, command, tty, stdin))
        .whenComplete((channel, failure) -> {
          channelOpenAt[0] = System.nanoTime();
          if (channel != null) channelRef.complete(channel);
        });

    Source<ExecSandboxEvent, NotUsed> events = Source.completionStage(opened).flatMapConcat(channel -> {
      Source<ExecSandboxEvent, NotUsed> output = read(channel.getAsyncOut(), true);
      if (!tty) output = output.merge(read(channel.getAsyncErr(), false));
      // The bounded wait for the exit status starts when the output has ended, however long a slow
      // client takes to read it (concat materializes its second source up front).
      CompletableFuture<Void> outputEnded = new CompletableFuture<>();
      return output
          .watchTermination((notUsed, done) -> {
            done.whenComplete((ok, failure) -> outputEnded.complete(null));
            return notUsed;
          })
          .concat(Source.completionStage(outputEnded.thenCompose(ended -> exit(channel))));
    });
    if (timeoutSeconds > 0) {
      ExecSandboxEvent timedOut = exitEvent(ExitCodes.TIMED_OUT);
      events = events.merge(Source.single(timedOut).initialDelay(Duration.ofSeconds(timeoutSeconds)), true);
    }
    return events
        .takeWhile(event -> !event.hasExit(), true)
        .watchTermination((notUsed, done) -> {
          done.whenComplete((ok, failure) -> {
            // Closing the channel makes the sandbox daemon hang up and then kill the command's process
            // group: on timeout, on client cancel, and after a normal exit alike.
            channelRef.thenAccept(channel -> channel.close(true));
            sessionRef.thenAccept(session -> session.close(true));
            opened.toCompletableFuture().cancel(false);
            if (failure != null) log.info("exec ended sandbox_id={} channel_id={}: {}", sandboxId, relay.channelId(), failure.toString());
            // Where an exec's time goes: relay open, SSH connection (kex + auth), channel open, the command.
            long end = System.nanoTime();
            log.info("exec finished sandbox_id={} channel_id={} relay_ms={} ssh_ms={} channel_ms={} command_ms={}", sandboxId,
                relay.channelId(), millis(requestedAtNanos, relayReadyAt), millis(relayReadyAt, sshReadyAt[0]),
                millis(sshReadyAt[0], channelOpenAt[0]), millis(channelOpenAt[0], end));
          });
          return notUsed;
        });
  }

  private CompletionStage<ClientSession> connect(RelayConnection relay) {
    var accepted = Tcp.get(system).bind("127.0.0.1", 0)
        .take(1)
        .toMat(Sink.head(), Keep.both())
        .run(system);
    return accepted.first().thenCompose(binding -> {
      CompletableFuture<ClientSession> session = new CompletableFuture<>();
      try {
        client.connect("sandbox", "127.0.0.1", binding.localAddress().getPort()).addListener(future -> {
          if (future.isConnected()) session.complete(future.getSession());
          else session.completeExceptionally(future.getException() != null ? future.getException() : new IllegalStateException("ssh connect failed"));
        });
      } catch (java.io.IOException e) {
        session.completeExceptionally(e);
      }
      return session.thenCombine(accepted.second(), (ssh, incoming) -> {
        binding.unbind();
        InetSocketAddress ours = (InetSocketAddress) ssh.getIoSession().getLocalAddress();
        if (!incoming.remoteAddress().equals(ours)) {
          ssh.close(true);
          throw new SandboxProblem(Status.Code.INTERNAL, "exec loopback was connected by another process; retry");
        }
        incoming.handleWith(Flow.fromSinkAndSourceCoupled(relay.sink(), relay.fromSupervisor().getSource()), system);
        return ssh;
      }).whenComplete((ssh, failure) -> {
        if (failure != null) binding.unbind();
      });
    }).thenCompose(ssh -> {
      CompletableFuture<ClientSession> authenticated = new CompletableFuture<>();
      try {
        ssh.addPasswordIdentity("none");
        ssh.auth().addListener(future -> {
          if (future.isSuccess()) authenticated.complete(ssh);
          else authenticated.completeExceptionally(relayDied("authentication with the sandbox failed", future.getException()));
        });
      } catch (java.io.IOException e) {
        authenticated.completeExceptionally(relayDied("authentication with the sandbox failed", e));
      }
      return authenticated.orTimeout(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    });
  }

  private CompletionStage<ChannelExec> open(ClientSession session, String command, boolean tty, byte[] stdin) {
    CompletableFuture<ChannelExec> opened = new CompletableFuture<>();
    try {
      ChannelExec channel = session.createExecChannel(command);
      if (tty) {
        channel.setUsePty(true);
        channel.setPtyType("xterm-256color");
      }
      channel.setStreaming(StreamingChannel.Streaming.Async);
      channel.open().addListener(future -> {
        if (!future.isOpened()) {
          opened.completeExceptionally(relayDied("the sandbox refused the exec channel", future.getException()));
          return;
        }
        // stdin, then EOF (closing the async input sends SSH EOF).
        var in = channel.getAsyncIn();
        try {
          if (stdin.length == 0) {
            in.close(false);
          } else {
            in.writeBuffer(new ByteArrayBuffer(stdin)).addListener(written -> in.close(false));
          }
          opened.complete(channel);
        } catch (java.io.IOException e) {
          opened.completeExceptionally(relayDied("could not send stdin", e));
        }
      });
    } catch (java.io.IOException e) {
      opened.completeExceptionally(relayDied("could not open the exec channel", e));
    }
    return opened.orTimeout(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One read per downstream pull: the SSH window, not the gateway heap, holds what the client has not read. */
  private Source<ExecSandboxEvent, NotUsed> read(IoInputStream stream, boolean stdout) {
    return Source.unfoldAsync(Boolean.TRUE, more -> {
      CompletableFuture<Optional<Pair<Boolean, ExecSandboxEvent>>> next = new CompletableFuture<>();
      ByteArrayBuffer buffer = new ByteArrayBuffer(settings.readChunkBytes(), false);
      stream.read(buffer).addListener(future -> {
        Throwable failure = future.getException();
        if (failure instanceof EOFException || (failure == null && future.getRead() < 0)) {
          next.complete(Optional.empty());
        } else if (failure != null) {
          // The channel closed under us (relay gone): the exit status decides what the client sees.
          log.info("exec {} read ended by {}", stdout ? "stdout" : "stderr", failure.toString());
          next.complete(Optional.empty());
        } else {
          byte[] bytes = Arrays.copyOfRange(buffer.array(), buffer.rpos(), buffer.wpos());
          ByteString data = ByteString.copyFrom(bytes);
          next.complete(Optional.of(Pair.create(Boolean.TRUE, stdout
              ? ExecSandboxEvent.newBuilder().setStdout(ExecSandboxStdout.newBuilder().setData(data)).build()
              : ExecSandboxEvent.newBuilder().setStderr(ExecSandboxStderr.newBuilder().setData(data)).build())));
        }
      });
      return next;
    });
  }

  private CompletionStage<ExecSandboxEvent> exit(ChannelExec channel) {
    return CompletableFuture.supplyAsync(() -> {
      Set<ClientChannelEvent> seen = channel.waitFor(
          EnumSet.of(ClientChannelEvent.EXIT_STATUS, ClientChannelEvent.EXIT_SIGNAL, ClientChannelEvent.CLOSED),
          settings.exitStatusWait());
      Integer status = channel.getExitStatus();
      if (status != null) return exitEvent(status);
      String signal = channel.getExitSignal();
      if (signal != null) return exitEvent(ExitCodes.forSignal(signal));
      throw relayDied(seen.contains(ClientChannelEvent.CLOSED)
          ? "the sandbox connection ended before the command's exit status"
          : "no exit status within " + settings.exitStatusWait().toSeconds() + " s after the output ended", null);
    }, blocking);
  }

  private static String millis(long from, long to) {
    return from == 0 || to == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f", (to - from) / 1e6);
  }

  private static ExecSandboxEvent exitEvent(int code) {
    return ExecSandboxEvent.newBuilder().setExit(ExecSandboxExit.newBuilder().setExitCode(code)).build();
  }

  private static SandboxProblem relayDied(String what, Throwable cause) {
    return new SandboxProblem(Status.Code.UNAVAILABLE, "supervisor relay failed: " + what
        + (cause == null ? "" : " (" + cause.getMessage() + ")"));
  }

  @Override
  public void close() {
    try {
      client.stop();
    } catch (RuntimeException e) {
      log.debug("exec client stop", e);
    }
  }
}
