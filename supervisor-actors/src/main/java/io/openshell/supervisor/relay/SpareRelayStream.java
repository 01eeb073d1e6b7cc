package io.openshell.supervisor.relay;

import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.RelayFrame;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A {@code RelayStream} call started before the relay that will use it exists: its HEADERS are on
 * the wire and the gateway's handler already waits for the first frame, so a relay open that takes it
 * costs one Init frame instead of a new call (about 6 ms of an 11 ms open went to starting the call on
 * both sides; docs/benchmarks.md, "Relay open, hop by hop").
 *
 * <p>Until it is taken, nothing flows: the request side has no frames to send and the response side
 * requests none (the gateway sends none before an Init anyway), so it holds no bytes. {@link #attach}
 * puts a relay's two directions on it, fused into the call's own stream (no second stream actor and no
 * publisher hand-shake between the Init and the wire); {@link #cancel} resets the call. Whichever comes
 * first settles it, once: a spare carries at most one relay.
 *
 * <p>Owned by one actor at a time — the session that started it, then the RelayBridge it hands it to
 * in the spawn — so attach and cancel never race each other.
 */
public final class SpareRelayStream {
  private final long id;
  private final CompletableFuture<Source<RelayFrame, NotUsed>> requestFrames = new CompletableFuture<>();
  private final CompletableFuture<Flow<RelayFrame, NotUsed, CompletionStage<?>>> responseFrames = new CompletableFuture<>();
  private final CompletionStage<Done> ended;
  private final CompletionStage<CompletionStage<?>> relayAttached;

  private SpareRelayStream(long id, OpenShellClient client, Materializer materializer) {
    this.id = id;
    Pair<CompletionStage<Done>, CompletionStage<CompletionStage<?>>> call =
        client.relayStream(Source.completionStageSource(requestFrames).mapMaterializedValue(m -> NotUsed.getInstance()))
            .watchTermination(Keep.right())
            .viaMat(Flow.completionStageFlow(responseFrames), Keep.both())
            .to(Sink.ignore())
            .run(materializer);
    this.ended = call.first();
    this.relayAttached = call.second();
  }

  /** Starts the call now (on the session's connection: {@code client} is the session's client). */
  public static SpareRelayStream start(long id, OpenShellClient client, Materializer materializer) {
    return new SpareRelayStream(id, client, materializer);
  }

  /** Tells this spare from its predecessors and successors in the session that started it. */
  public long id() {
    return id;
  }

  /**
   * Completes when the call is over: the gateway ended or reset it (failed), it was cancelled, or the
   * relay that took it ended.
   */
  public CompletionStage<Done> ended() {
    return ended;
  }

  /**
   * Runs a relay on this call: {@code request} (Init first) goes to the gateway, the gateway's frames
   * go into {@code response}. Returns what {@code response} materializes to, or nothing when the call
   * is known to have ended or was cancelled: then neither was materialized and the relay needs a fresh
   * call. (A call whose end is still on its way here fails the relay like any call failing in flight.)
   */
  public Optional<CompletionStage<?>> attach(Source<RelayFrame, NotUsed> request, Sink<RelayFrame, ? extends CompletionStage<?>> response) {
    if (ended.toCompletableFuture().isDone()) {
      cancel();
      return Optional.empty();
    }
    // Coupled: the relay's sink ending (or its upstream) ends the spare's stream too, and a response that
    // completes without a single frame still reaches the sink as a completion.
    Flow<RelayFrame, NotUsed, CompletionStage<?>> intoRelay =
        Flow.fromSinkAndSourceCoupledMat(response, Source.<NotUsed>never(), (done, never) -> (CompletionStage<?>) done);
    if (!responseFrames.complete(intoRelay)) return Optional.empty();
    requestFrames.complete(request);
    return Optional.of(relayAttached.thenCompose(done -> done));
  }

  /** Resets the call if no relay took it (a no-op after {@link #attach}). */
  public void cancel() {
    CancellationException cancelled = new CancellationException("spare RelayStream " + id + " cancelled");
    if (responseFrames.completeExceptionally(cancelled)) requestFrames.completeExceptionally(cancelled);
  }
}
