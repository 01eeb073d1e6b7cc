package io.openshell.gateway.tunnel;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.TLSClosing;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * The {@code CONNECT /connect/ssh} tunnel on its own raw TCP port (pekko-http refuses CONNECT,
 * STACK.md). Per connection: read one bounded request head, admit it, answer
 * {@code 200 Connection Established} and bridge bytes with the relay until either side closes; or
 * answer a small error response and close.
 *
 * <p>Each connection is one stream: the head reader feeds a sink that is chosen once the decision is
 * in (the relay, or a drain), and the output is a source chosen the same way (the 200 line and the
 * relay's bytes, or the error response). Until then both sides backpressure; nothing is buffered
 * beyond the head.
 */
public final class SshTunnelServer {
  static final ByteString ESTABLISHED = ByteString.fromString("HTTP/1.1 200 Connection Established\r\n\r\n",
      StandardCharsets.US_ASCII);
  private static final int BACKLOG = 1024;

  private final ActorSystem<?> system;
  private final TunnelAdmission admission;
  private final TunnelSettings settings;
  private final ActorRef<TunnelDrain.Command> drain;

  private SshTunnelServer(ActorSystem<?> system, TunnelAdmission admission, ActorRef<TunnelDrain.Command> drain) {
    this.system = system;
    this.admission = admission;
    this.settings = admission.settings();
    this.drain = drain;
  }

  /**
   * Binds {@code ssh-tunnel.host:port} (port 0: a free one; the binding tells which), speaking TLS with
   * engines from {@code tls} when given. Every connection registers with {@code drain}, which lets it
   * finish (up to a bound) when the gateway leaves.
   */
  public static CompletionStage<Tcp.ServerBinding> bind(ActorSystem<?> system, TunnelAdmission admission,
      ActorRef<TunnelDrain.Command> drain, Optional<Supplier<SSLEngine>> tls) {
    SshTunnelServer server = new SshTunnelServer(system, admission, drain);
    TunnelSettings settings = admission.settings();
    // halfClose off (plaintext) / eager close (TLS): a client that closes its side ends the tunnel, as upstream's does.
    var connections = tls.isPresent()
        ? Tcp.get(system).bindWithTls(settings.host(), settings.port(), tls.get(), BACKLOG, List.of(), Optional.empty(),
            session -> Optional.empty(), TLSClosing.eagerClose())
        : Tcp.get(system).bind(settings.host(), settings.port(), BACKLOG, List.of(), false, Optional.empty());
    return connections
        .to(Sink.foreach(connection -> connection.handleWith(server.connection(), system)))
        .run(system);
  }

  private Flow<ByteString, ByteString, NotUsed> connection() {
    CompletableFuture<Sink<ByteString, NotUsed>> toSandbox = new CompletableFuture<>();
    CompletableFuture<Source<ByteString, NotUsed>> toClient = new CompletableFuture<>();
    Sink<ByteString, CompletionStage<ByteString>> inbound =
        Flow.fromGraph(new RequestHeadReader(settings.maxRequestHeadBytes(), settings.requestHeadTimeout()))
            .toMat(Sink.completionStageSink(toSandbox), Keep.left());
    Source<ByteString, NotUsed> outbound = Source.completionStageSource(toClient)
        .mapMaterializedValue(ignored -> NotUsed.getInstance());
    // The kill switch is how a draining gateway closes a tunnel that outlived the drain bound.
    return Flow.fromSinkAndSourceCoupledMat(inbound, outbound, Keep.left())
        .viaMat(KillSwitches.single(), Keep.both())
        .watchTermination((headAndSwitch, done) -> {
          String connectionId = UUID.randomUUID().toString();
          drain.tell(new TunnelDrain.Opened(connectionId, "connect", headAndSwitch.second()));
          done.whenComplete((ok, failure) -> drain.tell(new TunnelDrain.Closed(connectionId)));
          serve(headAndSwitch.first(), done, toSandbox, toClient);
          return NotUsed.getInstance();
        });
  }

  private void serve(CompletionStage<ByteString> head, CompletionStage<?> done,
      CompletableFuture<Sink<ByteString, NotUsed>> toSandbox, CompletableFuture<Source<ByteString, NotUsed>> toClient) {
    head.whenComplete((bytes, failure) -> {
      if (failure != null) {
        answer(TunnelAdmission.cause(failure), toSandbox, toClient);
        return;
      }
      ConnectRequest request;
      try {
        request = ConnectRequest.parse(bytes, settings.connectPath());
      } catch (TunnelRefusal refusal) {
        answer(refusal, toSandbox, toClient);
        return;
      }
      TunnelAdmission.Attempt attempt = admission.begin(request, "connect");
      done.whenComplete((ok, closed) -> attempt.ended());
      attempt.admitted().whenComplete((relay, refused) -> {
        if (refused != null) {
          answer(TunnelAdmission.cause(refused), toSandbox, toClient);
          return;
        }
        // The bytes that came right after the head are the first ones the sandbox sees.
        toSandbox.complete(relay.sink());
        toClient.complete(Source.single(ESTABLISHED).concat(relay.fromSupervisor().getSource()));
      });
    });
  }

  /** A refusal gets its response, then the connection closes; anything else just closes. */
  private static void answer(Throwable cause, CompletableFuture<Sink<ByteString, NotUsed>> toSandbox,
      CompletableFuture<Source<ByteString, NotUsed>> toClient) {
    toSandbox.complete(Sink.<ByteString>ignore().mapMaterializedValue(ignored -> NotUsed.getInstance()));
    toClient.complete(cause instanceof TunnelRefusal refusal ? Source.single(refusal.toHttp()) : Source.<ByteString>empty());
  }
}
