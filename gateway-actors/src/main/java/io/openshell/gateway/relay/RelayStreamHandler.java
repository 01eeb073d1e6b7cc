package io.openshell.gateway.relay;

import io.grpc.Status;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.protocol.v1.RelayFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SinkRef;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;

/**
 * Serves one {@code RelayStream} call from a supervisor: checks the Init frame, claims the channel's
 * Relay actor, and exposes the two byte directions as stream references for the client side.
 * Backpressure runs end to end: nothing here buffers more than the stream refs' bounded windows.
 */
public final class RelayStreamHandler {
  private final ActorSystem<?> system;
  private final ActorRef<RelayDirectory.Command> directory;
  private final int frameSize;
  private final boolean requireCredential;

  public RelayStreamHandler(ActorSystem<?> system, ActorRef<RelayDirectory.Command> directory, int frameSize) {
    this(system, directory, frameSize, true);
  }

  public RelayStreamHandler(ActorSystem<?> system, ActorRef<RelayDirectory.Command> directory, int frameSize,
      boolean requireCredential) {
    this.system = system;
    this.directory = directory;
    this.frameSize = frameSize;
    this.requireCredential = requireCredential;
  }

  /** {@code credential}: what the caller sent as {@link SupervisorCredential#METADATA_KEY} (empty: nothing). */
  public Source<RelayFrame, NotUsed> serve(Source<RelayFrame, NotUsed> in, Optional<String> credential) {
    byte[] presented = SupervisorCredential.digest(credential.orElse(null));
    return in.prefixAndTail(1).flatMapConcat(headAndTail -> {
      List<RelayFrame> head = headAndTail.first();
      if (head.isEmpty()) return Source.failed(problem(Status.Code.INVALID_ARGUMENT, "empty RelayStream"));
      RelayFrame first = head.get(0);
      if (!first.hasInit() || first.getInit().getChannelId().isEmpty()) {
        return Source.failed(problem(Status.Code.INVALID_ARGUMENT, "first RelayFrame must be init with non-empty channel_id"));
      }
      return bridge(first.getInit().getChannelId(), presented, headAndTail.second());
    });
  }

  /**
   * Refused unless the supervisor presents the credential the channel's session was accepted with:
   * then a supervisor that learned another sandbox's channel id cannot take its relay, and its attempt
   * leaves the relay unclaimed for the real supervisor.
   */
  private SandboxProblem refusal(RelayDirectory.Entry entry, byte[] presented) {
    if (!requireCredential) return null;
    if (presented == null) {
      return problem(Status.Code.UNAUTHENTICATED, "no sandbox credential: send the sandbox's credential in the "
          + SupervisorCredential.METADATA_KEY + " metadata, as on ConnectSupervisor");
    }
    if (!SupervisorCredential.matches(presented, entry.credentialDigest())) {
      return problem(Status.Code.PERMISSION_DENIED, "relay channel belongs to another sandbox's supervisor session");
    }
    return null;
  }

