package io.openshell.supervisor.relay;

import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.RelayFrame;
import io.openshell.protocol.v1.RelayInit;
import io.openshell.supervisor.ocsf.NetworkActivities;
import io.openshell.supervisor.ocsf.NetworkActivity;
import io.openshell.supervisor.ocsf.OcsfLog;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * One relay channel inside the sandbox: a child of the gateway session. Connects the SSH daemon's
 * Unix socket first (without blocking when the kernel can complete it at once, else on the blocking
 * dispatcher) — so a daemon that is not there is reported as {@code RelayOpenResult{success=false}}
 * and the waiting client fails at once — then sends Init on the session's spare {@code RelayStream}
 * call when it was handed one ({@link SpareRelayStream}), else on a new call on the session's
 * connection, and bridges both ways with backpressure in frames of at most {@code frameSize} bytes.
 */
public final class RelayBridge {
  private RelayBridge() {}

  public interface Command {}

  /** RelayClose from the gateway. */
  public record Close(String reason) implements Command {}

  private record SocketConnected(SocketChannel socket) implements Command {}

  private record SocketFailed(Throwable cause) implements Command {}

  private record Finished(Throwable failure) implements Command {}

  /** What the bridge tells its session (which owns the control stream). */
  public sealed interface Report {
    String channelId();
  }

  /** The SSH socket could not be reached: send RelayOpenResult{success=false, error}. */
  public record OpenFailed(String channelId, String error) implements Report {}

  /** The bridge ended (both directions done, or failed). */
  public record Ended(String channelId) implements Report {}

  /**
   * @param socketWriteBatch most bytes from the gateway written to the socket in one call (frames that
   *     arrived while the previous write was busy)
   */
  public static Behavior<Command> create(OpenShellClient client, String channelId, Path sshSocket, int frameSize,
      int socketWriteBatch, ActorRef<Report> session) {
    return create(client, Optional.empty(), channelId, sshSocket, frameSize, socketWriteBatch, session);
  }

