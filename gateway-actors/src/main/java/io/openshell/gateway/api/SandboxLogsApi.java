package io.openshell.gateway.api;

import io.grpc.Status;
import io.openshell.gateway.logs.LogFilter;
import io.openshell.gateway.logs.LogSettings;
import io.openshell.gateway.logs.SandboxLogs;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxSettings;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.protocol.v1.GetSandboxLogsRequest;
import io.openshell.protocol.v1.GetSandboxLogsResponse;
import io.openshell.protocol.v1.PlatformEvent;
import io.openshell.protocol.v1.PushSandboxLogsRequest;
import io.openshell.protocol.v1.PushSandboxLogsResponse;
import io.openshell.protocol.v1.SandboxLogLine;
import io.openshell.protocol.v1.SandboxStreamEvent;
import io.openshell.protocol.v1.SandboxStreamWarning;
import io.openshell.protocol.v1.WatchSandboxRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * GetSandboxLogs, PushSandboxLogs and the logs/events half of WatchSandbox: request checks and the
 * conversation with {@link SandboxLogs}. {@link OpenShellService} delegates here.
 */
final class SandboxLogsApi {
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final ActorRef<SandboxLogs.Command> logs;
  private final LogSettings settings;
  private final SandboxSettings sandboxSettings;

  SandboxLogsApi(ActorSystem<?> system, ActorRef<SandboxLogs.Command> logs, LogSettings settings,
      SandboxSettings sandboxSettings) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.logs = logs;
    this.settings = settings;
    this.sandboxSettings = sandboxSettings;
  }

  CompletionStage<GetSandboxLogsResponse> get(GetSandboxLogsRequest in) {
    if (in.getSandboxId().isEmpty()) return failed(Status.Code.INVALID_ARGUMENT, "sandbox_id is required");
    LogFilter.Parsed parsed = LogFilter.parse(in.getSourcesList(), in.getMinLevel(), in.getSinceMs());
    if (parsed instanceof LogFilter.Invalid invalid) return failed(Status.Code.INVALID_ARGUMENT, invalid.message());
    LogFilter filter = ((LogFilter.Valid) parsed).filter();
    int lines = (int) Math.min(Integer.toUnsignedLong(in.getLines()), settings.maxLinesPerSandbox());
    return existing(in.getSandboxId())
        .thenCompose(view -> AskPattern.<SandboxLogs.Command, SandboxLogs.TailReply>ask(logs,
            replyTo -> new SandboxLogs.Tail(in.getSandboxId(), lines, filter, replyTo), sandboxSettings.askTimeout(),
            system.scheduler()))
        .thenApply(tail -> GetSandboxLogsResponse.newBuilder().addAllLogs(tail.lines())
            .setBufferTotal(tail.bufferTotal()).build());
  }

  /**
   * Each request's lines go to the buffer before the next request is read (backpressure to the
   * supervisor). Lines are stamped with the request's sandbox id: a supervisor cannot write into
   * another sandbox's logs by naming it inside a line, nor by naming it in a request: each sandbox id
   * is accepted only with that sandbox's supervisor credential (checked once per id and call).
   */
  CompletionStage<PushSandboxLogsResponse> push(Source<PushSandboxLogsRequest, NotUsed> in, Optional<String> credential) {
    byte[] presented = SupervisorCredential.digest(credential.orElse(null));
    Set<String> known = new HashSet<>();
    return in.mapAsync(1, request -> {
          String id = request.getSandboxId();
          if (id.isEmpty()) throw GrpcErrors.of(Status.Code.INVALID_ARGUMENT, "sandbox_id is required");
          CompletionStage<?> checked = known.contains(id)
              ? CompletableFuture.completedFuture(Done.getInstance())
              : sharding.entityRefFor(Sandbox.ENTITY_KEY, id)
                  .<Done>askWithStatus(replyTo -> new Sandbox.VerifySupervisor(presented, replyTo), sandboxSettings.askTimeout())
                  .thenApply(verified -> known.add(id));
          return checked.thenCompose(ok -> AskPattern.<SandboxLogs.Command, Done>ask(logs,
              replyTo -> new SandboxLogs.Push(id, stamped(id, request.getLogsList()), replyTo), sandboxSettings.askTimeout(),
              system.scheduler()));
        })
        .runWith(Sink.ignore(), system)
        .thenApply(done -> PushSandboxLogsResponse.getDefaultInstance());
  }

  /** Follows logs and/or events of one sandbox: the tails first, then whatever comes, until it is removed. */
  Source<SandboxStreamEvent, NotUsed> follow(WatchSandboxRequest in, LogFilter filter) {
    String id = in.getId();
    String followerId = UUID.randomUUID().toString();
    boolean followLogs = in.getFollowLogs();
    boolean followEvents = in.getFollowEvents();
    LogFilter since = new LogFilter(filter.sources(), filter.minLevelRank(), Math.max(filter.sinceMs(), in.getLogSinceMs()));
    Duration wait = settings.followWait().plus(sandboxSettings.askTimeout());
    CompletionStage<SandboxLogs.Batch> start = AskPattern.ask(logs,
        replyTo -> new SandboxLogs.StartFollow(id, followLogs ? (int) Math.min(Integer.toUnsignedLong(in.getLogTailLines()), settings.maxLinesPerSandbox()) : 0,
            since, followEvents ? (int) Math.min(Integer.toUnsignedLong(in.getEventTail()), settings.maxEventsPerSandbox()) : 0, replyTo),
        sandboxSettings.askTimeout(), system.scheduler());
    return Source.completionStage(start).flatMapConcat(first -> {
      Cursor initial = new Cursor(followLogs ? first.logCursor() : Long.MAX_VALUE,
          followEvents ? first.eventCursor() : Long.MAX_VALUE, first.ended());
      Source<SandboxLogs.Batch, NotUsed> rest = Source.unfoldAsync(initial, cursor -> {
        if (cursor.ended()) return CompletableFuture.completedFuture(Optional.empty());
        return AskPattern.<SandboxLogs.Command, SandboxLogs.Batch>ask(logs,
                replyTo -> new SandboxLogs.Follow(followerId, id, cursor.logs(), cursor.events(), since, replyTo), wait,
                system.scheduler())
            // A busy gateway that did not answer in time is asked again from the same place.
            .exceptionally(failure -> new SandboxLogs.Batch(List.of(), List.of(), cursor.logs(), cursor.events(), 0, 0, false))
            .thenApply(batch -> Optional.of(Pair.create(
                new Cursor(batch.logCursor(), batch.eventCursor(), batch.ended()), batch)));
      });
      return Source.single(first).concat(rest).mapConcat(this::streamEvents);
    });
  }

  private record Cursor(long logs, long events, boolean ended) {}

  /** A batch as stream events, oldest first; a warning first when the bound evicted entries unread. */
  private List<SandboxStreamEvent> streamEvents(SandboxLogs.Batch batch) {
    List<SandboxStreamEvent> out = new ArrayList<>();
    if (batch.missedLines() > 0) {
      out.add(warning(batch.missedLines() + " log line" + (batch.missedLines() == 1 ? " was" : "s were")
          + " dropped before this watcher read them (the gateway keeps at most " + settings.maxLinesPerSandbox()
          + " lines and " + settings.maxBytesPerSandbox() / 1024 + " KiB per sandbox)"));
    }
    if (batch.missedEvents() > 0) {
      out.add(warning(batch.missedEvents() + " platform event(s) were dropped before this watcher read them"));
    }
    List<Pair<Long, SandboxStreamEvent>> timed = new ArrayList<>();
    for (SandboxLogLine line : batch.lines()) {
      timed.add(Pair.create(line.getTimestampMs(), SandboxStreamEvent.newBuilder().setLog(line).build()));
    }
    for (PlatformEvent event : batch.events()) {
      timed.add(Pair.create(event.getTimestampMs(), SandboxStreamEvent.newBuilder().setEvent(event).build()));
    }
    if (!batch.lines().isEmpty() && !batch.events().isEmpty()) timed.sort(Comparator.comparing(Pair::first));
    for (Pair<Long, SandboxStreamEvent> event : timed) out.add(event.second());
    return out;
  }

  private static SandboxStreamEvent warning(String message) {
    return SandboxStreamEvent.newBuilder().setWarning(SandboxStreamWarning.newBuilder().setMessage(message)).build();
  }

  private static List<SandboxLogLine> stamped(String sandboxId, List<SandboxLogLine> lines) {
    List<SandboxLogLine> out = new ArrayList<>(lines.size());
    for (SandboxLogLine line : lines) {
      out.add(line.getSandboxId().equals(sandboxId) ? line : line.toBuilder().setSandboxId(sandboxId).build());
    }
    return out;
  }

  private CompletionStage<SandboxView> existing(String sandboxId) {
    return sharding.entityRefFor(Sandbox.ENTITY_KEY, sandboxId)
        .askWithStatus(Sandbox.Get::new, sandboxSettings.askTimeout());
  }

  private static <T> CompletionStage<T> failed(Status.Code code, String message) {
    return CompletableFuture.failedFuture(GrpcErrors.of(code, message));
  }
}