  private Source<RelayFrame, NotUsed> bridge(String channelId, byte[] presented, Source<RelayFrame, NotUsed> frames) {
    // Asked first: the directory answers while the two directions below are materialized.
    CompletionStage<Optional<RelayDirectory.Entry>> found = lookup(channelId);
    // Supervisor -> client: data frames in order, empty ones skipped; any other frame ends this direction.
    CompletableFuture<ActorRef<Relay.Command>> claimedRelay = new CompletableFuture<>();
    CompletableFuture<Done> inboundEnded = new CompletableFuture<>();
    Pair<UniqueKillSwitch, SourceRef<org.apache.pekko.util.ByteString>> inbound = frames
        .takeWhile(RelayFrame::hasData)
        .filter(frame -> !frame.getData().isEmpty())
        .map(frame -> RelayBytes.fromFrameData(frame.getData()))
        // One stream-ref element for the frames that arrive together (up to 64 KiB), not one per 16 KiB
        // frame; a frame over the element size (a supervisor may send up to the gRPC message limit) is cut.
        .via(new CoalesceReadyBytes(RelayConnection.MAX_ELEMENT_BYTES))
        .viaMat(KillSwitches.single(), Keep.right())
        // When the supervisor's direction is over the relay actor has nothing left to close.
        .watchTermination((killSwitch, ended) -> {
          // Only a claimed relay couples its directions: a refused claim must reach the supervisor as its error.
          ended.whenComplete((done, failure) -> claimedRelay.thenAccept(relay -> {
            inboundEnded.complete(Done.getInstance());
            relay.tell(Relay.StreamEnded.INSTANCE);
          }));
          return killSwitch;
        })
        .toMat(StreamRefs.sourceRef(), Keep.both())
        .run(system);
    // Client -> supervisor: whatever the client writes into the sink ref, cut into frames.
    Pair<SinkRef<org.apache.pekko.util.ByteString>, Source<org.apache.pekko.util.ByteString, NotUsed>> outbound =
        StreamRefs.<org.apache.pekko.util.ByteString>sinkRef().preMaterialize(system);

    CompletionStage<Done> claimed = found
        .thenCompose(entry -> {
          if (entry.isEmpty()) {
            return CompletableFuture.<Done>failedFuture(new SandboxProblem(Status.Code.NOT_FOUND, "unknown or expired relay channel"));
          }
          SandboxProblem refused = refusal(entry.get(), presented);
          if (refused != null) {
            system.log().warn("relay claim refused channel_id={}: {} {}", channelId, refused.code(), refused.getMessage());
            return CompletableFuture.<Done>failedFuture(refused);
          }
          ActorRef<Relay.Command> relay = entry.get().relay();
          return claim(relay, inbound.second(), outbound.first(), inbound.first()).thenApply(done -> {
            claimedRelay.complete(relay);
            return done;
          });
        })
        .whenComplete((done, failure) -> {
          if (failure != null) inbound.first().abort(failure);
        });

    return Source.completionStage(claimed)
        .flatMapConcat(done -> outbound.second())
        // A client that stopped taking the supervisor's bytes is gone: end this direction with it. Otherwise a
        // client whose connection broke (a reset CONNECT tunnel) left the supervisor's RelayStream open for
        // good, and after max-concurrent-streams of them no relay could open on that supervisor's connection.
        .merge(Source.completionStage(inboundEnded).flatMapConcat(ended -> Source.<org.apache.pekko.util.ByteString>empty()), true)
        .mapConcat(this::frames)
        .map(chunk -> RelayFrame.newBuilder().setData(RelayBytes.toFrameData(chunk)).build());
  }

  private CompletionStage<Done> claim(ActorRef<Relay.Command> relay, SourceRef<org.apache.pekko.util.ByteString> fromSupervisor,
      SinkRef<org.apache.pekko.util.ByteString> toSupervisor, UniqueKillSwitch inbound) {
    return AskPattern.<Relay.Command, org.apache.pekko.pattern.StatusReply<Done>>ask(relay,
            replyTo -> new Relay.Claim(fromSupervisor, toSupervisor, inbound, replyTo), Duration.ofSeconds(15), system.scheduler())
        .thenCompose(reply -> reply.isSuccess()
            ? CompletableFuture.completedFuture(Done.getInstance())
            : CompletableFuture.failedFuture(reply.getError()));
  }

  private CompletionStage<Optional<RelayDirectory.Entry>> lookup(String channelId) {
    return AskPattern.ask(directory, replyTo -> new RelayDirectory.Lookup(channelId, replyTo),
        Duration.ofSeconds(10), system.scheduler());
  }

  private List<org.apache.pekko.util.ByteString> frames(org.apache.pekko.util.ByteString bytes) {
    if (bytes.size() <= frameSize) return List.of(bytes);
    List<org.apache.pekko.util.ByteString> chunks = new ArrayList<>(bytes.size() / frameSize + 1);
    for (int from = 0; from < bytes.size(); from += frameSize) chunks.add(bytes.slice(from, Math.min(bytes.size(), from + frameSize)));
    return chunks;
  }

  private static SandboxProblem problem(Status.Code code, String message) {
    return new SandboxProblem(code, message);
  }
}