  /**
   * @param spare a {@code RelayStream} call the session started ahead (now owned by this bridge: used
   *     for this relay or cancelled); without one, or when it has ended meanwhile, a new call on {@code client}
   */
  public static Behavior<Command> create(OpenShellClient client, Optional<SpareRelayStream> spare, String channelId,
      Path sshSocket, int frameSize, int socketWriteBatch, ActorRef<Report> session) {
    RelayCall call = new RelayCall(client, spare);
    return Behaviors.setup(context -> {
      // Almost always connected here, in the actor: a non-blocking connect that the kernel completes at
      // once. Only a daemon with a full accept backlog (or none at all) costs the two thread hops to the
      // blocking dispatcher and back, measured at about 0.6 ms of a relay open.
      SocketChannel now = UnixSocketStreams.connectNow(sshSocket);
      if (now != null) return bridge(context, call, channelId, now, frameSize, socketWriteBatch, session);
      Executor blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
      context.pipeToSelf(CompletableFuture.supplyAsync(() -> {
        try {
          return UnixSocketStreams.connect(sshSocket);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }, blocking), (socket, failure) -> failure == null ? new SocketConnected(socket) : new SocketFailed(failure));
      return connecting(context, call, channelId, sshSocket, frameSize, socketWriteBatch, session);
    });
  }

  private static Behavior<Command> connecting(ActorContext<Command> context, RelayCall call, String channelId,
      Path sshSocket, int frameSize, int socketWriteBatch, ActorRef<Report> session) {
    return Behaviors.receive(Command.class)
        .onMessage(SocketFailed.class, failed -> {
          Throwable cause = failed.cause() instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : failed.cause();
          String error = "cannot connect to the SSH socket " + sshSocket + ": " + cause.getMessage();
          emit(NetworkActivities.relayFailed(channelId, error));
          call.cancel();
          session.tell(new OpenFailed(channelId, error));
          session.tell(new Ended(channelId));
          return Behaviors.stopped();
        })
        .onMessage(SocketConnected.class, connected -> bridge(context, call, channelId, connected.socket(), frameSize, socketWriteBatch, session))
        .onMessage(Close.class, close -> {
          emit(NetworkActivities.relayClosedByGateway(channelId, close.reason()));
          call.cancel();
          session.tell(new Ended(channelId));
          return Behaviors.stopped();
        })
        // Stopped with its session: a spare it holds goes with it.
        .onSignal(PostStop.class, stopped -> {
          call.cancel();
          return Behaviors.same();
        })
        .build();
  }

  private static Behavior<Command> bridge(ActorContext<Command> context, RelayCall call, String channelId,
      SocketChannel socket, int frameSize, int socketWriteBatch, ActorRef<Report> session) {
    RelayFrame init = RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channelId)).build();
    SharedKillSwitch killSwitch = KillSwitches.shared("relay-" + channelId);
    var toGateway = UnixSocketStreams.reads(socket, frameSize,
            (read, length) -> RelayFrame.newBuilder().setData(RelayBytes.fromSocketRead(read, length)).build())
        .via(killSwitch.flow());
    Source<RelayFrame, NotUsed> request = Source.single(init).concat(toGateway);
    CompletionStage<?> done = call.run(request, Flow.<RelayFrame>create()
        .takeWhile(RelayFrame::hasData)
        .map(frame -> RelayBytes.fromFrameData(frame.getData()))
        // Frames that arrive while the socket write is busy go in the next write together: one blocking
        // write and one hand-off to the I/O thread per frame capped bulk relays (docs/benchmarks.md).
        .batchWeighted(socketWriteBatch, bytes -> (long) bytes.size(), bytes -> bytes, ByteString::concat)
        .toMat(UnixSocketStreams.writes(socket)
            // One batch queued for the writer: the next one grows above while it writes.
            .addAttributes(Attributes.inputBuffer(1, 1)), Keep.right()), context.getSystem());
    emit(NetworkActivities.relayOpen(channelId));
    context.pipeToSelf(done, (ok, failure) -> new Finished(failure));
    return Behaviors.receive(Command.class)
        .onMessage(Finished.class, finished -> {
          // The gateway's direction is over; the daemon's direction ends when it closes its side.
          killSwitch.shutdown();
          closeQuietly(socket);
          if (finished.failure() == null) {
            emit(NetworkActivities.relayClosed(channelId));
          } else {
            emit(NetworkActivities.relayFailed(channelId, String.valueOf(finished.failure().getMessage())));
          }
          session.tell(new Ended(channelId));
          return Behaviors.stopped();
        })
        .onMessage(Close.class, close -> {
          emit(NetworkActivities.relayClosedByGateway(channelId, close.reason()));
          killSwitch.shutdown();
          closeQuietly(socket);
          session.tell(new Ended(channelId));
          return Behaviors.stopped();
        })
        .build();
  }

  /** Where a relay's frames go: the spare call the session handed over, while it lasts, else a new call. */
  private record RelayCall(OpenShellClient client, Optional<SpareRelayStream> spare) {
    CompletionStage<?> run(Source<RelayFrame, NotUsed> request, Sink<RelayFrame, ? extends CompletionStage<?>> response,
        ClassicActorSystemProvider system) {
      Optional<CompletionStage<?>> onSpare = spare.flatMap(s -> s.attach(request, response));
      return onSpare.orElseGet(() -> client.relayStream(request).runWith(response, system));
    }

    /** The relay will not run: a spare it was handed must not stay open. */
    void cancel() {
      spare.ifPresent(SpareRelayStream::cancel);
    }
  }

  private static void closeQuietly(SocketChannel socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed by the other direction
    }
  }

  private static void emit(NetworkActivity event) {
    if (event.activity() == NetworkActivity.Activity.FAIL) OcsfLog.emitWarning(event);
    else OcsfLog.emit(event);
  }
}
