package io.openshell.gateway.tunnel;

import io.openshell.gateway.relay.RelayConnection;
import java.util.Locale;
import java.util.UUID;
import org.apache.pekko.NotUsed;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The same tunnel as a WebSocket on the main port ({@code GET <connect-path>} with an upgrade), for
 * clients behind proxies that pass WebSockets but not CONNECT. Binary messages carry the bytes, in
 * either direction; a streamed (fragmented) message is forwarded as it arrives. Headers, codes and
 * counters are those of the CONNECT listener: the decision is made before the upgrade, so refusals
 * are plain HTTP responses.
 */
public final class WebSocketTunnel extends AllDirectives {
  private final ActorSystem<?> system;
  private final TunnelAdmission admission;
  private final ActorRef<TunnelDrain.Command> drain;

  /** Every bridged tunnel registers with {@code drain}, which lets it finish (up to a bound) when the gateway leaves. */
  public WebSocketTunnel(ActorSystem<?> system, TunnelAdmission admission, ActorRef<TunnelDrain.Command> drain) {
    this.system = system;
    this.admission = admission;
    this.drain = drain;
  }

  public Route route() {
    String path = admission.settings().connectPath();
    return extractRequest(request -> !request.getUri().path().equals(path) ? reject()
        : get(() -> extractWebSocketUpgrade(upgrade -> {
          ConnectRequest connect;
          try {
            connect = ConnectRequest.checked(header(request, ConnectRequest.SANDBOX_ID),
                header(request, ConnectRequest.SANDBOX_TOKEN));
          } catch (TunnelRefusal refusal) {
            return complete(response(refusal));
          }
          TunnelAdmission.Attempt attempt = admission.begin(connect, "websocket");
          return completeWithFuture(attempt.admitted().handle((relay, failure) -> {
            if (failure != null) {
              attempt.ended();
              Throwable cause = TunnelAdmission.cause(failure);
              return response(cause instanceof TunnelRefusal refusal ? refusal
                  : new TunnelRefusal(503, "the tunnel could not start; retry"));
            }
            return upgrade(upgrade, relay, attempt);
          }));
        })));
  }

  /**
   * The upgrade response carries the bridge; pekko-http runs it only if the response reaches the
   * client. If it does not start within the start timeout, the attempt ends there (lease released,
   * relay closed) and a late start gets an empty flow instead of a relay nobody counts.
   */
  private HttpResponse upgrade(WebSocketUpgrade upgrade, RelayConnection relay, TunnelAdmission.Attempt attempt) {
    CompletableFuture<Boolean> started = new CompletableFuture<>();
    system.scheduler().scheduleOnce(admission.settings().websocketStartTimeout(), () -> {
      if (started.complete(false)) {
        attempt.ended();
        Source.<ByteString>empty().runWith(relay.toSupervisor().getSink(), system);
        relay.fromSupervisor().getSource().runWith(Sink.cancelled(), system);
      }
    }, system.executionContext());
    Flow<Message, Message, ?> bridge = Flow.fromMaterializer((materializer, attributes) -> {
      if (!started.complete(true)) {
        return Flow.fromSinkAndSource(Sink.<Message>cancelled(), Source.<Message>empty());
      }
      Sink<Message, ?> toSandbox = Flow.<Message>create()
          .flatMapConcat(WebSocketTunnel::bytesOf)
          .to(relay.sink());
      Source<Message, ?> toClient = relay.fromSupervisor().getSource().map(bytes -> (Message) BinaryMessage.create(bytes));
      return Flow.fromSinkAndSourceCoupled(toSandbox, toClient)
          .viaMat(KillSwitches.single(), Keep.right())
          .watchTermination((killSwitch, done) -> {
            String connectionId = UUID.randomUUID().toString();
            drain.tell(new TunnelDrain.Opened(connectionId, "websocket", killSwitch));
            done.whenComplete((ok, failure) -> {
              attempt.ended();
              drain.tell(new TunnelDrain.Closed(connectionId));
            });
            return NotUsed.getInstance();
          });
    });
    return upgrade.handleMessagesWith(bridge);
  }

  /** A binary message's bytes as they arrive (strict or streamed); text is not part of the tunnel. */
  private static Source<ByteString, NotUsed> bytesOf(Message message) {
    if (message.isText()) {
      return Source.failed(new IllegalArgumentException("text messages are not tunnelled; send binary messages"));
    }
    return message.asBinaryMessage().getStreamedData().mapMaterializedValue(ignored -> NotUsed.getInstance());
  }

  /** The one value of a header; a header given twice is refused, as on the CONNECT port. */
  private static String header(HttpRequest request, String name) {
    String value = null;
    for (HttpHeader header : request.getHeaders()) {
      if (!header.lowercaseName().equals(name.toLowerCase(Locale.ROOT))) continue;
      if (value != null) throw new TunnelRefusal(400, name + " is given twice; send it once");
      value = header.value().strip();
    }
    return value;
  }

  private static HttpResponse response(TunnelRefusal refusal) {
    return HttpResponse.create().withStatus(refusal.status())
        .withEntity(ContentTypes.TEXT_PLAIN_UTF8, refusal.getMessage() + "\n");
  }
}
